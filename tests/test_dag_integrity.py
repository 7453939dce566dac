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
    "build_warehouse": {
        ("build_models", "publish_marts"),
        ("publish_marts", "write_morning_report"),
    },
    "check_warehouse_deadline": set(),
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
    "build_warehouse": {"build_models", "publish_marts", "write_morning_report"},
    "check_warehouse_deadline": {"wait_for_warehouse"},
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


@pytest.mark.parametrize(
    "dag_id",
    [d for d in sorted(EXPECTED_TASKS) if d.startswith("extract_") or d.startswith("check_")],
)
def test_extract_schedules(dagbag, dag_id):
    extract = dagbag.dags[dag_id]
    assert type(extract.timetable).__name__ == "CronDataIntervalTimetable"
    assert extract.timetable.expression == "0 0 * * *"
    assert str(extract.timetable.timezone) == "Asia/Shanghai"


def test_build_schedule_waits_for_all_three_sources_of_a_date(dagbag):
    from airflow.sdk import AssetAll, PartitionedAssetTimetable

    build = dagbag.dags["build_warehouse"]
    timetable = build.timetable
    assert isinstance(timetable, PartitionedAssetTimetable), "partition-aware: per business date"
    condition = timetable.asset_condition
    assert isinstance(condition, AssetAll), "all sources, not any"
    assert {a.name for a in condition.objects} == {"raw.core_banking", "raw.ebanking", "raw.agency"}
    assert type(timetable.default_partition_mapper).__name__ == "IdentityMapper"
    assert build.max_active_runs == 1


def test_every_task_alerts_once_on_its_final_failure(dagbag):
    from puhui.alerts import FailureAlert, RetryLog

    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert any(isinstance(c, FailureAlert) for c in task.on_failure_callback), task
            assert not any(isinstance(c, FailureAlert) for c in task.on_retry_callback or []), task
            assert any(isinstance(c, RetryLog) for c in task.on_retry_callback), task


def test_warehouse_deadline_alert(dagbag):
    import datetime as dt

    deadline_dag = dagbag.dags["check_warehouse_deadline"]
    (alert,) = deadline_dag.deadline
    assert type(alert.reference).__name__ == "DagRunLogicalDateDeadline"
    # the run of business date D has logical date D 00:00 Asia/Shanghai: D+1 07:00 by default
    assert alert.interval == dt.timedelta(days=1, hours=7)
    assert alert.callback.path == "puhui.alerts.warehouse_deadline_missed"
    sensor = deadline_dag.get_task("wait_for_warehouse")
    assert sensor.mode == "reschedule"


def test_publish_tasks_partition_by_business_date():
    import datetime as dt

    from airflow.sdk.execution_time.context import OutletEventAccessors

    from puhui.assets import CORE_BANKING_RAW
    from puhui.orchestration import publish

    events = OutletEventAccessors()
    logical = dt.datetime(2016, 1, 4, 16, 0, tzinfo=dt.UTC)  # 2016-01-05 00:00 in Shanghai
    day = publish(CORE_BANKING_RAW, {"logical_date": logical, "outlet_events": events})
    assert day == dt.date(2016, 1, 5)
    assert events[CORE_BANKING_RAW].partition_keys == {"2016-01-05"}
    assert events[CORE_BANKING_RAW].extra == {"business_date": "2016-01-05"}


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


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_TASKS))
def test_dags_can_load_the_plan_baseline_date(dagbag, dag_id):
    """A run for 2015-12-31 (the plan's baseline) must run tasks, not succeed empty."""
    import pendulum

    baseline = pendulum.datetime(2015, 12, 31, tz="Asia/Shanghai")
    dag = dagbag.dags[dag_id]
    assert dag.start_date <= baseline
    assert all((task.start_date or dag.start_date) <= baseline for task in dag.tasks)
