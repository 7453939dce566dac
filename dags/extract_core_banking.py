"""
### extract_core_banking

Loads the core banking system's T+1 unload (核心系统日终卸数) of one business date into
`raw.core_banking__*`.

1. **wait_for_control_files**: reschedule-mode sensor until every `.ok` control file of
   the date is in `<landing>/<YYYYMMDD>/CBS/` (times out after `PUHUI_SENSOR_TIMEOUT_SECONDS`).
2. **verify_control_files**: record count, byte size and MD5 of every data file against
   its control file; any mismatch stops the run before anything loads.
3. **load_<entity>**, one task per CBS table: decode GBK, validate with the pandera
   models in `schemas/core_banking.py`, quarantine rejected rows with their reason, hash
   personal data, and replace the date's batch with COPY in one transaction.
   **load_regions** runs first among the tables that carry a village code (households,
   archives, outlets, terminals, managers, visits, investments, customers,
   credit_ratings), which are checked against that day's region batch; loans,
   loan_balances, loan_txns, accounts, cards and txns load straight after verification.
4. **publish_core_banking**: emits the `raw.core_banking` asset for the date, partitioned by the
   business date; `build_warehouse` runs for a date once all three sources have landed.

One run per business date: the data interval [D, D+1) in Asia/Shanghai processes date D.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, PokeReturnValue, dag, task

from puhui.assets import CORE_BANKING_RAW
from puhui.config import TIMEZONE, get_settings
from puhui.orchestration import DEFAULT_ARGS, business_date_of, publish

_settings = get_settings()

# Tables that carry a village code are validated against the day's region batch, so they
# load after regions; the others only need verified files.
VILLAGE_TABLES = (
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
OTHER_TABLES = ("loans", "loan_balances", "loan_txns", "accounts", "cards", "txns")


@dag(
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
    # The plan's baseline date 2015-12-31 is the first business date to load: a run
    # before a DAG's start_date would be marked successful without running any task.
    start_date=pendulum.datetime(2015, 12, 31, tz=TIMEZONE),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["puhui", "extract", "core_banking"],
    doc_md=__doc__,
)
def extract_core_banking():
    @task.sensor(
        poke_interval=_settings.sensor_poke_seconds,
        timeout=_settings.sensor_timeout_seconds,
        mode="reschedule",
    )
    def wait_for_control_files(**context) -> PokeReturnValue:
        from puhui.extract.core_banking import missing_control_files

        missing = missing_control_files(business_date_of(context))
        return PokeReturnValue(is_done=not missing, xcom_value=[str(p) for p in missing])

    @task
    def verify_control_files(**context) -> dict[str, int]:
        from puhui.extract.core_banking import verify_control_files

        return verify_control_files(business_date_of(context))

    @task
    def load_table(entity: str, **context) -> dict:
        from puhui.extract.core_banking import extract_table

        return extract_table(entity, business_date_of(context)).__dict__

    @task(outlets=[CORE_BANKING_RAW])
    def publish_core_banking(**context):
        publish(CORE_BANKING_RAW, context)

    def load(entity: str):
        return load_table.override(task_id=f"load_{entity}")(entity)

    verified = wait_for_control_files() >> verify_control_files()
    regions = load("regions")
    verified >> regions
    after_regions = [load(entity) for entity in VILLAGE_TABLES]
    independent = [load(entity) for entity in OTHER_TABLES]
    regions >> after_regions
    verified >> independent
    [*after_regions, *independent] >> publish_core_banking()


extract_core_banking()
