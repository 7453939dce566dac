"""Airflow Assets of puhui, defined once and imported by every DAG.

An extract DAG emits its source's asset when a business date has fully landed in ``raw``.
Every event is *partitioned* by that business date: ``partition_key`` is the date as
``YYYY-MM-DD`` (:data:`PARTITION_FORMAT`), and ``extra`` repeats it as
``{"business_date": "YYYY-MM-DD"}`` for readers that look at extras. ``build_warehouse``
is scheduled on the three source assets with Airflow's partition-aware timetable, so it
runs for a date once all three sources have landed *for that date*.
"""

from __future__ import annotations

from airflow.sdk import Asset

PARTITION_FORMAT = "%Y-%m-%d"

CORE_BANKING_RAW = Asset(name="raw.core_banking", uri="puhui://warehouse/raw/core_banking")
EBANKING_RAW = Asset(name="raw.ebanking", uri="puhui://warehouse/raw/ebanking")
AGENCY_RAW = Asset(name="raw.agency", uri="puhui://warehouse/raw/agency")
WAREHOUSE_MARTS = Asset(name="marts", uri="puhui://warehouse/marts")

# Source system -> the asset its extract DAG emits (and the DAG's id).
SOURCE_ASSETS = {
    "core_banking": CORE_BANKING_RAW,
    "ebanking": EBANKING_RAW,
    "agency": AGENCY_RAW,
}
EXTRACT_DAGS = {source: f"extract_{source}" for source in SOURCE_ASSETS}
