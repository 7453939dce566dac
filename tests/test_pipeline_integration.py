"""The nightly pipeline through real Airflow DAG runs, real PostgreSQL and a real dbt build.

The archiving rate (K09) is recomputed here from the simulator's files with plain Python,
independently of the loaders and of dbt, and must equal what the warehouse shows.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from puhui import db
from puhui.runner import run_dag
from puhui.simulate import simulate

pytestmark = pytest.mark.integration

DAY = dt.date(2016, 1, 1)
SCALE, SEED = 0.01, 20160101


def _rows(path):
    return [line.split("|") for line in path.read_bytes().decode("gbk").splitlines()]


def expected_k09(landing, day: dt.date) -> dict[tuple[str, str], tuple[int, int]]:
    """(level, code) -> (households in scope, archived households), from the files alone.

    ``day`` is the first day simulated, so its change files hold every row.
    """
    folder = landing / f"{day:%Y%m%d}" / "CBS"
    ymd = f"{day:%Y%m%d}"
    town_of = {r[0]: r[3] for r in _rows(folder / f"CBS_REGION_{ymd}.dat")}
    in_scope = {
        r[0]: r[1]
        for r in _rows(folder / f"CBS_HOUSEHOLD_{ymd}.dat")
        if r[6] <= ymd and (r[7] == "" or r[7] > ymd)
    }
    archived = {
        r[1] for r in _rows(folder / f"CBS_ARCHIVE_{ymd}.dat") if r[7] == "1" and r[6] <= ymd
    }
    households, hits = Counter(), Counter()
    for household, village in in_scope.items():
        for key in (("village", village), ("town", town_of[village]), ("district", "330604")):
            households[key] += 1
            hits[key] += household in archived
    expected = {key: (households[key], hits[key]) for key in households}
    for village, town in town_of.items():  # villages without households still get a row
        expected.setdefault(("village", village), (0, 0))
        expected.setdefault(("town", town), (0, 0))
    return expected


def mart_rows(day: dt.date):
    with db.connect() as conn:
        return conn.execute(
            # every column but built_from_loaded_at, the build's load watermark
            "select business_date, region_level, region_code, region_name, town_code,"
            " town_name, households_in_scope, archived_households, archiving_rate"
            " from marts.kpi_k09_archiving_rate where business_date = %s"
            " order by region_level, region_code",
            (day,),
        ).fetchall()


def raw_rows(day: dt.date):
    with db.connect() as conn:
        return {
            t: [
                r[:-1]
                for r in conn.execute(  # all but _loaded_at
                    f"select * from raw.core_banking__{t} where _business_date = %s order by _line_number",
                    (day,),
                ).fetchall()
            ]
            for t in ("regions", "households", "archives")
        }


@pytest.fixture(scope="module")
def first_run(settings, warehouse):
    simulate(DAY, DAY + dt.timedelta(days=1), scale=SCALE, seed=SEED, out=settings.landing_dir)
    from puhui.airflow_env import ensure_metadata_db

    ensure_metadata_db(settings)
    run_dag("extract_core_banking", DAY, settings)
    run_dag("build_warehouse", DAY, settings)
    return mart_rows(DAY), raw_rows(DAY)


def test_warehouse_archiving_rate_equals_recomputation_from_files(first_run, settings):
    rows, _ = first_run
    expected = expected_k09(settings.landing_dir, DAY)
    got = {(r[1], r[2]): (r[6], r[7]) for r in rows}
    assert got == expected
    district = next(r for r in rows if r[1] == "district")
    households, archived = expected[("district", "330604")]
    assert district[8] == (Decimal(archived) / Decimal(households)).quantize(Decimal("0.000001"))
    assert 0.4 < float(district[8]) < 0.9
    assert sum(1 for r in rows if r[1] == "town") == 21
    assert sum(1 for r in rows if r[1] == "village") == 440


def test_extract_emitted_the_asset_for_the_business_date(first_run, settings):
    conn = sqlite3.connect(settings.airflow_home / "airflow.db")
    try:
        events = conn.execute(
            "select e.extra from asset_event e join asset a on a.id = e.asset_id"
            " where a.name = 'raw.core_banking'"
        ).fetchall()
    finally:
        conn.close()
    assert {json.loads(e[0]).get("business_date") for e in events} >= {DAY.isoformat()}


def test_rerunning_the_same_date_leaves_identical_warehouse_rows(first_run, settings):
    marts_before, raw_before = first_run
    run_dag("extract_core_banking", DAY, settings)
    run_dag("build_warehouse", DAY, settings)
    assert mart_rows(DAY) == marts_before
    assert raw_rows(DAY) == raw_before


def test_a_build_skips_unit_tests_already_passed_on_the_same_project(first_run, settings):
    """A successful build of the whole project ran the unit tests once; every build of the
    unchanged project after it skips them (they test the SQL on hand-made rows, not the
    night's data).

    The session's warehouse is shared: other test modules may have built it first, so
    the build that vouches for the unit tests need not be this module's.
    """
    from puhui.warehouse.dbt import project_checksum

    if len(_builds(settings, DAY)) < 2:  # run alone: the rerun test's second build
        run_dag("build_warehouse", DAY, settings)
    checksum = project_checksum(settings.dbt_project_dir)
    builds = [b for b in _builds(settings) if b["project_checksum"] == checksum]
    vouching = next(
        (i for i, b in enumerate(builds) if b["unit_tests_run"] and b["status"] == "success"),
        None,
    )
    assert vouching is not None, builds
    assert builds[vouching]["unit_tests"] >= 21, builds[vouching]  # one per KPI mart
    assert all(b["unit_tests"] == 0 for b in builds[vouching + 1 :]), builds[vouching + 1 :]
    last = _builds(settings, DAY)[-1]
    assert last["invocation_id"] == builds[-1]["invocation_id"]
    assert last["unit_tests"] == 0 and last["unit_tests_run"] is False, last
    assert last["status"] == "success"


def _builds(settings, day: dt.date | None = None) -> list[dict]:
    """``dbt build`` invocations in start order, of ``day`` or of every date."""
    from psycopg.rows import dict_row

    with db.connect(settings, row_factory=dict_row) as conn:
        return conn.execute(
            "select i.invocation_id, i.status, i.business_date, i.project_checksum,"
            " i.unit_tests_run, (select count(*) from ops.dbt_node_results n"
            " where n.invocation_id = i.invocation_id and n.resource_type = 'unit_test')"
            " as unit_tests"
            " from ops.dbt_invocations i where i.command = 'build'"
            " and (%(day)s::date is null or i.business_date = %(day)s)"
            " order by i.started_at",
            {"day": day},
        ).fetchall()


def test_no_personal_data_outside_restricted_schemas(first_run, settings):
    """Raw ID numbers, names and phones of the files appear in no table BI can reach."""
    folder = settings.landing_dir / f"{DAY:%Y%m%d}" / "CBS"
    archives = _rows(folder / f"CBS_ARCHIVE_{DAY:%Y%m%d}.dat")[:200]
    needles = {v for r in archives for v in (r[3], r[4], r[5]) if v}
    found = defaultdict(list)
    with db.connect() as conn:
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema in ('raw', 'staging', 'intermediate', 'marts', 'ops')"
            " and data_type in ('text', 'character varying')"
        ).fetchall()
        assert len(columns) > 20
        for schema, table, column in columns:
            hit = conn.execute(
                f'select "{column}" from "{schema}"."{table}" where "{column}" = any(%s) limit 1',
                (list(needles),),
            ).fetchone()
            if hit:
                found[f"{schema}.{table}.{column}"].append(hit[0])
    assert not found, f"personal data leaked into: {sorted(found)}"
