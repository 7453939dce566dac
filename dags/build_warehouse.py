"""
### build_warehouse

Builds the dbt project (`dbt_project/`) in the warehouse once a source has landed:
staging views, intermediate models and the marts BI tools read, with every dbt test.
A failing test stops the build (the marts keep their previous state for any model
downstream of the failure).

Scheduled on the `raw.core_banking` asset; the triggering events name the business
dates that landed.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from puhui.assets import CORE_BANKING_RAW, WAREHOUSE_MARTS
from puhui.config import TIMEZONE
from puhui.orchestration import DEFAULT_ARGS


@dag(
    schedule=[CORE_BANKING_RAW],
    start_date=pendulum.datetime(2016, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["puhui", "warehouse", "dbt"],
    doc_md=__doc__,
)
def build_warehouse():
    @task(outlets=[WAREHOUSE_MARTS])
    def build_models(**context) -> list[str]:
        from puhui.orchestration import business_dates_from_events
        from puhui.warehouse.dbt import build

        dates = business_dates_from_events(context.get("triggering_asset_events") or {})
        build()
        return [d.isoformat() for d in dates]

    build_models()


build_warehouse()
