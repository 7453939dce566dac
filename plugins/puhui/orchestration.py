"""Glue between Airflow's task context and puhui: the business date of a run, publishing a
source's asset for that date, the default task arguments (retries, the failure alert).

Kept free of heavy imports: DAG files import it at parse time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from puhui.alerts import FailureAlert, RetryLog
from puhui.assets import PARTITION_FORMAT
from puhui.config import TIMEZONE, get_settings

TZ = ZoneInfo(TIMEZONE)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "puhui-data",
    "retries": get_settings().task_retries,
    "retry_delay": dt.timedelta(seconds=get_settings().retry_delay_seconds),
    # Airflow calls on_failure_callback only when a task has failed for good (its last try);
    # a try that will be retried calls on_retry_callback, which only logs. So one failure
    # reaches people exactly once, with the final try number.
    "on_failure_callback": [FailureAlert()],
    "on_retry_callback": [RetryLog()],
}


def business_date_of(context: Mapping[str, Any]) -> dt.date:
    """The business date a run processes.

    A partitioned run (``build_warehouse``, triggered by the sources' partitioned asset
    events, or triggered with a partition key) processes its partition key.

    Extract DAGs use a data-interval timetable with midnight boundaries (Asia/Shanghai): the
    scheduled run for business date D covers [D, D+1), has logical date D, and starts once D
    has ended, which is when the T+1 unload of D arrives. A manual run or backfill for D is
    given logical date D as well.
    """
    dag_run = context.get("dag_run")
    partition_key = getattr(dag_run, "partition_key", None) or context.get("partition_key")
    if partition_key:
        return dt.datetime.strptime(partition_key[:10], PARTITION_FORMAT).date()
    logical = context.get("logical_date") or context.get("data_interval_start")
    if logical is None:
        raise ValueError("run has neither a partition key nor a logical date")
    return logical.astimezone(TZ).date()


def partition_key_of(business_date: dt.date) -> str:
    return business_date.strftime(PARTITION_FORMAT)


def publish(asset, context: Mapping[str, Any], **extra: Any) -> dt.date:
    """Emit ``asset``'s event for the run's business date: partition key and extra."""
    business_date = business_date_of(context)
    accessor = context["outlet_events"][asset]
    accessor.extra = {"business_date": business_date.isoformat(), **extra}
    accessor.add_partitions(partition_key_of(business_date))
    return business_date


def business_dates_from_events(events: Mapping[Any, Iterable[Any]]) -> list[dt.date]:
    """Business dates named by triggering asset events (partition key or ``extra``)."""
    dates = set()
    for asset_events in events.values():
        for event in asset_events:
            value = getattr(event, "partition_key", None) or (
                (getattr(event, "extra", None) or {}).get("business_date")
            )
            if value:
                dates.add(dt.date.fromisoformat(value[:10]))
    return sorted(dates)


def run_info(context: Mapping[str, Any]) -> dict[str, Any]:
    """DAG, task, run and try of a task, for records and alerts."""
    ti = context.get("ti") or context.get("task_instance")
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
    }


def build_for_run(context: Mapping[str, Any]) -> dict[str, Any]:
    """``build_warehouse.build_models``: dbt build for the run's business date.

    Errors raise (the task fails; the final try's alert lists the failing tests);
    warnings send their own alert and the build counts as done.
    """
    from puhui.alerts import dbt_warning_alert, send
    from puhui.warehouse.dbt import build

    business_date = business_date_of(context)
    run = run_info(context)
    result = build(business_date=business_date, run=run)
    if result.warnings:
        send(dbt_warning_alert(business_date, result.warnings, run))
    return {
        "business_date": business_date.isoformat(),
        "invocation_id": result.invocation_id,
        "status": result.status,
        "nodes": len(result.nodes),
        "warnings": len(result.warnings),
        "seconds": round(result.elapsed_seconds, 1),
    }


def report_for_run(context: Mapping[str, Any]) -> str:
    """``build_warehouse.write_morning_report``: the morning report of the run's date.

    A nightly build limited by ``PUHUI_DBT_SELECT`` to part of the project may not build
    the scorecard; the report is then skipped with the reason, not failed. With the whole
    project selected, a missing scorecard is an error like any other.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    from puhui import db
    from puhui.report import build_report

    settings = get_settings()
    if settings.dbt_select:
        with db.connect(settings) as conn:
            built = conn.execute("select to_regclass('marts.scorecard')").fetchone()[0]
        if built is None:
            raise AirflowSkipException(
                "no morning report: marts.scorecard is not built by the dbt selection "
                f"PUHUI_DBT_SELECT={' '.join(settings.dbt_select)!r}"
            )
    return str(build_report(business_date_of(context), settings))
