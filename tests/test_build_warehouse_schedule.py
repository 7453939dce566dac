"""build_warehouse starts for a business date only when all three sources of that date landed.

The real scheduler decides, from partitioned asset events posted through Airflow's REST
API (the same events the extract DAGs' publish tasks emit): two sources of a date, or
three sources of different dates, start nothing; the third source of the date starts one
run whose partition key is the date.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration

DATE, OTHER_DATE = "2016-03-01", "2016-03-02"


@pytest.fixture(scope="module")
def airflow(own_airflow, warehouse):
    from puhui.backfill import AirflowApi, EmbeddedAirflow

    stack = EmbeddedAirflow(own_airflow, extra_env={"PUHUI_TASK_RETRIES": "0"})
    try:
        stack.start(
            ["build_warehouse", "extract_core_banking", "extract_ebanking", "extract_agency"]
        )
        api = AirflowApi(stack.base_url)
        api.unpause("build_warehouse")
        yield api
    finally:
        stack.stop()


def asset_ids(api) -> dict[str, int]:
    assets = api.request("GET", "/assets", params={"limit": 100})["assets"]
    return {a["name"]: a["id"] for a in assets}


def emit(api, ids, name: str, partition_key: str) -> None:
    api.request(
        "POST",
        "/assets/events",
        json={"asset_id": ids[name], "partition_key": partition_key, "extra": {}},
    )


def build_runs(api) -> list[dict]:
    return api.dag_runs("build_warehouse")


def test_no_run_until_every_source_of_the_date_landed(airflow):
    ids = asset_ids(airflow)
    assert {"raw.core_banking", "raw.ebanking", "raw.agency"} <= set(ids)
    emit(airflow, ids, "raw.core_banking", DATE)
    emit(airflow, ids, "raw.ebanking", DATE)
    emit(airflow, ids, "raw.agency", OTHER_DATE)  # the third source, but of another date
    time.sleep(25)  # several scheduler loops (heartbeat 2 s)
    assert build_runs(airflow) == [], "a source of the date is missing: nothing may start"

    emit(airflow, ids, "raw.agency", DATE)
    deadline = time.monotonic() + 90
    runs = []
    while not runs and time.monotonic() < deadline:
        time.sleep(2)
        runs = build_runs(airflow)
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["partition_key"] == DATE
    assert run["run_type"] == "asset_triggered"
    # the other date still waits for its core banking and e-banking partitions
    time.sleep(6)
    assert [r["partition_key"] for r in build_runs(airflow)] == [DATE]
