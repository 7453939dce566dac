"""Glue between Airflow's task context and puhui: the business date of a run, and so on.

Kept free of heavy imports: DAG files import it at parse time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from puhui.config import TIMEZONE, get_settings

TZ = ZoneInfo(TIMEZONE)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "puhui-data",
    "retries": get_settings().task_retries,
    "retry_delay": dt.timedelta(minutes=5),
}


def business_date_of(context: Mapping[str, Any]) -> dt.date:
    """The business date a daily run processes: its logical date, in Asia/Shanghai.

    Extract DAGs use a data-interval timetable with midnight boundaries (Asia/Shanghai): the
    scheduled run for business date D covers [D, D+1), has logical date D, and starts once D
    has ended, which is when the T+1 unload of D arrives. A manual run or backfill for D is
    given logical date D as well.
    """
    logical = context.get("logical_date") or context.get("data_interval_start")
    if logical is None:
        raise ValueError("run has neither a logical date nor a data interval")
    return logical.astimezone(TZ).date()


def business_dates_from_events(events: Mapping[Any, Iterable[Any]]) -> list[dt.date]:
    """Business dates named by triggering asset events (their ``extra['business_date']``)."""
    dates = set()
    for asset_events in events.values():
        for event in asset_events:
            value = (getattr(event, "extra", None) or {}).get("business_date")
            if value:
                dates.add(dt.date.fromisoformat(value))
    return sorted(dates)
