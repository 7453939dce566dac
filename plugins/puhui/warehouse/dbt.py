"""Run dbt against the warehouse puhui is configured for, and keep what it did.

dbt runs as a subprocess of the same virtual environment, with the connection passed
through the ``PUHUI_DBT_*`` variables that ``dbt_project/profiles.yml`` reads. A build's
``run_results.json`` is stored in ``ops.dbt_invocations`` / ``ops.dbt_node_results`` (BI can
chart pipeline health beside the KPIs) and decides what happens next: an error (a model
that failed, a test with ``severity: error`` that failed) raises :class:`DbtError`, which
fails the task and stops the publish; tests with ``severity: warn`` that found rows come
back as :attr:`BuildResult.warnings` for an alert, and the build continues.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from puhui import db
from puhui.config import Settings, get_settings

log = logging.getLogger(__name__)

ERROR_STATUSES = ("error", "fail", "runtime error")


@dataclass(frozen=True)
class NodeResult:
    """One node of a dbt invocation (a row of ``run_results.json``)."""

    unique_id: str
    status: str
    failures: int | None = None
    execution_seconds: float | None = None
    rows_affected: int | None = None
    message: str = ""

    @property
    def resource_type(self) -> str:
        return self.unique_id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.unique_id.split(".", 2)[-1]

    def describe(self) -> str:
        rows = f" ({self.failures} rows)" if self.failures else ""
        message = (
            f": {self.message.strip()[:300]}" if self.message and self.status != "warn" else ""
        )
        return f"{self.resource_type} {self.name}: {self.status}{rows}{message}"


@dataclass
class BuildResult:
    """What one ``dbt build`` did: invocation, elapsed time, every node's outcome."""

    invocation_id: str
    command: str
    started_at: dt.datetime | None
    elapsed_seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    output: str = ""

    @property
    def errors(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in ERROR_STATUSES]

    @property
    def warnings(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status == "warn"]

    @property
    def status(self) -> str:
        return "error" if self.errors else "warn" if self.warnings else "success"


class DbtError(Exception):
    """dbt exited non-zero; the message (and :attr:`failures`) carry the failing nodes."""

    def __init__(self, message: str, failures: list[NodeResult] | None = None):
        super().__init__(message)
        self.failures = failures or []


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def target_dir(settings: Settings) -> Path:
    return settings.home / "dbt" / "target"


def read_run_results(target: Path) -> BuildResult | None:
    """Parse ``run_results.json`` of the last invocation (None when there is none)."""
    path = target / "run_results.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = data.get("metadata") or {}
    generated = meta.get("generated_at")
    elapsed = float(data.get("elapsed_time") or 0.0)
    started = None
    if generated:
        started = dt.datetime.fromisoformat(generated.replace("Z", "+00:00")) - dt.timedelta(
            seconds=elapsed
        )
    nodes = [
        NodeResult(
            unique_id=r["unique_id"],
            status=r.get("status") or "unknown",
            failures=r.get("failures"),
            execution_seconds=r.get("execution_time"),
            rows_affected=(r.get("adapter_response") or {}).get("rows_affected"),
            message=r.get("message") or "",
        )
        for r in data.get("results", [])
    ]
    args = data.get("args") or {}
    return BuildResult(
        invocation_id=meta.get("invocation_id") or "",
        command=str(args.get("which") or args.get("invocation_command") or ""),
        started_at=started,
        elapsed_seconds=elapsed,
        nodes=nodes,
    )


def run_dbt(args: list[str], settings: Settings | None = None) -> str:
    """Run ``dbt <args>`` in the project; return its output, raise DbtError on failure."""
    settings = settings or get_settings()
    output, _ = _invoke(args, settings)
    return output


def _invoke(
    args: list[str], settings: Settings, extra_env: dict[str, str] | None = None
) -> tuple[str, BuildResult | None]:
    project = settings.dbt_project_dir
    env = {
        **os.environ,
        **db.dbt_env(settings),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        **(extra_env or {}),
    }
    target = target_dir(settings)
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)  # never read a previous invocation's results
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(settings.home / "dbt" / "logs"),
        # dbt's file log defaults to debug: every query and event of every node, which
        # cost 8% of a nightly build's wall time (800 nodes, most of them data tests;
        # 54 s against 50 s, means of three nights on a first month at scale 0.002). At info
        # the file holds what the task log holds; PUHUI_DBT_LOG_LEVEL_FILE=debug brings
        # the queries back when a build needs investigating.
        "--log-level-file",
        settings.dbt_log_level_file,
    ]
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    for line in output.splitlines():
        log.info("dbt | %s", line)
    result = read_run_results(target)
    if result is not None:
        result.output = output
    if proc.returncode != 0:
        failures = result.errors if result else []
        detail = "\n".join(n.describe() for n in failures) if failures else output[-3000:]
        error = DbtError(
            f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{detail}", failures
        )
        error.result = result  # type: ignore[attr-defined]
        raise error
    return output, result


def build(
    settings: Settings | None = None,
    *,
    business_date: dt.date | None = None,
    run: dict | None = None,
    select: list[str] | None = None,
    full_refresh: bool = False,
) -> BuildResult:
    """``dbt build`` (seeds, models, unit and data tests), recorded in ``ops``.

    ``select`` (default ``PUHUI_DBT_SELECT``, default everything) narrows the build.
    ``full_refresh`` rebuilds the incremental models from all of raw and tests every date.

    Raises :class:`DbtError` when a node errors or an error-severity test fails (after
    recording the results); warnings are returned. ``run`` names the Airflow run
    (``dag_id``, ``run_id``, ``try_number``) for the record.
    """
    settings = settings or get_settings()
    args = ["build", "--full-refresh"] if full_refresh else ["build"]
    select = select or list(settings.dbt_select)
    env = {}
    db.init_warehouse(settings)  # ops tables of this release (idempotent DDL)
    analyze_changed_raw_tables(settings)
    checksum = project_checksum(settings.dbt_project_dir)
    skip_unit_tests = unit_tests_passed(checksum, settings)
    test_from = None if full_refresh else tests_from_date(settings)
    if test_from is not None:
        # Incremental marts rewrite only the dates loaded since the last build and later
        # ones; their data tests look at those dates only (the macro test_from_date). A
        # session setting, not a dbt var: a new var every night would make dbt re-parse
        # the whole project every night.
        options = f"-c puhui.test_from_date={test_from.isoformat()}"
        env["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} {options}".strip()
    if select:
        # only tests whose every parent is selected: a relationship test of an unselected
        # model must not run against a half-selected project
        args += ["--select", *select, "--indirect-selection", "cautious"]
    if skip_unit_tests:
        # Unit tests check the SQL on hand-made rows, not the night's data: they ran and
        # passed on this very project already (and run in CI).
        args += ["--exclude", "test_type:unit"]
        log.info("unit tests skipped: they passed on this dbt project (%s)", checksum[:12])
    # A build of the whole project that ran its unit tests vouches for them.
    record = {"checksum": checksum, "whole_project": not select}
    try:
        _, result = _invoke(args, settings, env)
    except DbtError as exc:
        if getattr(exc, "result", None) is not None:
            _record_safely(exc.result, settings, business_date, run, record)
        raise
    if result is None:  # nothing selected: dbt writes no results
        result = BuildResult("", "build", None, 0.0)
    _record_safely(result, settings, business_date, run, record)
    return result


# What decides what the SQL does: the project's files (not profiles.yml, which only says
# where to connect) and the dbt versions that compile it.
_PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "data-tests", "seeds", "snapshots")


def project_checksum(root: Path) -> str:
    """SHA-256 of the dbt project in ``root``: its files' names and bytes, and the dbt
    versions."""
    digest = hashlib.sha256()
    for package in ("dbt-core", "dbt-postgres"):
        try:
            digest.update(f"{package}=={metadata.version(package)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package} missing\n".encode())
    files = []
    for part in _PROJECT_PARTS:
        path = root / part
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def unit_tests_passed(checksum: str, settings: Settings | None = None) -> bool:
    """Whether a successful build of the whole project ran the unit tests of the project
    whose :func:`project_checksum` is ``checksum`` (a build skips them then)."""
    with db.connect(settings) as conn:
        if not conn.execute("select to_regclass('ops.dbt_invocations') is not null").fetchone()[0]:
            return False
        row = conn.execute(
            "select 1 from ops.dbt_invocations where command = 'build'"
            " and status in ('success', 'warn') and unit_tests_run and project_checksum = %s"
            " limit 1",
            (checksum,),
        ).fetchone()
    return row is not None


def analyze_changed_raw_tables(settings: Settings | None = None) -> list[str]:
    """``ANALYZE`` the raw tables a load changed by more than PostgreSQL's own autoanalyze
    threshold (50 rows + 10 % of the table) or never analysed, and summarise the new block
    ranges of the BRIN indexes of every changed raw table. Returns the tables analysed.

    Batches land minutes before the build; autovacuum may not have analysed them yet, and
    a plan made on a just-emptied table's statistics turned a night's one-second insert
    into a 40-second one. A night that adds a sliver to a large table (0.05 % of the
    transaction journal at the end of five years) leaves its statistics as good as they
    were: a business date past the histogram is estimated from the date index. Sampling
    those tables anyway cost 8.7 s a night at the end of five years at scale 0.1 (15
    tables, 1.9 s for the journal alone) against 2.4 s in the first month.

    A BRIN index (the journals' business date) knows nothing of the block ranges written
    since the table was last vacuumed: a scan must read every such range. After a history
    load no vacuum had run on the transaction journal, so the night's read of one date
    read all of five years (4.8 s at scale 0.01 for 2,816 rows); summarising only the new
    ranges is cheap.
    """
    with db.connect(settings, autocommit=True) as conn:
        changed = conn.execute(
            "select format('%I.%I', s.schemaname, s.relname),"
            " coalesce(s.last_analyze, s.last_autoanalyze) is null"
            " or s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)"
            " from pg_stat_user_tables s join pg_class c on c.oid = s.relid"
            " where s.schemaname = 'raw'"
            " and (s.n_mod_since_analyze > 0"
            " or coalesce(s.last_analyze, s.last_autoanalyze) is null)"
            " order by s.relname"
        ).fetchall()
        started = time.monotonic()
        analysed = []
        for name, stale in changed:
            if stale:
                conn.execute(f"analyze {name}")  # names from the catalog, quoted by format()
                analysed.append(name)
            brin_indexes = conn.execute(
                "select i.indexrelid::regclass::text from pg_index i"
                " join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam"
                " where a.amname = 'brin' and i.indrelid = %s::regclass",
                (name,),
            ).fetchall()
            for (index,) in brin_indexes:
                conn.execute("select brin_summarize_new_values(%s::regclass)", (index,))
    if changed:
        log.info(
            "analysed %d of %d changed raw tables (and summarised their BRIN indexes) in %.1f s",
            len(analysed),
            len(changed),
            time.monotonic() - started,
        )
    return analysed


def tests_from_date(settings: Settings | None = None) -> dt.date | None:
    """The first business date the next build rewrites, for its data tests.

    That is the earliest business date among batches loaded (``ops.load_audit``) since the
    last successful build (``ops.dbt_invocations``); the day after the latest loaded date
    when nothing was loaded since. None before the first successful build: the first
    build tests every date.
    """
    settings = settings or get_settings()
    with db.connect(settings) as conn:
        exists = conn.execute("select to_regclass('ops.dbt_invocations') is not null").fetchone()
        if not exists[0]:
            return None
        last_build = conn.execute(
            "select max(started_at) from ops.dbt_invocations"
            " where command = 'build' and status in ('success', 'warn')"
        ).fetchone()[0]
        if last_build is None:
            return None
        first, latest = conn.execute(
            "select min(business_date) filter (where finished_at > %s), max(business_date)"
            " from ops.load_audit where status = 'loaded'",
            (last_build,),
        ).fetchone()
    if first is not None:
        return first
    return None if latest is None else latest + dt.timedelta(days=1)


def _record_safely(result, settings, business_date, run, record=None) -> None:
    try:
        record_run_results(result, settings, business_date=business_date, run=run, **(record or {}))
    except Exception:  # the record must never hide dbt's own outcome
        log.exception("could not record dbt results in ops")


def record_run_results(
    result: BuildResult,
    settings: Settings | None = None,
    *,
    business_date: dt.date | None = None,
    run: dict | None = None,
    checksum: str | None = None,
    whole_project: bool = False,
) -> None:
    """Store one invocation and its nodes in ``ops.dbt_invocations`` / ``ops.dbt_node_results``.

    ``checksum`` is the build's :func:`project_checksum`. ``unit_tests_run`` is true only
    for a build of the whole project (``whole_project``)
    that ran unit tests: a build selecting a few models cannot vouch for the others'.
    """
    if not result.invocation_id:
        return
    run = run or {}
    unit_tests_run = whole_project and any(n.resource_type == "unit_test" for n in result.nodes)
    with db.connect(settings) as conn:
        conn.execute(
            "delete from ops.dbt_invocations where invocation_id = %s", (result.invocation_id,)
        )
        conn.execute(
            "insert into ops.dbt_invocations (invocation_id, business_date, command, dag_id,"
            " run_id, try_number, started_at, elapsed_seconds, status, nodes_total, nodes_error,"
            " tests_warned, project_checksum, unit_tests_run)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                result.invocation_id,
                business_date,
                result.command or "build",
                run.get("dag_id"),
                run.get("run_id"),
                run.get("try_number"),
                result.started_at,
                round(result.elapsed_seconds, 3),
                result.status,
                len(result.nodes),
                len(result.errors),
                len(result.warnings),
                checksum,
                unit_tests_run,
            ),
        )
        # One COPY for the ~800 node results of a build, like every other load in puhui.
        with (
            conn.cursor() as cur,
            cur.copy(
                "copy ops.dbt_node_results (invocation_id, unique_id, resource_type,"
                " business_date, status, failures, execution_seconds, rows_affected, message)"
                " from stdin"
            ) as copy,
        ):
            for n in result.nodes:
                copy.write_row(
                    (
                        result.invocation_id,
                        n.unique_id,
                        n.resource_type,
                        business_date,
                        n.status,
                        n.failures,
                        None if n.execution_seconds is None else round(n.execution_seconds, 3),
                        n.rows_affected,
                        (n.message or "")[:2000] or None,
                    )
                )
        conn.commit()
