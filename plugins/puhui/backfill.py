"""``puhui backfill``: reload a range of business dates through Airflow's own backfills.

For each selected source, one Airflow backfill of its extract DAG (``POST
/api/v2/backfills``, the same as ``airflow backfill create``): its runs show in the Airflow
UI under the backfill and can be paused or cancelled there. Every extract run emits its
source's asset partitioned by the business date, so ``build_warehouse`` runs for a date as
soon as all three sources of that date have landed. When only some sources are reloaded
(``--sources``) or only some runs are reprocessed, the other sources of a date emit nothing
new; puhui then triggers ``build_warehouse`` for that date itself (a run with the date as
partition key) once the date's reloads succeeded.

Order and correctness:

- ``extract_agency`` recognises a partner batch re-sent on a later date as a re-send only
  when dates load in order, so it runs one date at a time, oldest first (the DAG's
  ``max_active_runs=1``, and the backfill's too). If agency dates *after* the range were
  already loaded, the agency backfill is extended to the latest of them (every run
  reprocessed): loading an old date after newer ones then gives the same raw tables, and so
  the same warehouse, as loading in order.
- e-banking reads each night's window from the watermark of the night before, so its
  backfill also goes one date at a time, oldest first.
- The warehouse build is one ``dbt build`` whose incremental models take every raw batch
  loaded since their last build, whatever its business date.

Two ways to run it:

- **embedded** (no ``PUHUI_AIRFLOW_API_URL``): puhui starts the api-server, scheduler and
  dag-processor with its own Airflow home (:class:`EmbeddedAirflow`), runs the backfill and
  stops them. That scheduler creates no timetable runs of its own
  (``max_dagruns_to_create_per_loop=0``), only the backfill's, the asset-triggered builds
  and the ones puhui triggers: a backfill never starts "last night's" run as a side effect.
- **against a running Airflow** (``PUHUI_AIRFLOW_API_URL``, with ``PUHUI_AIRFLOW_API_USER``
  and ``PUHUI_AIRFLOW_API_PASSWORD``): the same calls through its REST API.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from puhui.assets import EXTRACT_DAGS, SOURCE_ASSETS
from puhui.config import TIMEZONE, Settings, get_settings

log = logging.getLogger(__name__)

SOURCES = tuple(SOURCE_ASSETS)
BUILD_DAG = "build_warehouse"
# puhui's --reprocess -> Airflow's reprocess_behavior. Airflow's "completed" re-runs every
# date that already has a run (succeeded or failed); "failed" only failed and missing ones;
# without --reprocess only dates that never ran get a run.
REPROCESS = {None: "none", "failed": "failed", "completed": "completed", "all": "completed"}
# One date at a time where a date's load depends on the dates before it.
IN_ORDER_SOURCES = ("ebanking", "agency")
FINAL_OK = {"success"}
FINAL_BAD = {"failed"}


class BackfillError(Exception):
    pass


# --- the REST API ---------------------------------------------------------------------------


class AirflowApi:
    """A small client of Airflow 3's REST API (``/api/v2``)."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    @classmethod
    def login(cls, base_url: str, user: str | None, password: str | None) -> AirflowApi:
        """Log in with a user and password (``POST /auth/token``); anonymous without them."""
        token = None
        if user:
            resp = httpx.post(
                f"{base_url.rstrip('/')}/auth/token",
                json={"username": user, "password": password or ""},
                timeout=30.0,
            )
            if resp.status_code >= 400:
                raise BackfillError(
                    f"Airflow login as {user} failed: {resp.status_code} {resp.text}"
                )
            token = resp.json()["access_token"]
        return cls(base_url, token)

    def request(self, method: str, path: str, *, retries: int = 20, **kwargs) -> Any:
        for attempt in range(retries + 1):
            try:
                resp = self.http.request(method, f"/api/v2{path}", **kwargs)
            except httpx.TransportError:
                # a busy api-server (2 shared cores) can be slow to answer: reads are safe to
                # repeat; a write is not, so it fails at once
                if method != "GET" or attempt >= 5:
                    raise
                time.sleep(2)
                continue
            # SQLite metadata (the embedded setup): a write can meet the scheduler's lock;
            # the api-server answers 503 and nothing was written, so try again.
            if resp.status_code != 503 or attempt == retries:
                break
            time.sleep(1 + attempt % 3)
        if resp.status_code >= 400:
            raise BackfillError(f"{method} /api/v2{path}: {resp.status_code} {resp.text[:500]}")
        return resp.json() if resp.content else None

    def healthy(self) -> bool:
        try:
            return self.http.get("/api/v2/monitor/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def dag(self, dag_id: str) -> dict | None:
        try:
            return self.request("GET", f"/dags/{dag_id}")
        except BackfillError:
            return None

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def create_backfill(
        self,
        dag_id: str,
        start: dt.date,
        end: dt.date,
        reprocess: str,
        max_active_runs: int,
    ) -> dict:
        return self.request(
            "POST",
            "/backfills",
            json={
                "dag_id": dag_id,
                "from_date": logical_date_of(start),
                "to_date": logical_date_of(end),
                "run_backwards": False,
                "reprocess_behavior": reprocess,
                "max_active_runs": max_active_runs,
                "dag_run_conf": {},
            },
        )

    def backfill(self, backfill_id: int) -> dict:
        return self.request("GET", f"/backfills/{backfill_id}")

    def cancel_backfill(self, backfill_id: int) -> None:
        self.request("PUT", f"/backfills/{backfill_id}/cancel")

    def dag_runs(self, dag_id: str, **params) -> list[dict]:
        runs, offset = [], 0
        while True:
            page = self.request(
                "GET",
                f"/dags/{dag_id}/dagRuns",
                params={"limit": 100, "offset": offset, **params},
            )
            runs += page["dag_runs"]
            offset += len(page["dag_runs"])
            if not page["dag_runs"] or offset >= page["total_entries"]:
                return runs

    def trigger(self, dag_id: str, partition_key: str, note: str = "") -> dict:
        return self.request(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            json={"logical_date": None, "partition_key": partition_key, "note": note or None},
        )


def logical_date_of(business_date: dt.date) -> str:
    """The logical date of the extract run that processes ``business_date``."""
    return f"{business_date.isoformat()}T00:00:00+08:00"


def business_date_of_run(run: dict) -> dt.date | None:
    key = run.get("partition_key")
    if key:
        return dt.date.fromisoformat(key[:10])
    logical = run.get("logical_date")
    if not logical:
        return None
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(logical.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(TIMEZONE)).date()


# --- the embedded Airflow -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class EmbeddedAirflow:
    """api-server, scheduler and dag-processor of puhui's Airflow home, as child processes.

    ``extra_env`` overrides Airflow settings (tests use it for CeleryExecutor). Logs go to
    ``<airflow home>/logs/embedded/<component>.log``.
    """

    settings: Settings
    port: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    components: tuple[str, ...] = ("api-server", "scheduler", "dag-processor")
    # extra environment of one component (e.g. each Celery worker's log-server port)
    component_env: dict[str, dict[str, str]] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        from puhui.airflow_env import airflow_env

        env = airflow_env(self.settings)
        env.update(
            {
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                # Local processes only, on loopback: every request is an admin's.
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API_AUTH__JWT_SECRET": env.get(
                    "AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_hex(16)
                ),
                # Only backfill, triggered and asset-partition runs: no "latest interval" run
                # of every unpaused DAG as a side effect of starting a scheduler.
                "AIRFLOW__SCHEDULER__MAX_DAGRUNS_TO_CREATE_PER_LOOP": "0",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "60",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__API__WORKERS": "1",
                # Log servers of the scheduler's executor (and a triggerer): free ports, so
                # several puhui Airflows (tests, engineers) can share a machine.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, dag_ids: Iterable[str] = (), timeout: float = 240) -> EmbeddedAirflow:
        from puhui.airflow_env import airflow_executable, ensure_metadata_db

        ensure_metadata_db(self.settings)
        self.port = self.port or free_port()
        env = self.env()
        log_dir = self.settings.airflow_home / "logs" / "embedded"
        log_dir.mkdir(parents=True, exist_ok=True)
        api = AirflowApi(self.base_url)
        # The api-server first: tasks report to it over HTTP.
        for component in self.components:
            args = [airflow_executable(), *component.split()]
            if component == "api-server":
                args += ["--port", str(self.port), "--host", "127.0.0.1"]
            name = re.sub(r"[^A-Za-z0-9_.-]+", "-", component).strip("-")
            logfile = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115
            self.processes[component] = subprocess.Popen(
                args,
                env={**env, **self.component_env.get(component, {})},
                stdout=logfile,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its children
            )
            if component == "api-server":
                self._wait(api.healthy, timeout, "the api-server to answer")
        for dag_id in dag_ids:
            self._wait(lambda d=dag_id: api.dag(d) is not None, timeout, f"DAG {dag_id} parsed")
        return self

    def _wait(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise BackfillError(
                        f"airflow {name} exited ({proc.returncode}) waiting for {what}"
                    )
            time.sleep(1)
        raise BackfillError(f"timed out after {timeout:.0f}s waiting for {what}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM each component's process group, then SIGKILL what is left."""
        for proc in reversed(list(self.processes.values())):
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.processes.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        self.processes.clear()

    def __enter__(self) -> EmbeddedAirflow:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group the component leads (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def airflow_api(settings: Settings, dag_ids: Iterable[str]):
    """The Airflow to backfill with: a running one, or an embedded one for the duration."""
    if settings.airflow_api_url:
        yield AirflowApi.login(
            settings.airflow_api_url, settings.airflow_api_user, settings.airflow_api_password
        )
        return
    stack = EmbeddedAirflow(settings, port=settings.airflow_api_port or None)
    if stack.port and not _port_free(stack.port):
        stack.port = None  # taken (another Airflow?): use any free port
    try:
        stack.start(dag_ids)
        yield AirflowApi(stack.base_url)
    finally:
        stack.stop()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --- the backfill ---------------------------------------------------------------------------


@dataclass
class DayStatus:
    business_date: dt.date
    sources: dict[str, str] = field(default_factory=dict)  # source -> run state
    build: str = "-"  # build_warehouse run state, "-" none yet
    build_triggered: bool = False

    @property
    def state(self) -> str:
        states = [*self.sources.values(), self.build]
        if any(s in FINAL_BAD for s in states):
            return "failed"
        if self.build in FINAL_OK and all(
            s in FINAL_OK | {"skipped"} for s in self.sources.values()
        ):
            return "success"
        if all(s == "skipped" for s in self.sources.values()) and self.build == "-":
            return "skipped"
        return "running"

    @property
    def done(self) -> bool:
        return self.state in ("success", "failed", "skipped", "cancelled")


@dataclass
class BackfillReport:
    days: list[DayStatus]
    backfill_ids: dict[str, int]
    seconds: float

    @property
    def failed(self) -> list[DayStatus]:
        return [d for d in self.days if d.state not in ("success", "skipped")]

    @property
    def ok(self) -> bool:
        return not self.failed


def _date_range(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def latest_loaded_date(source: str, settings: Settings) -> dt.date | None:
    """The latest business date of ``source`` in ``ops.load_audit``."""
    from puhui import db

    with db.connect(settings) as conn:
        row = conn.execute(
            "select max(business_date) from ops.load_audit where source_system = %s", (source,)
        ).fetchone()
    return row[0] if row else None


def plan_ranges(
    start: dt.date, end: dt.date, sources: Iterable[str], settings: Settings
) -> dict[str, tuple[dt.date, dt.date, bool]]:
    """Source -> (first date, last date, extended) of its backfill."""
    ranges = {}
    for source in sources:
        last = end
        extended = False
        if source == "agency":
            try:
                loaded = latest_loaded_date(source, settings)
            except Exception:
                loaded = None
            if loaded and loaded > end:
                last, extended = loaded, True
        ranges[source] = (start, last, extended)
    return ranges


def run_backfill(
    start: dt.date,
    end: dt.date,
    *,
    sources: Iterable[str] = SOURCES,
    reprocess: str | None = None,
    settings: Settings | None = None,
    api: AirflowApi | None = None,
    echo: Callable[[str], None] = print,
    poll_seconds: float = 3.0,
    timeout: float | None = None,
) -> BackfillReport:
    """Backfill ``start``..``end`` (inclusive) and wait; per-day status in the report."""
    settings = settings or get_settings()
    sources = tuple(dict.fromkeys(sources))
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise BackfillError(f"unknown sources {sorted(unknown)}; expected some of {SOURCES}")
    if reprocess not in REPROCESS:
        raise BackfillError(f"--reprocess must be one of failed, completed, all; got {reprocess}")
    if end < start:
        raise BackfillError(f"--to {end} is before --from {start}")
    dag_ids = [EXTRACT_DAGS[s] for s in sources] + [BUILD_DAG]
    if api is None:
        with airflow_api(settings, dag_ids) as embedded_api:
            return run_backfill(
                start,
                end,
                sources=sources,
                reprocess=reprocess,
                settings=settings,
                api=embedded_api,
                echo=echo,
                poll_seconds=poll_seconds,
                timeout=timeout,
            )
    started = time.monotonic()
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    ranges = plan_ranges(start, end, sources, settings)
    days = {d: DayStatus(d) for d in _date_range(start, max(r[1] for r in ranges.values()))}
    for dag_id in dag_ids:
        api.unpause(dag_id)
    backfill_ids: dict[str, int] = {}
    try:
        for source in sources:
            first, last, extended = ranges[source]
            behaviour = "completed" if extended else REPROCESS[reprocess]
            if extended:
                echo(
                    f"  agency: dates after {end} are loaded already (up to {last}); reloading "
                    f"them in order too, so re-sent partner batches are judged as in-order loading"
                )
            max_runs = 1 if source in IN_ORDER_SOURCES else 2
            try:
                backfill = _create_when_free(
                    api, EXTRACT_DAGS[source], first, last, behaviour, max_runs
                )
            except BackfillError as exc:
                if "No runs to create" in str(exc):  # every date already ran (no reprocess)
                    for day in _date_range(first, last):
                        days[day].sources[source] = "skipped"
                    continue
                raise
            backfill_ids[source] = backfill["id"]
            echo(
                f"  backfill {backfill['id']}: {EXTRACT_DAGS[source]} {first}..{last} "
                f"(reprocess {behaviour}, {max_runs} run(s) at a time)"
            )
        _watch(api, days, sources, ranges, backfill_ids, since, echo, poll_seconds, timeout)
    except KeyboardInterrupt:
        echo("interrupted: cancelling the backfills (runs already started finish)")
        for backfill_id in backfill_ids.values():
            try:
                api.cancel_backfill(backfill_id)
            except BackfillError:
                pass
        raise
    return BackfillReport(
        sorted(days.values(), key=lambda d: d.business_date),
        backfill_ids,
        time.monotonic() - started,
    )


def _create_when_free(api, dag_id, first, last, behaviour, max_runs, wait: float = 120) -> dict:
    """Create the backfill; an earlier backfill of the DAG whose runs are all finished is
    marked complete by the scheduler's next loop, so a conflict is retried for a while."""
    limit = time.monotonic() + wait
    while True:
        try:
            return api.create_backfill(dag_id, first, last, behaviour, max_runs)
        except BackfillError as exc:
            if "already a running backfill" not in str(exc) or time.monotonic() > limit:
                if "already a running backfill" in str(exc):
                    raise BackfillError(
                        f"{exc}; wait for it or cancel it (Airflow UI, Backfills, or "
                        f"PUT /api/v2/backfills/<id>/cancel)"
                    ) from None
                raise
            time.sleep(3)


def _wait_completed(api, backfill_ids, timeout: float = 60) -> None:
    """The scheduler marks a backfill complete a loop after its last run: wait for it, so
    the next backfill of the DAG is not refused and the UI shows it finished."""
    limit = time.monotonic() + timeout
    pending = dict(backfill_ids)
    while pending and time.monotonic() < limit:
        for source, backfill_id in list(pending.items()):
            if api.backfill(backfill_id).get("completed_at"):
                del pending[source]
        if pending:
            time.sleep(2)


def _watch(api, days, sources, ranges, backfill_ids, since, echo, poll_seconds, timeout):
    from rich.console import Console

    console = Console()
    reported: set[dt.date] = set()
    all_sources = set(sources) == set(SOURCES)
    limit = time.monotonic() + timeout if timeout else None
    progress = _Progress(console, days, sources) if console.is_terminal else None
    try:
        while True:
            _refresh(api, days, sources, ranges, backfill_ids, since)
            for day in sorted(days.values(), key=lambda d: d.business_date):
                _maybe_trigger_build(api, day, sources, all_sources)
            cancelled = _cancelled_backfills(api, backfill_ids)
            if cancelled:
                for day in days.values():
                    if not day.done and any(
                        day.sources.get(s, "-") in ("-", "queued") for s in cancelled
                    ):
                        day.sources.update({s: "cancelled" for s in cancelled})
            for day in sorted(days.values(), key=lambda d: d.business_date):
                if day.done and day.business_date not in reported and progress is None:
                    reported.add(day.business_date)
                    echo(_day_line(day, sources))
            if progress:
                progress.update()
            if all(d.done or "cancelled" in d.sources.values() for d in days.values()):
                break
            if limit and time.monotonic() > limit:
                raise BackfillError("timed out waiting for the backfill")
            time.sleep(poll_seconds)
    finally:
        if progress:
            progress.close()
    for day in days.values():
        if "cancelled" in day.sources.values() and not day.done:
            day.build = "cancelled"
    _wait_completed(api, backfill_ids)


def _refresh(api, days, sources, ranges, backfill_ids, since) -> None:
    for source in sources:
        if source not in backfill_ids:
            continue
        first, last, _ = ranges[source]
        runs = api.dag_runs(
            EXTRACT_DAGS[source],
            logical_date_gte=logical_date_of(first),
            logical_date_lte=logical_date_of(last),
        )
        by_day = {}
        for run in runs:
            day = business_date_of_run(run)
            if day is None:
                continue
            # The backfill's own run of the date, else any (an earlier run it left alone).
            if run.get("run_type") == "backfill" or day not in by_day:
                by_day[day] = run
        for day in _date_range(first, last):
            run = by_day.get(day)
            if run is None:
                continue
            mine = run.get("run_type") == "backfill" and _after(run, since)
            days[day].sources[source] = run["state"] if mine else "skipped"
    builds = api.dag_runs(BUILD_DAG, run_after_gte=since.isoformat())
    for run in sorted(builds, key=lambda r: r.get("run_after") or ""):
        day = business_date_of_run(run)
        if day in days:
            days[day].build = run["state"]


def _after(run: dict, since: dt.datetime) -> bool:
    stamp = run.get("queued_at") or run.get("start_date") or run.get("run_after")
    if not stamp:
        return True
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) >= since


def _maybe_trigger_build(api, day: DayStatus, sources, all_sources: bool) -> None:
    """Trigger the date's build when the asset events alone will not.

    All three sources reloaded: their partitioned events create the run. Otherwise (some
    sources, or some reprocessed) build once every reloaded source of the date succeeded.
    """
    if day.build_triggered or day.build != "-":
        return
    # the sources whose backfill covers the date (all its runs exist from the start)
    reloaded = [state for state in day.sources.values() if state != "skipped"]
    if not reloaded or any(s not in FINAL_OK for s in reloaded):
        return
    if all_sources and len(reloaded) == len(SOURCES):
        return
    api.trigger(BUILD_DAG, day.business_date.isoformat(), note="puhui backfill")
    day.build_triggered = True
    day.build = "queued"


def _cancelled_backfills(api, backfill_ids) -> set[str]:
    cancelled = set()
    for source, backfill_id in backfill_ids.items():
        info = api.backfill(backfill_id)
        if info.get("completed_at") and info.get("is_paused"):
            cancelled.add(source)
    return cancelled


def _day_line(day: DayStatus, sources) -> str:
    parts = "  ".join(f"{s}={day.sources.get(s, '-')}" for s in sources)
    return f"  {day.business_date}  {day.state:<8} {parts}  build_warehouse={day.build}"


class _Progress:
    """A live table, one row per business date, under a progress bar of finished dates."""

    STYLE = {"success": "green", "failed": "red", "running": "yellow", "queued": "cyan"}

    def __init__(self, console, days, sources):
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.days, self.sources = days, sources
        self.bar = Progress(
            "[bold]backfill",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.bar.add_task("days", total=len(days))
        self.live = Live(self._render(), console=console, refresh_per_second=2)
        self.live.start()

    def _cell(self, state: str) -> str:
        style = self.STYLE.get(state)
        return f"[{style}]{state}[/]" if style else state

    def _render(self):
        from rich.console import Group
        from rich.table import Table

        table = Table(show_edge=False)
        for column in ("date", "status", *self.sources, BUILD_DAG):
            table.add_column(column)
        for day in sorted(self.days.values(), key=lambda d: d.business_date):
            table.add_row(
                str(day.business_date),
                self._cell(day.state),
                *(self._cell(day.sources.get(s, "-")) for s in self.sources),
                self._cell(day.build),
            )
        return Group(self.bar, table)

    def update(self):
        self.bar.update(self.task, completed=sum(d.done for d in self.days.values()))
        self.live.update(self._render())

    def close(self):
        self.update()
        self.live.stop()


def command_equivalent(start: dt.date, end: dt.date, sources: Iterable[str], reprocess) -> str:
    """The plain ``airflow backfill create`` commands of a ``puhui backfill``."""
    lines = []
    for source in sources:
        runs = 1 if source in IN_ORDER_SOURCES else 2
        lines.append(
            f"airflow backfill create --dag-id {EXTRACT_DAGS[source]} "
            f"--from-date {logical_date_of(start)} --to-date {logical_date_of(end)} "
            f"--reprocess-behavior {REPROCESS[reprocess]} --max-active-runs {runs}"
        )
    return "\n".join(lines)


def write_report(report: BackfillReport, path: Path) -> None:
    import json

    path.write_text(
        json.dumps(
            {
                "seconds": round(report.seconds, 1),
                "backfills": report.backfill_ids,
                "days": [
                    {
                        "date": d.business_date.isoformat(),
                        "state": d.state,
                        **d.sources,
                        "build_warehouse": d.build,
                    }
                    for d in report.days
                ],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
