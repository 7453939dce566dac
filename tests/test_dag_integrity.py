"""Every DAG imports cleanly and follows the house rules; the graphs are the expected ones."""

from __future__ import annotations

import time

import pytest

# core-banking tables loaded after the day's region batch (they carry village codes) and
# those loaded straight after the control files are verified
CBS_WITH_VILLAGES = (
    "households",
    "archives",
    "outlets",
    "terminals",
    "managers",
    "visits",
    "investments",
    "customers",
    "credit_ratings",
)
CBS_WITHOUT_VILLAGES = ("loans", "loan_balances", "loan_txns", "accounts", "cards", "txns")
AGENCY_ENTITIES = (
    "subsidy_batches",
    "subsidy_details",
    "subsidy_returns",
    "withholding",
    "payroll",
    "low_income_register",
    "division_register",
    "literacy_events",
)
EXPECTED_EDGES = {
    "extract_core_banking": {
        ("wait_for_control_files", "verify_control_files"),
        ("verify_control_files", "load_regions"),
        *(("verify_control_files", f"load_{e}") for e in CBS_WITHOUT_VILLAGES),
        *(("load_regions", f"load_{e}") for e in CBS_WITH_VILLAGES),
        *((f"load_{e}", "publish_core_banking") for e in CBS_WITHOUT_VILLAGES + CBS_WITH_VILLAGES),
    },
    "extract_ebanking": {
        ("extract_users", "publish_ebanking"),
        ("extract_logins", "publish_ebanking"),
        ("extract_transactions", "publish_ebanking"),
    },
    "extract_agency": {("discover_partner_files", f"load_{e}") for e in AGENCY_ENTITIES}
    | {(f"load_{e}", "publish_agency") for e in AGENCY_ENTITIES},
    "build_warehouse": set(),
}
EXPECTED_TASKS = {
    "extract_core_banking": {
        "wait_for_control_files",
        "verify_control_files",
        "load_regions",
        "publish_core_banking",
    }
    | {f"load_{e}" for e in CBS_WITHOUT_VILLAGES + CBS_WITH_VILLAGES},
    "extract_ebanking": {
        "extract_users",
        "extract_logins",
        "extract_transactions",
        "publish_ebanking",
    },
    "extract_agency": {"discover_partner_files", "publish_agency"}
    | {f"load_{e}" for e in AGENCY_ENTITIES},
    "build_warehouse": {"build_models"},
}


@pytest.fixture(scope="module")
def dagbag(settings):
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(settings.dags_dir))
    bag.parse_seconds = time.monotonic() - started
    return bag


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_expected_dags_present(dagbag, settings):
    files = {p.stem for p in settings.dags_dir.glob("*.py")}
    assert set(dagbag.dag_ids) == set(EXPECTED_TASKS)
    assert files == set(dagbag.dag_ids), "dag_id must equal the file name"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_TASKS))
def test_house_rules(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.catchup is False
    assert dag.tags, "every DAG is tagged"
    assert dag.doc_md and dag_id in dag.doc_md, "the module docstring documents the DAG"
    assert type(dag.timetable).__name__ not in ("NullTimetable", "OnceTimetable"), (
        "explicit schedule"
    )
    for task in dag.tasks:
        assert task.owner == "puhui-data"
        assert task.retries >= 1, f"{task.task_id} must retry"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_TASKS))
def test_task_graph(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert {t.task_id for t in dag.tasks} == EXPECTED_TASKS[dag_id]
    edges = {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}
    assert edges == EXPECTED_EDGES[dag_id]


@pytest.mark.parametrize("dag_id", [d for d in sorted(EXPECTED_TASKS) if d.startswith("extract_")])
def test_extract_schedules(dagbag, dag_id):
    extract = dagbag.dags[dag_id]
    assert type(extract.timetable).__name__ == "CronDataIntervalTimetable"
    assert extract.timetable.expression == "0 0 * * *"
    assert str(extract.timetable.timezone) == "Asia/Shanghai"


def test_build_schedule(dagbag):
    build = dagbag.dags["build_warehouse"]
    assert "raw.core_banking" in str(build.timetable.asset_condition)


def test_sensor_reschedules_with_timeout(dagbag):
    sensor = dagbag.dags["extract_core_banking"].get_task("wait_for_control_files")
    assert sensor.mode == "reschedule"
    assert sensor.timeout > 0


def test_publish_task_emits_asset(dagbag):
    from puhui.assets import CORE_BANKING_RAW

    task = dagbag.dags["extract_core_banking"].get_task("publish_core_banking")
    assert CORE_BANKING_RAW in task.outlets


def test_parsing_is_fast(dagbag):
    # Not a performance target: a guard against heavy imports creeping into DAG files.
    assert dagbag.parse_seconds < 20
