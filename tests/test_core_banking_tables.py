"""Every core-banking table beyond regions/households/archives, loaded into a real PostgreSQL.

One clean simulated day (31 December: households are rated, month-end ledger entries are
booked) and a few days with a defect in every file. These call the package's extract step
directly, like tests/test_core_banking_load.py, on a database of their own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil

import pytest

from puhui.config import load_settings
from puhui.extract import core_banking as cb
from puhui.extract.files import ControlFileError
from puhui.simulate import simulate

NEW_TABLES = (
    "outlets",
    "terminals",
    "managers",
    "visits",
    "investments",
    "customers",
    "loans",
    "loan_balances",
    "loan_txns",
    "credit_ratings",
    "accounts",
    "cards",
    "txns",
)
CLEAN_DAY = dt.date(2016, 12, 31)
DEFECT_DAYS = (dt.date(2016, 12, 28), dt.date(2016, 12, 30))
SCALE, SEED = 0.004, 23

# The rule each row defect of the simulator must be quarantined under.
RULE_OF_DEFECT = {
    "bad_id_checksum": "id_checksum_gb11643",
    "impossible_date": "valid_date_yyyymmdd",
    "negative_amount": "str_matches",
    "wrong_column_count": "column_count",
    "undecodable_bytes": "decodable_gbk",
    "unknown_village_code": "known_village_code",
}
FILE_TABLE = {cb.TABLES[e].file_table: e for e in NEW_TABLES}


def _settings(tmp, name: str, **extra: str):
    return load_settings(
        {
            **os.environ,
            "PUHUI_LANDING_DIR": str(tmp / name),
            "PUHUI_WAREHOUSE_DB": "puhui_cbs_tables_tests",
            **extra,
        }
    )


@pytest.fixture(scope="module")
def clean(tmp_path_factory, warehouse):
    """A clean 31 December (the initial unload: changed-rows tables carry everything)."""
    settings = _settings(tmp_path_factory.mktemp("cbs"), "clean")
    simulate(CLEAN_DAY, CLEAN_DAY, scale=SCALE, seed=SEED, out=settings.landing_dir)
    cb.extract_table("regions", CLEAN_DAY, settings)
    return settings


def _snapshot(settings, day: dt.date) -> dict[str, list[tuple]]:
    from puhui import db

    with db.connect(settings) as conn:
        return {
            t: [
                row[:-1]  # _loaded_at, the last column, is the load's own time
                for row in conn.execute(
                    f"select * from raw.core_banking__{t} where _business_date = %s"
                    " order by _line_number",
                    (day,),
                ).fetchall()
            ]
            for t in NEW_TABLES
        }


def test_clean_day_loads_every_table_completely(clean):
    from puhui import db

    counts = cb.verify_control_files(CLEAN_DAY, clean)
    results = {e: cb.extract_table(e, CLEAN_DAY, clean) for e in NEW_TABLES}
    with db.connect(clean) as conn:
        for entity, result in results.items():
            assert result.rows_read == counts[entity] == result.rows_loaded, entity
            assert result.rows_quarantined == 0, (entity, result.top_reasons)
            raw = conn.execute(
                f"select count(*) from raw.core_banking__{entity} where _business_date = %s",
                (CLEAN_DAY,),
            ).fetchone()[0]
            assert raw == counts[entity], entity
    # 31 December at this scale leaves no table empty: every model met real rows.
    assert all(counts[e] > 0 for e in NEW_TABLES), counts


def test_loading_the_same_day_twice_gives_identical_raw_tables(clean):
    for entity in NEW_TABLES:
        cb.extract_table(entity, CLEAN_DAY, clean)
    first = _snapshot(clean, CLEAN_DAY)
    for entity in NEW_TABLES:
        cb.extract_table(entity, CLEAN_DAY, clean)
    assert _snapshot(clean, CLEAN_DAY) == first
    assert sum(map(len, first.values())) > 0


def _personal_values(settings, day: dt.date, names_only: bool = False) -> set[str]:
    """ID, card, mobile, personal account numbers and person names found in the files."""
    wanted = {
        "customers": ("id_no", "mobile", "cust_name"),
        "managers": ("manager_name",),
        "accounts": ("account_no", "id_no"),
        "cards": ("card_no", "id_no", "account_no"),
        "txns": ("account_no", "card_no"),
    }
    values: set[str] = set()
    for entity, columns in wanted.items():
        spec = cb.TABLES[entity]
        lines = cb.data_path(settings.landing_dir, spec, day).read_bytes().decode("gbk")
        for line in lines.splitlines()[:200]:
            fields = dict(zip(spec.columns, line.split("|"), strict=True))
            if entity == "customers" and fields["cust_type"] != "1":
                continue  # an enterprise's name is not personal data
            if entity == "accounts" and fields["customer_type"] != "1":
                continue
            values.update(
                fields[c]
                for c in columns
                if fields[c] and (not names_only or c in ("cust_name", "manager_name"))
            )
    return values


def test_no_personal_number_reaches_any_raw_table(clean):
    from puhui import db

    for entity in NEW_TABLES:
        cb.extract_table(entity, CLEAN_DAY, clean)
    values = sorted(_personal_values(clean, CLEAN_DAY))
    assert len(values) > 100
    with db.connect(clean) as conn:
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'raw' and data_type = 'text'"
        ).fetchall()
        assert len({t for t, _ in columns}) >= 16
        leaks = []
        for table, column in columns:
            hits = conn.execute(
                f'select count(*) from raw."{table}" where "{column}" = any(%s)', (values,)
            ).fetchone()[0]
            if hits:
                leaks.append((table, column, hits))
        # Names also hide inside other text, e.g. an individual business 上虞区<name>五金店.
        patterns = [f"%{n}%" for n in _personal_values(clean, CLEAN_DAY, names_only=True)]
        assert len(patterns) > 50
        for table, column in columns:
            if column.endswith("_hash") or column.startswith("_"):
                continue  # hex digests and load metadata cannot contain a name
            hits = conn.execute(
                f'select count(*) from raw."{table}" where "{column}" like any(%s)', (patterns,)
            ).fetchone()[0]
            if hits:
                leaks.append((table, column, hits))
        assert leaks == []


@pytest.fixture(scope="module")
def defective(tmp_path_factory, warehouse):
    """Days with a defect in every file; the region files are kept clean (they define the
    village codes every other table is checked against)."""
    tmp = tmp_path_factory.mktemp("cbs-defects")
    # Small files: one bad row of two must be quarantined, not trip the reject threshold.
    settings = _settings(tmp, "defects", PUHUI_MAX_REJECT_RATE="1.0")
    reference = tmp / "reference"
    for day in DEFECT_DAYS:
        simulate(day, day, scale=SCALE, seed=SEED, out=reference / f"{day:%Y%m%d}")
        simulate(
            day, day, scale=SCALE, seed=SEED, out=settings.landing_dir / "_sim", defect_rate=1.0
        )
        manifest = json.loads((settings.landing_dir / "_sim" / "simulation.json").read_text())
        shutil.copytree(
            settings.landing_dir / "_sim" / f"{day:%Y%m%d}", settings.landing_dir / f"{day:%Y%m%d}"
        )
        (settings.landing_dir / f"defects-{day:%Y%m%d}.json").write_text(json.dumps(manifest))
        shutil.rmtree(settings.landing_dir / "_sim")
        for suffix in (".dat", ".ok"):
            src = reference / f"{day:%Y%m%d}" / f"{day:%Y%m%d}" / "CBS" / f"CBS_REGION_{day:%Y%m%d}"
            dst = cb.batch_dir(settings.landing_dir, day) / f"CBS_REGION_{day:%Y%m%d}"
            shutil.copyfile(src.with_suffix(suffix), dst.with_suffix(suffix))
        cb.extract_table("regions", day, settings)
    defects = []
    for day in DEFECT_DAYS:
        manifest = json.loads((settings.landing_dir / f"defects-{day:%Y%m%d}.json").read_text())
        for d in manifest["defects"]:
            table = d["file"].rsplit("/", 1)[-1].removeprefix("CBS_").rsplit("_", 1)[0]
            if d["file"].endswith(".dat") and table in FILE_TABLE:
                defects.append({**d, "entity": FILE_TABLE[table]})
    return settings, defects


def test_every_row_defect_is_quarantined_under_its_rule(defective):
    from puhui import db

    settings, defects = defective
    row_defects = [d for d in defects if d["kind"] in RULE_OF_DEFECT]
    assert {d["kind"] for d in row_defects} == set(RULE_OF_DEFECT), "defect kinds not covered"
    with db.connect(settings) as conn:
        for d in row_defects:
            day = dt.date.fromisoformat(d["business_date"])
            result = cb.extract_table(d["entity"], day, settings)
            assert result.rows_read == result.rows_loaded + result.rows_quarantined
            assert result.rows_quarantined == 1, (d, result.top_reasons)
            rules = {
                r[0]
                for r in conn.execute(
                    "select rule from quarantine.rejected_rows where table_name = %s"
                    " and business_date = %s and line_number = %s",
                    (d["entity"], day, d["line"]),
                ).fetchall()
            }
            assert RULE_OF_DEFECT[d["kind"]] in rules, (d, rules)
            audit = conn.execute(
                "select rows_read, rows_loaded, rows_quarantined from ops.load_audit"
                " where batch_id = %s",
                (result.batch_id,),
            ).fetchone()
            assert audit == (result.rows_read, result.rows_loaded, 1)


def test_every_file_defect_stops_or_does_not_double_count(defective):
    from puhui import db

    settings, defects = defective
    file_defects = [d for d in defects if d["kind"] not in RULE_OF_DEFECT]
    assert file_defects
    with db.connect(settings) as conn:
        for d in file_defects:
            day = dt.date.fromisoformat(d["business_date"])
            table = f"raw.core_banking__{d['entity']}"
            if d["kind"] in ("missing_control_file", "control_count_mismatch"):
                with pytest.raises(ControlFileError):
                    cb.extract_table(d["entity"], day, settings)
                landed = conn.execute(
                    f"select count(*) from {table} where _business_date = %s", (day,)
                ).fetchone()[0]
                assert landed == 0, d
            elif d["kind"] == "duplicate_resend":
                first = cb.extract_table(d["entity"], day, settings)
                again = cb.extract_table(d["entity"], day, settings)
                landed = conn.execute(
                    f"select count(*) from {table} where _business_date = %s", (day,)
                ).fetchone()[0]
                assert landed == first.rows_loaded == again.rows_loaded == first.rows_read, d


def _flip_last(value: str) -> str:
    return value[:-1] + ("1" if value[-1] != "1" else "2")


def _uscc_bad(value: str) -> str:
    return value[:-1] + ("0" if value[-1] != "0" else "1")


# entity, which row (predicate on its fields), the edit, expected (rule, column)
SCHEMA_CASES = [
    (
        "customers",
        lambda f: f["cust_type"] == "1",
        {"id_no": ""},
        ("id_no_of_individuals", None),
    ),
    (
        "customers",
        lambda f: f["uscc"] != "",
        {"uscc": _uscc_bad},
        ("uscc_checksum_gb32100", "uscc"),
    ),
    ("customers", lambda f: True, {"credit_line": "1.5"}, ("str_matches", "credit_line")),
    (
        "outlets",
        lambda f: f["outlet_type"] == "2",
        {"parent_outlet_code": ""},
        ("parent_outlet_unless_head_office", None),
    ),
    ("outlets", lambda f: True, {"outlet_type": "7"}, ("isin", "outlet_type")),
    (
        "loans",
        lambda f: f["status"] == "1",
        {"settle_date": "20161230"},
        ("settle_date_of_settled_loans", None),
    ),
    (
        "loans",
        lambda f: True,
        {"maturity_date": "19991231"},
        ("not_before_disburse_date", "maturity_date"),
    ),
    (
        "accounts",
        lambda f: f["customer_type"] == "2",
        {"id_no": _uscc_bad},
        ("uscc_checksum_gb32100", "id_no"),
    ),
    (
        "accounts",
        lambda f: f["customer_type"] == "1",
        {"id_no": _flip_last},
        ("id_checksum_gb11643", "id_no"),
    ),
    ("cards", lambda f: True, {"card_no": _flip_last}, ("card_checksum_luhn", "card_no")),
    (
        "cards",
        lambda f: True,
        {"status_date": "20000101", "issue_date": "20100101"},
        ("not_before_issue_date", "status_date"),
    ),
    (
        "txns",
        lambda f: f["card_no"] != "",
        {"card_no": _flip_last},
        ("card_checksum_luhn", "card_no"),
    ),
    ("txns", lambda f: f["direction"] == "I", {"direction": "O"}, ("direction_of_txn_type", None)),
    ("txns", lambda f: True, {"txn_time": "246000"}, ("valid_time_hhmmss", "txn_time")),
    ("txns", lambda f: True, {"txn_date": "20161230"}, ("date_in_range", "txn_date")),
    ("loan_balances", lambda f: True, {"balance": "0.00"}, ("positive_amount", "balance")),
    ("visits", lambda f: True, {"purpose_code": "07"}, ("isin", "purpose_code")),
    (
        "managers",
        lambda f: True,
        {"village_code": "330604999299"},
        ("known_village_code", "village_code"),
    ),
    (
        "credit_ratings",
        lambda f: f["rating_type"] == "1",
        {"household_id": ""},
        ("household_of_household_ratings", None),
    ),
    ("investments", lambda f: True, {"category_code": "99"}, ("isin", "category_code")),
]


@pytest.mark.parametrize(
    ("entity", "pick", "edit", "expected"),
    SCHEMA_CASES,
    ids=[f"{c[0]}-{c[3][0]}" for c in SCHEMA_CASES],
)
def test_each_model_rejects_a_bad_row_naming_its_rule(clean, entity, pick, edit, expected):
    from puhui.extract.files import parse_delimited
    from puhui.validate import REDACTED, split_valid
    from schemas.core_banking import schema_for

    spec = cb.TABLES[entity]
    regions = cb.data_path(clean.landing_dir, cb.TABLES["regions"], CLEAN_DAY).read_bytes()
    villages = [line.split(b"|")[0].decode() for line in regions.splitlines()]
    lines = cb.data_path(clean.landing_dir, spec, CLEAN_DAY).read_bytes().decode("gbk").splitlines()
    rows = [dict(zip(spec.columns, line.split("|"), strict=True)) for line in lines]
    target = next(i for i, row in enumerate(rows) if pick(row))
    original = dict(rows[target])
    for column, change in edit.items():
        rows[target][column] = change(rows[target][column]) if callable(change) else change
    text = "\n".join("|".join(row[c] for c in spec.columns) for row in rows) + "\n"
    parsed = parse_delimited(text.encode("gbk"), list(spec.columns), encoding="gbk")
    schema = schema_for(entity, business_date=CLEAN_DAY, village_codes=villages)
    result = split_valid(parsed.frame.select(spec.columns), schema)
    found = set(result.rejects.select("rule", "column_name").iter_rows())
    assert set(result.rejects["row_index"].to_list()) == {target}, found
    assert expected in found
    # Quarantine details never repeat a personal value.
    for column, value in original.items():
        if value and (schema.columns[column].metadata or {}).get("personal"):
            assert not result.rejects["detail"].str.contains(value, literal=True).any()
    if expected[1] and (schema.columns[expected[1]].metadata or {}).get("personal"):
        assert result.rejects["detail"].str.contains(REDACTED, literal=True).any()
