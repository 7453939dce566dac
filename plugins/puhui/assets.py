"""Airflow Assets of puhui, defined once and imported by every DAG.

An extract DAG emits its source's asset when a business date has fully landed in ``raw``;
the event's ``extra`` carries ``{"business_date": "YYYY-MM-DD"}``.
"""

from __future__ import annotations

from airflow.sdk import Asset

CORE_BANKING_RAW = Asset(name="raw.core_banking", uri="puhui://warehouse/raw/core_banking")
EBANKING_RAW = Asset(name="raw.ebanking", uri="puhui://warehouse/raw/ebanking")
AGENCY_RAW = Asset(name="raw.agency", uri="puhui://warehouse/raw/agency")
WAREHOUSE_MARTS = Asset(name="marts", uri="puhui://warehouse/marts")
