"""``puhui backfill`` through Airflow's own backfills and the real scheduler.

Two warehouses from the same simulated files: one loaded in date order without Airflow
(``extract_range`` + ``dbt build``), one whose newer dates were loaded first and whose
older dates were then backfilled through an embedded Airflow (api-server, scheduler,
dag-processor, LocalExecutor). Their marts must be identical.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from puhui.config import load_settings

pytestmark = pytest.mark.integration

START, END = dt.date(2015, 12, 31), dt.date(2016, 1, 3)
BACKFILLED = (dt.date(2015, 12, 31), dt.date(2016, 1, 1))  # loaded after 01-02 and 01-03
SCALE, SEED = 0.01, 20160101
# Load bookkeeping that legitimately differs between two loads of the same data.
VOLATILE = ("_at", "batch_id", "invocation_id")


# A fixed, committed part of the dbt project (the K09 chain: staging, versioned
# intermediates, mart), so this test is about orchestration, not about models in progress.
DBT_SELECT = "+kpi_k09_archiving_rate"


def world(landing, dbname: str):
    return load_settings(
        {
            **os.environ,
            "PUHUI_LANDING_DIR": str(landing),
            "PUHUI_WAREHOUSE_DB": dbname,
            "PUHUI_DBT_SELECT": DBT_SELECT,
        }
    )


def marts_snapshot(settings) -> dict[str, list[tuple]]:
    """Every marts table, without load-time columns, sorted."""
    from marts_snapshot import marts_snapshot as snapshot

    return snapshot(settings, lambda column: column.endswith(VOLATILE))


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    from puhui.simulate import simulate

    folder = tmp_path_factory.mktemp("backfill-landing")
    simulate(START, END, scale=SCALE, seed=SEED, out=folder)
    return folder


@pytest.fixture(scope="module")
def in_order(own_airflow, warehouse, landing):
    from puhui import db
    from puhui.extract.day import extract_range
    from puhui.warehouse.dbt import build

    settings = world(landing, "puhui_backfill_in_order")
    db.init_warehouse(settings)
    extract_range(START, END, settings)
    build(settings)
    return marts_snapshot(settings)


@pytest.fixture(scope="module")
def backfilled(own_airflow, warehouse, landing):
    """Newer dates loaded first, then the older ones backfilled through Airflow."""
    from puhui import db
    from puhui.backfill import AirflowApi, EmbeddedAirflow, run_backfill
    from puhui.extract.day import extract_range
    from puhui.warehouse.dbt import build

    settings = world(landing, "puhui_backfill_out_of_order")
    db.init_warehouse(settings)
    extract_range(BACKFILLED[1] + dt.timedelta(days=1), END, settings)
    build(settings)
    lines: list[str] = []
    stack = EmbeddedAirflow(
        settings,
        extra_env={
            "PUHUI_LANDING_DIR": str(landing),
            "PUHUI_WAREHOUSE_DB": "puhui_backfill_out_of_order",
            "PUHUI_TASK_RETRIES": "0",
            "PUHUI_DBT_SELECT": DBT_SELECT,
        },
    )
    try:
        stack.start(
            ["extract_core_banking", "extract_ebanking", "extract_agency", "build_warehouse"]
        )
        api = AirflowApi(stack.base_url)
        report = run_backfill(
            *BACKFILLED, settings=settings, api=api, echo=lines.append, timeout=1200
        )
        runs = {
            dag_id: api.dag_runs(dag_id)
            for dag_id in ("extract_core_banking", "extract_agency", "build_warehouse")
        }
    finally:
        stack.stop()
    return report, lines, runs, marts_snapshot(settings)


def test_backfill_completes_every_day(backfilled):
    report, lines, _, _ = backfilled
    assert report.ok, "\n".join(lines)
    states = {d.business_date: d.state for d in report.days}
    # agency dates after the range were loaded already: reloaded in order, and rebuilt
    assert states == {START + dt.timedelta(days=i): "success" for i in range(4)}, lines
    assert set(report.backfill_ids) == {"core_banking", "ebanking", "agency"}
    assert any("reloading them in order" in line for line in lines)


def test_runs_are_airflow_backfill_runs_and_builds_follow_the_partitions(backfilled):
    _, _, runs, _ = backfilled
    extracts = runs["extract_core_banking"]
    assert {r["run_type"] for r in extracts} == {"backfill"}
    assert len(extracts) == 2
    agency = runs["extract_agency"]
    assert len(agency) == 4 and {r["run_type"] for r in agency} == {"backfill"}
    builds = {r["partition_key"]: r for r in runs["build_warehouse"]}
    assert set(builds) == {(START + dt.timedelta(days=i)).isoformat() for i in range(4)}
    # the two fully reloaded dates were started by their three partitioned asset events
    assert builds["2015-12-31"]["run_type"] == "asset_triggered"
    assert builds["2016-01-01"]["run_type"] == "asset_triggered"
    assert all(r["state"] == "success" for r in builds.values())


def test_backfilled_warehouse_equals_in_order_loading(backfilled, in_order):
    *_, snapshot = backfilled
    assert set(snapshot) == set(in_order)
    assert any(rows for rows in in_order.values()), "the marts are not empty"
    for table, rows in in_order.items():
        assert snapshot[table] == rows, f"marts.{table} differs"


def test_command_equivalent_is_the_airflow_cli():
    from puhui.backfill import command_equivalent

    text = command_equivalent(START, END, ["core_banking", "agency"], "failed")
    assert text.splitlines() == [
        "airflow backfill create --dag-id extract_core_banking --from-date "
        "2015-12-31T00:00:00+08:00 --to-date 2016-01-03T00:00:00+08:00 "
        "--reprocess-behavior failed --max-active-runs 2",
        "airflow backfill create --dag-id extract_agency --from-date "
        "2015-12-31T00:00:00+08:00 --to-date 2016-01-03T00:00:00+08:00 "
        "--reprocess-behavior failed --max-active-runs 1",
    ]
