"""
### build_warehouse

Builds the dbt project (`dbt_project/`) for one business date once all three sources of
that date have landed, then publishes the marts.

**Schedule**: Airflow's partition-aware asset timetable on `raw.core_banking`,
`raw.ebanking` and `raw.agency`. Each extract run emits its asset partitioned by the
business date (`2016-01-05`); a run of this DAG for that date is created only when all
three partitions of the same date have arrived, in whatever order and however late
(a backfill's runs emit them too). The run's `partition_key` is its business date.

1. **build_models**: one `dbt build` (seeds, models, unit tests, data tests). First it
   runs `ANALYZE` on the raw tables changed since their statistics were gathered (the
   night's batches land minutes before). The unit tests (hand-made rows, not the night's
   data) run when no successful whole-project build has passed them on the same project:
   the first build after a deploy runs them, later nights skip them (about 27 nodes and
   15-30 s on 2 cores; `ops.dbt_invocations.project_checksum` / `unit_tests_run`). Every
   node's result goes to `ops.dbt_invocations` / `ops.dbt_node_results`. A model error or
   a failing `severity: error` test fails the task (after its retries, one alert names the
   failing tests) and nothing is published; tests of `severity: warn` that find rows send
   a warning alert and the build continues.
2. **publish_marts**: emits the `marts` asset for the date.
3. **write_morning_report**: the self-contained HTML morning report of the date
   (`puhui.report`: scorecard, monthly trajectories against the target line, towns),
   written to `<PUHUI_HOME>/reports/morning-report-YYYYMMDD.html`. Skipped, with the
   reason, when `PUHUI_DBT_SELECT` limits the build to models that exclude the scorecard.

**Why one `dbt build` task and not Cosmos** (measured on this project's 2-core machine,
shared with other work, selection `+kpi_k09_archiving_rate` = 8 models and 56 tests, each
variant a whole `airflow dags test` run): one task running `dbt build` took 45 s (dbt alone:
28 s, of which a cold parse is most); Cosmos `ExecutionMode.LOCAL` with one task per model
(tests after each model, loaded from `manifest.json`) took 135 s, because every one of its
tasks starts its own dbt process that loads and parses the project again (about 10 s each
here) before a fraction of a second of SQL. The overhead grows with every model, and the
21-KPI project has dozens. Cosmos' `WATCHER` mode (one `dbt build` plus a sensor per model)
avoids the repeated start-up but needs a triggerer and a sensor slot per model; under
`dags test` it waited forever on the producer's XComs, and it would add nothing puhui needs:
dbt already reports per node, and `ops.dbt_node_results` keeps every node's outcome for BI.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import PartitionedAssetTimetable, dag, task

from puhui.assets import AGENCY_RAW, CORE_BANKING_RAW, EBANKING_RAW, WAREHOUSE_MARTS
from puhui.config import TIMEZONE
from puhui.orchestration import DEFAULT_ARGS


@dag(
    schedule=PartitionedAssetTimetable(assets=CORE_BANKING_RAW & EBANKING_RAW & AGENCY_RAW),
    start_date=pendulum.datetime(2015, 12, 31, tz=TIMEZONE),
    catchup=False,
    # dbt builds the whole project; two builds at once would race on the same tables.
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["puhui", "warehouse", "dbt"],
    doc_md=__doc__,
)
def build_warehouse():
    @task
    def build_models(**context) -> dict:
        from puhui.orchestration import build_for_run

        return build_for_run(context)

    @task(outlets=[WAREHOUSE_MARTS])
    def publish_marts(**context):
        from puhui.orchestration import publish

        publish(WAREHOUSE_MARTS, context)

    @task
    def write_morning_report(**context) -> str:
        from puhui.orchestration import report_for_run

        return report_for_run(context)

    build_models() >> publish_marts() >> write_morning_report()


build_warehouse()
