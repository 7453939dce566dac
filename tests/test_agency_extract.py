"""Agency (partners') files against a real PostgreSQL: reconciliation, re-sends, PII, reruns.

These call the package's extract step directly, the function the DAG's load tasks call.
The clean run simulates 2016-06-08 to 2016-06-15 at scale 0.01: the first date carries
the division register (xlsx), the full low-income register (GBK), the literacy-event
backfill (UTF-8 BOM), subsidy rosters (xlsx) and payroll (UTF-8 BOM); 2016-06-10 subsidy
returns (GBK), electricity withholding (GBK) and payroll; 2016-06-15 the pension roster
(CSV, UTF-8 BOM). The defect run simulates 2016-06-10 alone with every file defective.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import polars as pl
import pytest

from puhui.config import load_settings
from puhui.extract import agency
from puhui.simulate import simulate
from puhui.simulate.defects import CSV_KINDS

DAY = dt.date(2016, 6, 10)
CLEAN_DAYS = (dt.date(2016, 6, 8), DAY, dt.date(2016, 6, 15))
ENTITIES = tuple(agency.ENTITIES)
# seed 12 with every file defective gives each partner-CSV defect kind on DAY
DEFECT_SEED = 12


def _settings(tmp_path, db: str, **extra):
    return load_settings(
        {
            **os.environ,
            "PUHUI_LANDING_DIR": str(tmp_path / "landing"),
            "PUHUI_WAREHOUSE_DB": db,
            **extra,
        }
    )


@pytest.fixture
def clean(tmp_path, warehouse):
    settings = _settings(tmp_path, "puhui_agency_tests")
    simulate(CLEAN_DAYS[0], CLEAN_DAYS[-1], scale=0.01, seed=DEFECT_SEED, out=settings.landing_dir)
    return settings


@pytest.fixture
def defective(tmp_path, warehouse):
    """A date whose partner files carry every partner-CSV defect kind (seed 12 does)."""
    for seed in (DEFECT_SEED, *range(13, 20)):  # robust to changes of the simulator's draws
        # Partner files are small (a payroll file has a handful of rows): one bad row is far
        # above the default 5% reject threshold, which is not what these tests are about.
        settings = _settings(
            tmp_path / str(seed), "puhui_agency_defects", PUHUI_MAX_REJECT_RATES="agency.*=1.0"
        )
        simulate(DAY, DAY, scale=0.01, seed=seed, out=settings.landing_dir, defect_rate=1.0)
        manifest = json.loads((settings.landing_dir / "simulation.json").read_text("utf-8"))
        defects = [d for d in manifest["defects"] if "/AGY/" in d["file"]]
        if {d["kind"] for d in defects} == set(CSV_KINDS):
            return settings, defects
    pytest.fail("no seed gave every partner-CSV defect kind on one date")


def _load_all(settings, day: dt.date = DAY) -> dict[str, object]:
    results = {}
    for entity in ENTITIES:
        try:
            results[entity] = agency.extract_entity(entity, day, settings)
        except agency.PartnerFilesStopped as exc:
            results[entity] = exc
    return results


def _table(conn, entity: str, day: dt.date = DAY) -> list[tuple]:
    spec = agency.ENTITIES[entity]
    cur = conn.execute(f"select * from {spec.raw_table} where _business_date = %s", (day,))
    names = [c.name for c in cur.description]
    drop = {names.index(c) for c in ("_loaded_at", "_batch_id")}
    rows = [tuple(v for i, v in enumerate(row) if i not in drop) for row in cur.fetchall()]
    return sorted(rows, key=repr)


def _audit(conn, entity: str, day: dt.date = DAY):
    return conn.execute(
        "select status, rows_read, rows_loaded, rows_quarantined, source_file, error"
        " from ops.load_audit where source_system = 'agency' and table_name = %s"
        " and business_date = %s order by batch_id",
        (entity, day),
    ).fetchall()


def test_discovery_skips_files_still_arriving(clean):
    folder = agency.batch_dir(clean.landing_dir, DAY)
    payroll = sorted(folder.glob("AGY_PAYROLL_*.csv"))
    (folder / (payroll[0].name + ".part")).write_bytes(b"")
    (folder / "README.txt").write_text("not a partner file")
    (folder / "AGY_FINLIT_20160611.csv.part").write_bytes(b"")  # a first upload
    with pytest.raises(agency.PartnerFilesInProgress, match=payroll[0].name):
        agency.discover_partner_files(DAY, clean)
    found = agency.discover_partner_files(DAY, clean, require_complete=False)
    assert set(found["in_progress"]) == {payroll[0].name, "AGY_FINLIT_20160611.csv"}
    assert payroll[0].name not in found["payroll"]
    assert found["payroll"] == [p.name for p in payroll[1:]]
    assert found["unrecognised"] == ["README.txt"]
    assert agency.discover_partner_files(dt.date(2016, 6, 2), clean)["payroll"] == []


def test_clean_days_load_completely_and_a_rerun_is_identical(clean):
    from puhui import db

    kinds_seen = set()
    for day in CLEAN_DAYS:
        found = agency.discover_partner_files(day, clean)
        kinds_seen |= {kind for kind in agency.LAYOUTS if found[kind]}
        results = _load_all(clean, day)
        with db.connect(clean) as conn:
            for entity, result in results.items():
                spec = agency.ENTITIES[entity]
                assert not isinstance(result, Exception), result
                assert result.rows_quarantined == 0, (entity, day, result.top_reasons)
                rows = _table(conn, entity, day)
                assert result.rows_read == result.rows_loaded == len(rows)
                assert (len(rows) > 0) == bool(found[spec.layout]), (entity, day)
                assert [a[:4] for a in _audit(conn, entity, day)] == [
                    ("loaded", result.rows_read, result.rows_read, 0)
                ]
                # every file of the layout reached the table, each row naming its own file
                files = conn.execute(
                    f"select distinct _source_file from {spec.raw_table} where _business_date = %s",
                    (day,),
                ).fetchall()
                assert sorted(os.path.basename(f) for (f,) in files) == found[spec.layout]
    assert kinds_seen == set(agency.LAYOUTS)

    with db.connect(clean) as conn:
        # the rosters' headers equal their details
        header, details = (
            conn.execute(
                "select sum(total_count), sum(total_amount) from raw.agency__subsidy_batches"
            ).fetchone(),
            conn.execute(
                "select count(*), sum(amount) from raw.agency__subsidy_details"
            ).fetchone(),
        )
        assert header == details and header[0] > 0
        snapshot = {e: _table(conn, e) for e in ENTITIES}
    _load_all(clean)
    with db.connect(clean) as conn:
        assert {e: _table(conn, e) for e in ENTITIES} == snapshot


def test_both_encodings_and_xlsx_parse(clean):
    seen = set()
    paths = [p for day in CLEAN_DAYS for p in agency.batch_dir(clean.landing_dir, day).iterdir()]
    for path in paths:
        layout = agency.layout_of(path.name)
        parsed = agency.parse_file(path, layout)
        assert parsed.rejects.is_empty() and parsed.lines_read == parsed.details.height
        if path.suffix == ".xlsx":
            seen.add("xlsx")
        else:
            seen.add("utf-8-bom" if path.read_bytes().startswith(agency.BOM) else "gbk")
        # Chinese text decoded, not mojibake: the first row has a CJK value
        assert any(
            isinstance(v, str) and re.search(r"[\u4e00-\u9fff]", v) for v in parsed.details.row(0)
        ), path.name
    assert seen == {"xlsx", "utf-8-bom", "gbk"}


def test_no_raw_personal_value_lands(clean):
    from puhui import db

    secrets = set()
    for day in CLEAN_DAYS:
        _load_all(clean, day)
    paths = [p for day in CLEAN_DAYS for p in agency.batch_dir(clean.landing_dir, day).iterdir()]
    for path in paths:
        layout = agency.layout_of(path.name)
        parsed = agency.parse_file(path, layout)
        for column in (
            "beneficiary_name",
            "beneficiary_id_no",
            "account_no",
            "card_no",
            "holder_name",
            "employee_name",
            "employee_id_no",
            "head_id_no",
            "head_name",
        ):
            if column in parsed.details.columns:
                secrets.update(v for v in parsed.details[column].to_list() if v)
    assert len(secrets) > 100
    with db.connect(clean) as conn:
        for spec in agency.ENTITIES.values():
            for row in conn.execute(f"select * from {spec.raw_table}").fetchall():
                values = {str(v) for v in row if v is not None}
                leaked = values & secrets
                assert not leaked, f"{spec.raw_table} holds raw personal values"


def test_each_partner_defect_is_caught(defective):
    from puhui import db

    settings, defects = defective
    kinds = {d["kind"] for d in defects}
    assert kinds == {
        "bad_id_checksum",
        "negative_amount",
        "header_total_mismatch",
        "duplicate_resend",
    }
    results = _load_all(settings)
    with db.connect(settings) as conn:
        stopped = {
            os.path.basename(f)
            for (f,) in conn.execute(
                "select source_file from ops.load_audit where status = 'failed'"
            )
        }
        for entity in results:
            audits = _audit(conn, entity)
            day_batch = [a for a in audits if a[4].endswith("/AGY")]
            assert len(day_batch) == 1
            status, read, loaded, quarantined = day_batch[0][:4]
            assert status == "loaded" and read == loaded + quarantined
            assert loaded == len(_table(conn, entity))
        files_in_raw = {
            os.path.basename(f)
            for spec in agency.ENTITIES.values()
            for (f,) in conn.execute(f"select distinct _source_file from {spec.raw_table}")
        }
        quarantined_files = {
            os.path.basename(f)
            for (f,) in conn.execute(
                "select distinct source_file from quarantine.rejected_rows"
                " where source_system = 'agency'"
            )
        }
        for defect in defects:
            name = defect["file"].rsplit("/", 1)[1]
            layout = agency.layout_of(name)
            entity = next(
                e
                for e, s in agency.ENTITIES.items()
                if s.layout == layout.kind and s.block == "detail"
            )
            if defect["kind"] == "negative_amount" and defect["line"] == 2 and layout.header_block:
                # the batch header's own amount made negative: the file cannot reconcile
                status, *_, error = next(a for a in _audit(conn, entity) if a[4].endswith(name))
                assert status == "failed" and "non_negative_amount" in error
                assert name not in files_in_raw
            elif defect["kind"] in ("bad_id_checksum", "negative_amount"):
                rule = {
                    "bad_id_checksum": "id_checksum_gb11643",
                    "negative_amount": "non_negative_amount",
                }[defect["kind"]]
                hits = conn.execute(
                    "select rule from quarantine.rejected_rows where source_system = 'agency'"
                    " and table_name = %s and source_file like %s and line_number = %s",
                    (entity, f"%/{name}", defect["line"]),
                ).fetchall()
                assert (rule,) in hits, (defect, hits)
            elif defect["kind"] == "header_total_mismatch":
                assert name not in files_in_raw and name not in quarantined_files
                status, *_, error = next(a for a in _audit(conn, entity) if a[4].endswith(name))
                assert status == "failed"
                assert "header total_" in error and "details count=" in error
                assert isinstance(results[entity], agency.PartnerFilesStopped)
                assert name in str(results[entity])
            else:  # duplicate_resend: the copy is skipped, the original counted once
                copy = name.replace(".csv", "(1).csv")
                assert copy not in files_in_raw
                status = next(a for a in _audit(conn, entity) if a[4].endswith(copy))[0]
                assert status == "duplicate"
                if name not in stopped:
                    assert name in files_in_raw
                    spec = agency.ENTITIES[entity]
                    lines = conn.execute(
                        f"select count(*), count(distinct (batch_no, seq_no)) from {spec.raw_table}"
                    ).fetchone()
                    assert lines[0] == lines[1]


def test_a_batch_loaded_on_an_earlier_date_is_not_counted_again(clean):
    from puhui import db

    agency.extract_entity("payroll", DAY, clean)
    later = dt.date(2016, 7, 20)  # outside the simulated dates: only the re-send is there
    source = agency.batch_dir(clean.landing_dir, DAY)
    target = agency.batch_dir(clean.landing_dir, later)
    target.mkdir(parents=True, exist_ok=True)
    resent = sorted(source.glob("AGY_PAYROLL_*.csv"))[0]
    (target / resent.name).write_bytes(resent.read_bytes())
    result = agency.extract_entity("payroll", later, clean)
    assert result.rows_read == result.rows_loaded == 0
    with db.connect(clean) as conn:
        status, error = conn.execute(
            "select status, error from ops.load_audit where table_name = 'payroll'"
            " and business_date = %s and source_file like %s",
            (later, f"%{resent.name}"),
        ).fetchone()
    assert status == "duplicate" and "already loaded for 2016-06-10" in error


def test_a_day_without_partner_files_loads_empty_batches(clean):
    from puhui import db

    quiet = dt.date(2016, 6, 2)  # nothing simulated on that date
    for entity in ENTITIES:
        result = agency.extract_entity(entity, quiet, clean)
        assert (result.rows_read, result.rows_loaded, result.status) == (0, 0, "loaded")
    with db.connect(clean) as conn:
        assert all(not _table(conn, e, quiet) for e in ENTITIES)


def test_models_name_each_broken_rule(clean):
    from puhui.validate import split_valid
    from schemas.agency import schema_for

    folder = agency.batch_dir(clean.landing_dir, DAY)
    path = sorted(folder.glob("AGY_PAYROLL_*.csv"))[0]
    parsed = agency.parse_file(path, agency.LAYOUTS["payroll"])
    fields = [name for _, name in parsed.layout.detail_columns]
    details = parsed.details.select(fields).head(1)
    card = details["account_no"][0]
    broken = pl.concat(
        [
            details,
            details.with_columns(
                seq_no=pl.lit("2"), account_no=pl.lit(card[:-1] + str((int(card[-1]) + 1) % 10))
            ),
            details.with_columns(seq_no=pl.lit("3"), amount=pl.lit("12.345")),
            details.with_columns(seq_no=pl.lit("4"), bank_code=pl.lit("999")),
            details.with_columns(seq_no=pl.lit("1")),
        ]
    )
    rejects = split_valid(broken, schema_for("payroll_detail")).rejects
    assert sorted(zip(rejects["row_index"], rejects["rule"], strict=True)) == [
        (1, "card_checksum_luhn"),
        (2, "amount_format"),
        (3, "isin"),
        (4, "unique"),
    ]
    assert card not in " ".join(rejects["detail"])  # personal values are never echoed

    header = pl.DataFrame([parsed.header], schema=dict.fromkeys(parsed.header, pl.String))
    uscc = header["employer_uscc"][0]
    bad = header.with_columns(
        employer_uscc=pl.lit(uscc[:-1] + ("0" if uscc[-1] != "0" else "1")),
        pay_date=pl.lit("2016-02-30"),
    )
    rules = set(split_valid(bad, schema_for("payroll_header")).rejects["rule"])
    assert rules == {"uscc_checksum_gb32100", "valid_date_iso"}


def test_a_night_validates_all_files_of_a_layout_in_one_pass(clean, monkeypatch):
    """Payroll arrives as one small file per employer (some 450 a night at scale 1.0):
    validated one by one, pandera's fixed cost per call made most of the agency extract.
    A contract error in the shared pass falls back to one pass per file."""
    import puhui.validate as validate
    from puhui import db

    calls = {"split_valid": 0, "split_valid_batches": 0}
    for name in calls:
        real = getattr(validate, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(validate, name, counted)
    files = agency.discover_partner_files(DAY, clean)["payroll"]
    assert len(files) >= 2
    result = agency.extract_entity("payroll", DAY, clean)
    assert calls == {"split_valid": 0, "split_valid_batches": 2}  # headers, details
    with db.connect(clean) as conn:
        loaded = _table(conn, "payroll")
    assert result.rows_loaded == len(loaded) > 0

    def broken(files):
        raise validate.SchemaContractError("payroll", ["a contract broken in one file"])

    monkeypatch.setattr(agency, "check_files", broken)
    calls.update(split_valid=0, split_valid_batches=0)
    again = agency.extract_entity("payroll", DAY, clean)
    assert calls["split_valid"] == 2 * len(files)  # each file's header and details alone
    with db.connect(clean) as conn:
        assert _table(conn, "payroll") == loaded
    assert again.rows_loaded == result.rows_loaded


def test_a_batch_number_loaded_before_is_found_by_its_date(clean):
    """The re-send lookup (asked once per file; its SQL keeps the date test in a FILTER so
    that PostgreSQL uses the batch-number index, see _already_loaded) still answers: the
    first earlier date a batch number was loaded on, none for a new one or the same day."""
    from puhui import db

    agency.extract_entity("payroll", DAY, clean)
    spec = agency.ENTITIES["payroll"]
    with db.connect(clean) as conn:
        assert agency._already_loaded(conn, spec, "DF209912319999991", DAY) is None
        loaded = conn.execute(
            "select batch_no from raw.agency__payroll group by batch_no"
            " having min(_business_date) = %s limit 1",
            (DAY,),
        ).fetchone()[0]
        assert agency._already_loaded(conn, spec, loaded, DAY + dt.timedelta(days=1)) == DAY
        assert agency._already_loaded(conn, spec, loaded, DAY) is None  # not before itself
