"""
### extract_ebanking

Extracts the 丰收互联 e-banking platform's OLTP database (users, logins, transactions) of
one business date into `raw.ebanking__*`, incrementally.

1. **extract_users**, **extract_logins**, **extract_transactions** (independent): read the
   rows whose `updated_at` lies in [last night's watermark - overlap, end of the business
   date) through SQLAlchemy (`PUHUI_EBANKING_URL`, default the simulator's SQLite file),
   validate them with the pandera models in `schemas/ebanking.py`, quarantine rejected
   rows with their rule, hash personal data, and upsert on the natural key in one
   transaction: an updated row replaces its earlier version. The night's watermark
   (`ops.extract_watermark`) and audit row (`ops.load_audit`) are written in the same
   transaction; rerunning a night reads the same window and leaves raw unchanged.
2. **publish_ebanking**: emits the `raw.ebanking` asset for the date, partitioned by the
   business date; `build_warehouse` runs for a date once all three sources have landed.

One run per business date: the data interval [D, D+1) in Asia/Shanghai processes date D.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from puhui.assets import EBANKING_RAW
from puhui.config import TIMEZONE
from puhui.orchestration import DEFAULT_ARGS, business_date_of, publish


@dag(
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2015, 12, 31, tz=TIMEZONE),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["puhui", "extract", "ebanking"],
    doc_md=__doc__,
)
def extract_ebanking():
    @task
    def extract_users(**context) -> dict:
        from puhui.extract.ebanking import extract_ebanking

        return extract_ebanking("users", business_date_of(context)).__dict__

    @task
    def extract_logins(**context) -> dict:
        from puhui.extract.ebanking import extract_ebanking

        return extract_ebanking("logins", business_date_of(context)).__dict__

    @task
    def extract_transactions(**context) -> dict:
        from puhui.extract.ebanking import extract_ebanking

        return extract_ebanking("transactions", business_date_of(context)).__dict__

    @task(outlets=[EBANKING_RAW])
    def publish_ebanking(**context):
        publish(EBANKING_RAW, context)

    [extract_users(), extract_logins(), extract_transactions()] >> publish_ebanking()


extract_ebanking()
