"""Core-banking loads against a real PostgreSQL: control files, quarantine, idempotency.

These call the package's extract step directly (the same function the DAG's tasks call);
tests/test_pipeline_integration.py runs it through real Airflow DAG runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest

from puhui.config import load_settings
from puhui.extract import core_banking as cb
from puhui.extract.files import ControlFileError
from puhui.load.loader import RejectThresholdExceeded
from puhui.simulate import simulate


@pytest.fixture
def landing(tmp_path, warehouse):
    """Settings whose landing folder is this test's own, on the session's server."""
    # A database of their own: these tests leave deliberately broken batches behind,
    # which must not reach the dbt build of the pipeline integration test.
    return load_settings(
        {
            **os.environ,
            "PUHUI_LANDING_DIR": str(tmp_path / "landing"),
            "PUHUI_WAREHOUSE_DB": "puhui_load_tests",
        }
    )


def _simulate(settings, day: dt.date) -> None:
    simulate(day, day, scale=0.002, seed=11, out=settings.landing_dir)


def _rewrite_control(settings, entity: str, day: dt.date, **overrides) -> None:
    """Rewrite a control file so it matches the (possibly edited) data file, then override."""
    spec = cb.TABLES[entity]
    data = cb.data_path(settings.landing_dir, spec, day).read_bytes()
    fields = {
        "name": cb.data_path(settings.landing_dir, spec, day).name,
        "date": f"{day:%Y%m%d}",
        "count": str(data.count(b"\n")),
        "size": str(len(data)),
        "md5": hashlib.md5(data).hexdigest(),
        "generated": f"{day:%Y%m%d}013000",
    }
    fields.update(overrides)
    cb.control_path(settings.landing_dir, spec, day).write_text("|".join(fields.values()) + "\n")


def _raw_count(conn, table: str, day: dt.date) -> int:
    return conn.execute(
        f"select count(*) from raw.core_banking__{table} where _business_date = %s", (day,)
    ).fetchone()[0]


def _audit(conn, table: str, day: dt.date):
    return conn.execute(
        "select status, rows_read, rows_loaded, rows_quarantined, error from ops.load_audit"
        " where table_name = %s and business_date = %s order by started_at desc limit 1",
        (table, day),
    ).fetchone()


def test_clean_day_loads_completely(landing):
    from puhui import db

    day = dt.date(2016, 2, 1)
    _simulate(landing, day)
    counts = cb.verify_control_files(day, landing)
    results = {e: cb.extract_table(e, day, landing) for e in ("regions", "households", "archives")}
    with db.connect(landing) as conn:
        for entity, result in results.items():
            assert result.rows_read == counts[entity] == result.rows_loaded
            assert result.rows_quarantined == 0
            assert _raw_count(conn, entity, day) == counts[entity]
            assert _audit(conn, entity, day)[:4] == ("loaded", counts[entity], counts[entity], 0)


def test_count_mismatch_stops_the_load_and_nothing_lands(landing):
    from puhui import db

    day = dt.date(2016, 2, 2)
    _simulate(landing, day)
    real = cb.verify_control_files(day, landing)["households"]
    _rewrite_control(landing, "households", day, count=str(real + 1))
    with pytest.raises(
        ControlFileError,
        match=rf"CBS_HOUSEHOLD_20160202\.dat.*record count {real} != control {real + 1}",
    ):
        cb.verify_control_files(day, landing)
    cb.extract_table("regions", day, landing)
    with pytest.raises(ControlFileError, match="record count"):
        cb.extract_table("households", day, landing)
    with db.connect(landing) as conn:
        assert _raw_count(conn, "households", day) == 0
        status, *_, error = _audit(conn, "households", day)
        assert status == "failed" and "record count" in error


def test_md5_mismatch_stops_the_load(landing):
    day = dt.date(2016, 2, 3)
    _simulate(landing, day)
    _rewrite_control(landing, "regions", day, md5="0" * 32)
    with pytest.raises(ControlFileError, match="MD5"):
        cb.extract_table("regions", day, landing)


def test_missing_control_file_stops_the_load_and_nothing_lands(landing):
    from puhui import db

    day = dt.date(2016, 2, 4)
    _simulate(landing, day)
    control = cb.control_path(landing.landing_dir, cb.TABLES["archives"], day)
    control.unlink()
    assert cb.missing_control_files(day, landing) == [control]
    with pytest.raises(ControlFileError, match="control file is missing"):
        cb.verify_control_files(day, landing)
    cb.extract_table("regions", day, landing)
    with pytest.raises(ControlFileError, match="missing"):
        cb.extract_table("archives", day, landing)
    with db.connect(landing) as conn:
        assert _raw_count(conn, "archives", day) == 0


def _corrupt_first_id(settings, day: dt.date) -> str:
    """Break the check digit of the first household's ID; return the broken line."""
    path = cb.data_path(settings.landing_dir, cb.TABLES["households"], day)
    lines = path.read_bytes().decode("gbk").split("\n")
    fields = lines[0].split("|")
    last = fields[2][-1]
    fields[2] = fields[2][:-1] + ("0" if last != "0" else "1")
    lines[0] = "|".join(fields)
    path.write_bytes("\n".join(lines).encode("gbk"))
    _rewrite_control(settings, "households", day)
    return lines[0]


def test_bad_row_is_quarantined_with_its_rule_and_counts_add_up(landing):
    from puhui import db

    day = dt.date(2016, 2, 5)
    _simulate(landing, day)
    broken = _corrupt_first_id(landing, day)
    cb.extract_table("regions", day, landing)
    result = cb.extract_table("households", day, landing)
    assert result.rows_quarantined == 1
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    with db.connect(landing) as conn:
        rows = conn.execute(
            "select line_number, raw_line, rule, column_name, source_file from quarantine.rejected_rows"
            " where table_name = 'households' and business_date = %s",
            (day,),
        ).fetchall()
        assert rows == [
            (
                1,
                broken,
                "id_checksum_gb11643",
                "head_id_no",
                str(cb.data_path(landing.landing_dir, cb.TABLES["households"], day)),
            )
        ]
        assert _raw_count(conn, "households", day) == result.rows_loaded
        assert _audit(conn, "households", day)[:4] == (
            "loaded",
            result.rows_read,
            result.rows_loaded,
            1,
        )


def test_too_many_rejects_hold_the_batch_back(landing):
    from puhui import db

    day = dt.date(2016, 2, 6)
    _simulate(landing, day)
    cb.extract_table("regions", day, landing)
    # A region table the households do not match: every village code is unknown.
    with db.connect(landing) as conn:
        conn.execute(
            "update raw.core_banking__regions set village_code = 'x' || village_code where _business_date = %s",
            (day,),
        )
        conn.commit()
    with pytest.raises(
        RejectThresholdExceeded,
        match=r"CBS_HOUSEHOLD_20160206\.dat: \d+ of \d+ rows rejected.*known_village_code on village_code",
    ):
        cb.extract_table("households", day, landing)
    with db.connect(landing) as conn:
        assert _raw_count(conn, "households", day) == 0
        status, read, loaded, quarantined, _ = _audit(conn, "households", day)
        assert (status, loaded) == ("rejected", 0) and quarantined == read > 0


def test_loading_a_day_twice_gives_identical_raw_tables(landing):
    from puhui import db

    day = dt.date(2016, 2, 7)
    _simulate(landing, day)

    def snapshot():
        with db.connect(landing) as conn:
            return {
                t: conn.execute(
                    f"select * from raw.core_banking__{t} where _business_date = %s order by _line_number",
                    (day,),
                ).fetchall()
                for t in ("regions", "households", "archives")
            }

    for entity in ("regions", "households", "archives"):
        cb.extract_table(entity, day, landing)
    first = snapshot()
    for entity in ("regions", "households", "archives"):
        cb.extract_table(entity, day, landing)
    second = snapshot()
    strip = lambda rows: [r[:-1] for r in rows]  # noqa: E731  (_loaded_at is the last column)
    assert {t: strip(r) for t, r in first.items()} == {t: strip(r) for t, r in second.items()}
    assert len(first["households"]) > 0


def test_a_load_killed_mid_way_leaves_nothing_and_succeeds_on_retry(landing, monkeypatch):
    """The loader's connection is terminated during the raw COPY: no partial batch."""
    import psycopg

    from puhui import db
    from puhui.load import loader

    day = dt.date(2016, 2, 8)
    _simulate(landing, day)
    cb.extract_table("regions", day, landing)
    real_copy = loader._copy_frame

    def copy_then_die(cur, table, frame):
        real_copy(cur, table, frame)
        if "core_banking__households" in table.as_string(cur):
            with db.connect(landing, autocommit=True) as killer:
                killer.execute(
                    "select pg_terminate_backend(%s)", (cur.connection.info.backend_pid,)
                )

    monkeypatch.setattr(loader, "_copy_frame", copy_then_die)
    with pytest.raises(psycopg.OperationalError):
        cb.extract_table("households", day, landing)
    with db.connect(landing) as conn:
        assert _raw_count(conn, "households", day) == 0
        assert (
            conn.execute(
                "select count(*) from quarantine.rejected_rows where table_name = 'households'"
                " and business_date = %s",
                (day,),
            ).fetchone()[0]
            == 0
        )
    monkeypatch.setattr(loader, "_copy_frame", real_copy)
    result = cb.extract_table("households", day, landing)
    with db.connect(landing) as conn:
        assert _raw_count(conn, "households", day) == result.rows_loaded > 0


def test_load_metadata_come_from_the_batch_and_nothing_lands_without_them(landing):
    """The loader sends only data columns; the raw table's defaults supply the batch's
    metadata, and a row written outside a load has none, so the table refuses it."""
    import psycopg

    from puhui import db

    day = dt.date(2016, 2, 1)
    _simulate(landing, day)
    result = cb.extract_table("regions", day, landing)
    path = cb.data_path(landing.landing_dir, cb.TABLES["regions"], day)
    with db.connect(landing) as conn:
        rows = conn.execute(
            "select distinct _batch_id, _business_date, _source_file, _loaded_at is not null"
            " from raw.core_banking__regions where _business_date = %s",
            (day,),
        ).fetchall()
        assert rows == [(result.batch_id, day, str(path), True)]
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute(
                "insert into raw.core_banking__regions (village_code, village_name,"
                " village_type, town_code, town_name, town_type, urban_rural_code,"
                " effective_date, _line_number)"
                " values ('330604001001', 'x', '1', '330604001', 'y', '1', '111', %s, 1)",
                (day,),
            )
