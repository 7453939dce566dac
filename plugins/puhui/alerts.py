"""Alerts: what reaches a person when the nightly pipeline needs one, and its history.

Three kinds, each sent through Apprise to every URL in ``PUHUI_ALERT_URLS`` (DingTalk,
WeCom, Slack, e-mail, a JSON webhook, ...) and recorded in ``ops.alert_history``:

- ``task_failed``: a task failed for good. :class:`FailureAlert` is every task's
  ``on_failure_callback`` (``puhui.orchestration.DEFAULT_ARGS``); Airflow calls it once,
  after the last try (a try that will be retried calls ``on_retry_callback``, which only
  logs). The message names the DAG, task, business date, try number, the log, the error,
  and for data-quality failures the counts and top reasons from ``quarantine.rejected_rows``
  and ``ops.load_audit`` (extract DAGs) or the failing dbt tests (``build_warehouse``).
- ``dbt_warning``: the warehouse was built but tests of ``severity: warn`` found rows.
- ``deadline_missed``: the nightly warehouse of a business date was not built by
  ``PUHUI_WAREHOUSE_DEADLINE`` (Airflow Deadline Alert of ``check_warehouse_deadline``).

Nothing personal goes into an alert: quarantine reasons are rule and column names with
counts, never the rejected values.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow.sdk import BaseNotifier

from puhui.config import TIMEZONE, Settings, get_settings

log = logging.getLogger(__name__)

TOP_REASONS = 5


@dataclass(frozen=True)
class Alert:
    kind: str  # task_failed | dbt_warning | deadline_missed
    title: str
    body: str
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    business_date: dt.date | None = None
    try_number: int | None = None


# --- sending and recording ------------------------------------------------------------------


def send(alert: Alert, settings: Settings | None = None) -> bool:
    """Send ``alert`` to every configured Apprise URL and record it; True if all took it."""
    settings = settings or get_settings()
    urls = settings.alert_urls
    delivered = False
    if urls:
        import apprise

        client = apprise.Apprise()
        for url in urls:
            if not client.add(url):
                log.error("not a valid Apprise URL (alert target skipped): %s", _redact(url))
        delivered = bool(len(client)) and bool(
            client.notify(title=alert.title, body=alert.body, body_format=apprise.NotifyFormat.TEXT)
        )
        if not delivered:
            log.error("alert could not be delivered to every target: %s", alert.title)
    else:
        log.warning("PUHUI_ALERT_URLS is empty; alert only logged: %s\n%s", alert.title, alert.body)
    _record(alert, len(urls), delivered, settings)
    return delivered


def _redact(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://..." if rest else url


def _record(alert: Alert, targets: int, delivered: bool, settings: Settings) -> None:
    try:
        from puhui import db

        with db.connect(settings) as conn:
            conn.execute(
                "insert into ops.alert_history (kind, dag_id, task_id, run_id, business_date,"
                " try_number, title, body, targets, delivered)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    alert.kind,
                    alert.dag_id,
                    alert.task_id,
                    alert.run_id,
                    alert.business_date,
                    alert.try_number,
                    alert.title,
                    alert.body,
                    targets,
                    delivered,
                ),
            )
            conn.commit()
    except Exception:  # the history must never stop the alert itself
        log.exception("could not record the alert in ops.alert_history")


# --- task failures --------------------------------------------------------------------------


class FailureAlert(BaseNotifier):
    """``on_failure_callback`` of every puhui task: one alert when a task fails for good."""

    def notify(self, context):
        send(failure_alert(context))


class RetryLog(BaseNotifier):
    """``on_retry_callback``: a try failed and will be retried; logged, nobody is woken."""

    def notify(self, context):
        ti = context.get("ti") or context.get("task_instance")
        log.warning(
            "%s.%s try %s failed and will be retried: %s",
            getattr(ti, "dag_id", "?"),
            getattr(ti, "task_id", "?"),
            getattr(ti, "try_number", "?"),
            context.get("exception"),
        )


def _business_date(context: Mapping[str, Any]) -> dt.date | None:
    from puhui.orchestration import business_date_of

    try:
        return business_date_of(context)
    except Exception:
        return None


def _log_location(ti) -> list[str]:
    lines = []
    url = None
    try:
        url = ti.log_url
    except Exception:
        pass
    if url:
        lines.append(f"Log: {url}")
    try:
        from airflow.sdk.configuration import conf

        folder = conf.get("logging", "base_log_folder")
    except Exception:
        folder = None
    if folder:
        mapped = f"map_index={ti.map_index}/" if (getattr(ti, "map_index", -1) or -1) >= 0 else ""
        lines.append(
            f"Log file: {folder}/dag_id={ti.dag_id}/run_id={ti.run_id}/task_id={ti.task_id}/"
            f"{mapped}attempt={ti.try_number}.log"
        )
    return lines


def failure_alert(context: Mapping[str, Any], settings: Settings | None = None) -> Alert:
    """The alert of a task that failed on its last try, from the task's Airflow context."""
    settings = settings or get_settings()
    ti = context.get("ti") or context.get("task_instance")
    dag_id, task_id = ti.dag_id, ti.task_id
    business_date = _business_date(context)
    try_number = int(ti.try_number or 0)
    tries = int(getattr(ti, "max_tries", 0) or 0) + 1
    exception = context.get("exception")
    day = business_date.isoformat() if business_date else "?"
    title = f"[puhui] FAILED {dag_id}.{task_id} for business date {day} (try {try_number}/{tries})"
    lines = [
        f"DAG: {dag_id}",
        f"Task: {task_id}",
        f"Business date: {day}",
        f"Run: {ti.run_id}",
        f"Try: {try_number} of {max(tries, try_number)} (final try; no retry left)",
        *_log_location(ti),
    ]
    if exception is not None:
        text = str(exception).strip().splitlines()
        lines.append(f"Error: {type(exception).__name__}: {text[0] if text else ''}")
    quality = data_quality_lines(dag_id, task_id, business_date, exception, settings)
    if quality:
        lines += ["", *quality]
    return Alert(
        kind="task_failed",
        title=title,
        body="\n".join(lines),
        dag_id=dag_id,
        task_id=task_id,
        run_id=ti.run_id,
        business_date=business_date,
        try_number=try_number,
    )


def data_quality_lines(
    dag_id: str,
    task_id: str,
    business_date: dt.date | None,
    exception: BaseException | None,
    settings: Settings,
) -> list[str]:
    """Counts and top reasons: failing dbt tests, or quarantine and audit of the source."""
    failures = getattr(exception, "failures", None)
    if failures:
        shown = failures[:10]
        lines = [f"Failing dbt nodes ({len(failures)}):"]
        lines += [f"- {n.describe()}" for n in shown]
        if len(failures) > len(shown):
            lines.append(f"- ... and {len(failures) - len(shown)} more (ops.dbt_node_results)")
        return lines
    if not dag_id.startswith("extract_") or business_date is None:
        return []
    source = dag_id.removeprefix("extract_")
    table = None
    for prefix in ("load_", "extract_"):
        if task_id.startswith(prefix):
            table = task_id.removeprefix(prefix)
    try:
        return quarantine_summary(source, business_date, table, settings)
    except Exception:
        log.exception("could not read quarantine/audit for the alert")
        return []


def quarantine_summary(
    source: str, business_date: dt.date, table: str | None, settings: Settings
) -> list[str]:
    """Quarantined rows by table with the top rules, and audit rows not loaded cleanly."""
    from puhui import db

    lines: list[str] = []
    with db.connect(settings) as conn:
        audit = conn.execute(
            "select table_name, status, coalesce(rows_read, 0), coalesce(rows_quarantined, 0),"
            " left(coalesce(error, ''), 200) from ops.load_audit"
            " where source_system = %s and business_date = %s"
            " and (status <> 'loaded' or coalesce(rows_quarantined, 0) > 0)"
            " order by (table_name = %s) desc, table_name, batch_id limit 10",
            (source, business_date, table or ""),
        ).fetchall()
        reasons = conn.execute(
            "select table_name, rule, coalesce(column_name, ''), count(*)"
            " from quarantine.rejected_rows where source_system = %s and business_date = %s"
            " group by 1, 2, 3 order by (table_name = %s) desc, 4 desc limit %s",
            (source, business_date, table or "", TOP_REASONS),
        ).fetchall()
        total = conn.execute(
            "select count(*) from quarantine.rejected_rows"
            " where source_system = %s and business_date = %s",
            (source, business_date),
        ).fetchone()[0]
    if audit:
        lines.append(f"Load audit (ops.load_audit) of {source} on {business_date}:")
        for name, status, read, quarantined, error in audit:
            detail = f"; {error}" if error else ""
            lines.append(f"- {name}: {status}, {read:,} read, {quarantined:,} quarantined{detail}")
    if total:
        lines.append(
            f"Quarantined rows (quarantine.rejected_rows) of {source} on {business_date}: "
            f"{total:,}; top reasons:"
        )
        for name, rule, column, count in reasons:
            where = f".{column}" if column else ""
            lines.append(f"- {name}{where}: {rule} x {count:,}")
    return lines


# --- dbt warnings ---------------------------------------------------------------------------


def dbt_warning_alert(
    business_date: dt.date | None, warnings: Sequence, run: Mapping[str, Any] | None = None
) -> Alert:
    run = run or {}
    day = business_date.isoformat() if business_date else "?"
    lines = [
        f"DAG: {run.get('dag_id', 'build_warehouse')}",
        f"Task: {run.get('task_id', 'build_models')}",
        f"Business date: {day}",
        f"Run: {run.get('run_id', '?')}",
        f"Try: {run.get('try_number', '?')}",
        "The marts were built and published; these tests (severity: warn) found rows:",
        *(f"- {n.describe()}" for n in warnings[:20]),
    ]
    return Alert(
        kind="dbt_warning",
        title=f"[puhui] WARNING {len(warnings)} dbt test(s) warned for business date {day}",
        body="\n".join(lines),
        dag_id=run.get("dag_id"),
        task_id=run.get("task_id"),
        run_id=run.get("run_id"),
        business_date=business_date,
        try_number=run.get("try_number"),
    )


# --- the deadline ---------------------------------------------------------------------------


def deadline_interval(settings: Settings | None = None) -> dt.timedelta:
    """From a business date's midnight (its run's logical date) to the deadline, the next
    morning at ``PUHUI_WAREHOUSE_DEADLINE`` (Asia/Shanghai)."""
    settings = settings or get_settings()
    hours, minutes = (int(x) for x in settings.warehouse_deadline.split(":"))
    return dt.timedelta(days=1, hours=hours, minutes=minutes)


def warehouse_deadline_missed(context: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    """Deadline Alert callback (``SyncCallback``, run by the executor) of
    ``check_warehouse_deadline``: the warehouse of the run's business date is late."""
    send(deadline_alert(context or {}))


def deadline_alert(context: Mapping[str, Any], settings: Settings | None = None) -> Alert:
    from zoneinfo import ZoneInfo

    settings = settings or get_settings()
    tz = ZoneInfo(TIMEZONE)
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    logical = dag_run.get("logical_date")
    business_date = None
    if logical:
        business_date = _as_datetime(logical).astimezone(tz).date()
    due = deadline.get("deadline_time")
    due_text = _as_datetime(due).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if due else "?"
    day = business_date.isoformat() if business_date else "?"
    lines = [
        f"DAG: build_warehouse (watched by {dag_run.get('dag_id', 'check_warehouse_deadline')})",
        f"Business date: {day}",
        f"Deadline: {due_text} (PUHUI_WAREHOUSE_DEADLINE={settings.warehouse_deadline} "
        f"{TIMEZONE}, the morning after the business date)",
        f"Watch run: {dag_run.get('dag_run_id') or dag_run.get('run_id', '?')}",
    ]
    if business_date is not None:
        try:
            lines += ["", *warehouse_status_lines(business_date, settings)]
        except Exception:
            log.exception("could not read the warehouse status for the deadline alert")
    return Alert(
        kind="deadline_missed",
        title=f"[puhui] DEADLINE MISSED: warehouse for business date {day} not built by {due_text}",
        body="\n".join(lines),
        dag_id="build_warehouse",
        run_id=dag_run.get("dag_run_id") or dag_run.get("run_id"),
        business_date=business_date,
    )


def _as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def warehouse_status_lines(business_date: dt.date, settings: Settings) -> list[str]:
    """What landed for the date (per source) and the last dbt build for it."""
    from puhui import db
    from puhui.assets import SOURCE_ASSETS

    with db.connect(settings) as conn:
        landed = dict(
            conn.execute(
                "select source_system,"
                " count(*) filter (where status = 'loaded')::text || ' loaded, '"
                " || count(*) filter (where status not in ('loaded', 'duplicate'))::text"
                " || ' not loaded' from ops.load_audit where business_date = %s group by 1",
                (business_date,),
            ).fetchall()
        )
        build = conn.execute(
            "select status, nodes_error, tests_warned, started_at from ops.dbt_invocations"
            " where business_date = %s order by started_at desc nulls last limit 1",
            (business_date,),
        ).fetchone()
    lines = ["Sources landed (ops.load_audit batches):"]
    lines += [f"- {s}: {landed.get(s, 'nothing yet')}" for s in SOURCE_ASSETS]
    if build:
        lines.append(
            f"Last dbt build for the date: {build[0]} ({build[1]} errors, {build[2]} warnings)"
        )
    else:
        lines.append("No dbt build for the date yet (build_warehouse has not run).")
    return lines


def warehouse_built(business_date: dt.date, settings: Settings | None = None) -> bool:
    """True once a dbt build for ``business_date`` finished without errors."""
    from puhui import db

    with db.connect(settings or get_settings()) as conn:
        row = conn.execute(
            "select 1 from ops.dbt_invocations where business_date = %s"
            " and status in ('success', 'warn') limit 1",
            (business_date,),
        ).fetchone()
    return row is not None
