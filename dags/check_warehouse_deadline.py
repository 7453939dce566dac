"""
### check_warehouse_deadline

Watches that the nightly warehouse of each business date is built in time.

One run per business date D (data interval [D, D+1) in Asia/Shanghai, started at midnight
like the extracts). **wait_for_warehouse** waits (reschedule mode, no worker slot held)
until a dbt build for D has finished without errors (`ops.dbt_invocations`).

The run carries an Airflow **Deadline Alert**: if it has not finished by the morning after
D at `PUHUI_WAREHOUSE_DEADLINE` (default 07:00 Asia/Shanghai), the scheduler hands
`puhui.alerts.warehouse_deadline_missed` to the executor, which sends the deadline alert
through Apprise (`PUHUI_ALERT_URLS`) naming the date, what landed and the last build. The
deadline does not depend on the data: it fires when a source never arrived, when
`build_warehouse` failed or is still running, and when nothing ran at all.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import (
    CronDataIntervalTimetable,
    DeadlineAlert,
    DeadlineReference,
    PokeReturnValue,
    SyncCallback,
    dag,
    task,
)

from puhui.alerts import deadline_interval, warehouse_deadline_missed
from puhui.config import TIMEZONE, get_settings
from puhui.orchestration import DEFAULT_ARGS, business_date_of

_settings = get_settings()


@dag(
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2015, 12, 31, tz=TIMEZONE),
    catchup=False,
    default_args=DEFAULT_ARGS,
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=deadline_interval(_settings),
        callback=SyncCallback(warehouse_deadline_missed),
        name="warehouse_built_by_morning",
    ),
    tags=["puhui", "warehouse", "deadline"],
    doc_md=__doc__,
)
def check_warehouse_deadline():
    @task.sensor(poke_interval=_settings.sensor_poke_seconds, timeout=20 * 3600, mode="reschedule")
    def wait_for_warehouse(**context) -> PokeReturnValue:
        from puhui.alerts import warehouse_built

        return PokeReturnValue(is_done=warehouse_built(business_date_of(context)))

    wait_for_warehouse()


check_warehouse_deadline()
