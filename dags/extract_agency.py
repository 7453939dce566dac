"""
### extract_agency

Loads the files that agency partners and government offices (代理业务/政府合作方) delivered
on one business date into `raw.agency__*`. Partners send only when they have something:
most dates have few files or none, and an empty date loads empty batches and succeeds.

1. **discover_partner_files**: lists the delivered files in `<landing>/<YYYYMMDD>/AGY/`
   per layout; unknown names are reported, not loaded. A file whose `.part` still exists
   is being written: the task fails and retries, so no file is silently left out.
2. **load_<entity>**, one task per raw table: detect the encoding (UTF-8 BOM or GBK; xlsx),
   parse the header/detail blocks, reconcile every batch's details against its header
   totals (a file that does not add up loads nothing, is audited as `failed`, and fails
   the task after the date's other files have loaded), skip re-sent duplicates (same
   batch number or identical content; audited as `duplicate`), validate with the pandera
   models in `schemas/agency.py`, quarantine rejected rows with their rule, hash personal
   data, and replace the date's batch with COPY in one transaction.
3. **publish_agency**: emits the `raw.agency` asset for the date, partitioned by the
   business date; `build_warehouse` runs for a date once all three sources have landed.

One run per business date: the data interval [D, D+1) in Asia/Shanghai processes date D.
Runs go one at a time so that a batch re-sent on a later date is recognised as a re-send.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from puhui.assets import AGENCY_RAW
from puhui.config import TIMEZONE
from puhui.orchestration import DEFAULT_ARGS, business_date_of, publish

# The partners' entities, each loaded as one batch per business date by its own task.
ENTITIES = (
    "subsidy_batches",
    "subsidy_details",
    "subsidy_returns",
    "withholding",
    "payroll",
    "low_income_register",
    "division_register",
    "literacy_events",
)


@dag(
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2015, 12, 31, tz=TIMEZONE),
    catchup=False,
    # A batch number already loaded on an earlier date is skipped as a re-send, which is
    # only right when dates load in order: one run at a time (backfills included).
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["puhui", "extract", "agency"],
    doc_md=__doc__,
)
def extract_agency():
    @task
    def discover_partner_files(**context) -> dict[str, list[str]]:
        from puhui.extract.agency import discover_partner_files

        return discover_partner_files(business_date_of(context))

    @task
    def load_entity(entity: str, **context) -> dict:
        from puhui.extract.agency import extract_entity

        return extract_entity(entity, business_date_of(context)).__dict__

    @task(outlets=[AGENCY_RAW])
    def publish_agency(**context):
        publish(AGENCY_RAW, context)

    loads = [load_entity.override(task_id=f"load_{entity}")(entity) for entity in ENTITIES]
    discover_partner_files() >> loads >> publish_agency()


extract_agency()
