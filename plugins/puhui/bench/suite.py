"""The benchmark suite (issue #7): every performance target of puhui, side by side in one
run on one PostgreSQL, written to ``bench/results/`` (one JSON file per benchmark and the
Markdown table ``README.md``, each with the machine's cores, memory, date and commit).

``puhui bench`` (``make bench``) runs, in order:

- **load path**: :mod:`puhui.bench.load` (the journal of 2020-12-10 at scale 1.0: bare
  COPY, puhui's validated load, ``pandas.to_sql``), its ratios carried into the table;
- **one night at each scale** of 0.01, 0.1 and 1.0: the simulator writes 2020-12-09 and
  2020-12-10; the first (the county's full initial unload) is loaded with
  :func:`puhui.extract.day.extract_day` and built with dbt as the history; the second
  runs through real Airflow (``airflow dags test`` of the three extract DAGs and
  ``build_warehouse``), then the morning report. Each stage's time and peak RSS (every
  child process measured with ``os.wait4``; its own children are included);
- **five years**: a copy (``create database ... template``) of a warehouse whose raw
  schema holds five loaded years (2015-12-31..2020-12-31; by default
  ``puhui_bench_template_5y_<scale>``, which the suite builds when missing with
  :func:`five_year_template` and keeps for later runs; ``--five-year-scale``, default
  0.002): a ``dbt build --full-refresh``, then the last night loaded again and the
  nightly build; the BI queries, through the read-only BI role;
- **first month**: 2015-12-31..2016-01-20 of the same landing loaded into an empty
  database and built, then the last night loaded again and the nightly build: the
  night at the end of five years against a night in the first month;
- **history load**: recorded from ``puhui bench --history`` (measure once, record):
  five years simulated, loaded with :func:`puhui.extract.day.extract_range`, one
  ``dbt build``, from empty to a complete scorecard.

``--quick`` (under 5 minutes on 2 idle cores) runs the load path once and one night at
scale 0.01 on an empty warehouse (the night's own initial unload; the BI queries on it);
what it does not measure is marked so. Every step
of a benchmark runs in a child process (:mod:`puhui.bench.steps`), so its peak RSS is its
own. Databases are named ``puhui_bench_*`` and dropped afterwards (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from puhui.bench.results import BenchResult, Check, failed_result, render_table, stage_table
from puhui.bench.results import write_result as _write
from puhui.bench.steps import RESULT_MARK

NIGHT_DATES = (dt.date(2020, 12, 9), dt.date(2020, 12, 10))  # history day, the night
# The five-year warehouse the incremental and BI benchmarks copy: built by the suite from
# the simulator when missing (raw only: five years loaded with extract_range, no dbt), and
# kept between runs as <prefix>template_5y_<scale>; --template names another one.
FIVE_YEAR_SCALE = 0.002
TEMPLATE_COMPLETE = "puhui bench template: five years loaded"
FIRST_MONTH = (dt.date(2015, 12, 31), dt.date(2016, 1, 20))
DB_PREFIX = "puhui_bench_"
"""The suite's databases are named <prefix><benchmark>: --db-prefix keeps apart the
databases of two suites run on one server at the same time."""
HISTORY_RANGE = (dt.date(2015, 12, 31), dt.date(2020, 12, 31))

TARGET_NIGHT_SECONDS = 300.0
TARGET_RSS_MIB = 2048.0
TARGET_INCREMENTAL_SPEEDUP = 10.0
TARGET_FLAT_RATIO = 1.5
TARGET_BI_SECONDS = 1.0
TARGET_HISTORY_SECONDS = {"0.01": 1800.0, "0.1": 10800.0}


# --------------------------------------------------------------------------- processes


def run_child(cmd: list[str], env: dict[str, str], log_path: Path) -> dict:
    """Run ``cmd`` through :mod:`puhui.bench.measure`: wall seconds, exit code and peak
    RSS (``os.wait4``: the child and its reaped descendants, e.g. dbt under an Airflow
    task), measured from a small launcher so the suite's own memory does not count.
    Output goes to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    launcher = [sys.executable, "-m", "puhui.bench.measure", str(log_path), "--", *cmd]
    proc = subprocess.run(launcher, env=env, capture_output=True, text=True, check=False)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise StepFailed(f"could not measure {cmd[:4]}: {proc.stderr[-2000:]}") from None


def _tail(path: str | Path, lines: int = 25) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class StepFailed(RuntimeError):
    pass


@dataclass
class Bench:
    """One benchmark's database, landing folder, puhui home and Airflow home."""

    name: str
    db: str
    landing: Path
    env: dict[str, str]
    work: Path

    @property
    def settings(self):
        from puhui.config import load_settings

        return load_settings(self.env)

    def step(self, name: str, **kwargs) -> dict:
        """Run one step (:mod:`puhui.bench.steps`) in a child; its figures and result."""
        log = self.work / "logs" / f"{self.name}-{name}-{time.strftime('%H%M%S')}.log"
        args = json.dumps(kwargs, default=str)
        cmd = [sys.executable, "-m", "puhui.bench.steps", name, args]
        figures = run_child(cmd, self.env, log)
        result = None
        for line in Path(log).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(RESULT_MARK):
                result = json.loads(line[len(RESULT_MARK) :])
        if figures["returncode"] != 0 or result is None:
            raise StepFailed(f"step {name} {args} failed; log {log}:\n{_tail(log)}")
        figures.update(result)
        return figures

    def dag(self, dag_id: str, business_date: dt.date) -> dict:
        """``airflow dags test`` of one DAG for a business date, as puhui.runner does."""
        from puhui.airflow_env import airflow_env, airflow_executable
        from puhui.runner import logical_date_for

        env = airflow_env(self.settings, base=self.env)
        log = self.work / "logs" / f"{self.name}-{dag_id}-{business_date:%Y%m%d}.log"
        cmd = [airflow_executable(), "dags", "test", dag_id, logical_date_for(business_date)]
        return run_child(cmd, env, log)


def _suite_env(base_settings, work: Path, name: str, db: str, landing: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "PUHUI_WAREHOUSE_DB": db,
            "PUHUI_LANDING_DIR": str(landing),
            "PUHUI_AIRFLOW_HOME": str(work / f"airflow-{name}"),
            "PUHUI_EBANKING_URL": "",  # the simulated SQLite in the landing folder
            "PUHUI_TASK_RETRIES": "0",  # fail fast, as `puhui run` does
            "PUHUI_SENSOR_POKE_SECONDS": "5",
            "PUHUI_SENSOR_TIMEOUT_SECONDS": "900",
        }
    )
    if not base_settings.embedded:  # a configured server: a home of its own per benchmark
        env["PUHUI_HOME"] = str(work / f"home-{name}")
        env.setdefault("PUHUI_PII_KEY", "bench-only-pii-key")
        if not env.get("PUHUI_BI_PASSWORD"):  # never change a real BI role's password
            env["PUHUI_BI_ROLE"] = "puhui_bi_bench"
            env["PUHUI_BI_PASSWORD"] = "bench-only-bi-password"
    return env


class Suite:
    """Shared state of one run: settings, work folder, the migrated Airflow metadata."""

    def __init__(self, work: Path, keep: bool = False, echo=print, db_prefix: str = DB_PREFIX):
        from puhui.config import get_settings

        self.base = get_settings()
        self.work = work
        self.keep = keep
        self.db_prefix = db_prefix
        self.echo = echo
        self._airflow_template: Path | None = None
        work.mkdir(parents=True, exist_ok=True)

    def bench(self, name: str, landing: Path, template: str | None = None) -> Bench:
        """A fresh database (empty, or a copy of ``template``) and homes for ``name``."""
        from puhui import db

        dbname = f"{self.db_prefix}{name}"
        env = _suite_env(self.base, self.work, name, dbname, landing)
        bench = Bench(name, dbname, landing, env, self.work)
        admin = db.conninfo(bench.settings, ensure=False).with_db("postgres")
        db.drop_database(admin, dbname)
        if template:
            _create_from_template(admin, dbname, template)
        else:
            db.create_database(admin, dbname)
        home = Path(env.get("PUHUI_HOME", self.base.home))
        if home != self.base.home and home.exists():
            shutil.rmtree(home)  # no dbt target or report of an earlier run
        airflow_home = Path(env["PUHUI_AIRFLOW_HOME"])
        if airflow_home.exists():
            shutil.rmtree(airflow_home)
        return bench

    def drop(self, bench: Bench) -> None:
        from puhui import db

        if not self.keep:
            db.drop_database(
                db.conninfo(bench.settings, ensure=False).with_db("postgres"), bench.db
            )

    def airflow_home_for(self, bench: Bench) -> None:
        """Airflow's metadata database, migrated once per suite and copied per benchmark."""
        from puhui.airflow_env import ensure_metadata_db
        from puhui.config import load_settings

        if self._airflow_template is None:
            template = self.work / "airflow-template"
            if template.exists():
                shutil.rmtree(template)
            ensure_metadata_db(load_settings({**bench.env, "PUHUI_AIRFLOW_HOME": str(template)}))
            self._airflow_template = template
        target = Path(bench.env["PUHUI_AIRFLOW_HOME"])
        target.mkdir(parents=True, exist_ok=True)
        for item in self._airflow_template.iterdir():
            if item.is_file() and (item.name == "airflow.db" or item.name.startswith(".migrated")):
                shutil.copy2(item, target / item.name)

    def simulate(self, start: dt.date, end: dt.date, scale: float) -> tuple[Path, dict]:
        """Simulated landing files for the range (cached in the work folder: the
        simulator writes the same bytes for the same seed, scale and dates)."""
        landing = self.work / f"landing-{scale:g}-{start:%Y%m%d}-{end:%Y%m%d}"
        manifest = landing / "simulation.json"
        if manifest.exists():
            return landing, {"seconds": None, "cached": True}
        if landing.exists():
            shutil.rmtree(landing)
        env = dict(os.environ)
        log = self.work / "logs" / f"simulate-{landing.name}.log"
        args = {"start": start, "end": end, "scale": scale, "out": landing}
        cmd = [sys.executable, "-m", "puhui.bench.steps", "simulate", json.dumps(args, default=str)]
        figures = run_child(cmd, env, log)
        if figures["returncode"] != 0 or not manifest.exists():
            raise StepFailed(f"simulation failed; log {log}:\n{_tail(log)}")
        return landing, {**figures, "cached": False}


def five_year_template(suite: Suite, scale: float) -> tuple[str, Path, dict]:
    """The five-year template database at ``scale`` and its landing folder, built when
    missing: five years simulated (cached in the work folder), loaded with extract_range
    into ``puhui_bench_template_5y_<scale>``, marked complete by a comment on the database.
    An unmarked one (an interrupted build) is built again."""
    from puhui import db

    start, end = HISTORY_RANGE
    landing, sim = suite.simulate(start, end, scale)
    name = f"template_5y_{scale:g}".replace(".", "_")
    dbname = f"{suite.db_prefix}{name}"
    admin = db.conninfo(suite.base, ensure=False).with_db("postgres")
    with psycopg.connect(**admin.kwargs(), autocommit=True) as conn:
        marked = conn.execute(
            "select shobj_description(oid, 'pg_database') = %s from pg_database where datname = %s",
            (TEMPLATE_COMPLETE, dbname),
        ).fetchone()
    if marked and marked[0]:
        suite.echo(f"  five-year template {dbname} (scale {scale:g}) exists")
        return dbname, landing, {"cached": True, "simulation": sim}
    bench = suite.bench(name, landing)
    suite.echo(f"  building the five-year template {dbname} (scale {scale:g}) from {landing}")
    load = bench.step("extract_range", start=start, end=end)
    suite.echo(f"    extract_range {start}..{end}: {load['seconds']:.0f} s")
    with psycopg.connect(**admin.kwargs(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("comment on database {} is {}").format(
                sql.Identifier(dbname), sql.Literal(TEMPLATE_COMPLETE)
            )
        )
    return dbname, landing, {"cached": False, "simulation": sim, "load": load}


def _create_from_template(admin, dbname: str, template: str, wait_seconds: float = 300) -> None:
    """``create database dbname template template``; retried while someone is connected
    to the template (PostgreSQL refuses to copy a database in use)."""
    import psycopg
    from psycopg import sql

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            with psycopg.connect(**admin.kwargs(), autocommit=True) as conn:
                conn.execute(
                    sql.SQL("create database {} template {}").format(
                        sql.Identifier(dbname), sql.Identifier(template)
                    )
                )
            return
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(5)


# --------------------------------------------------------------------------- the machine


def machine_info(mode: str) -> dict:
    from puhui import db
    from puhui.config import get_settings

    settings = get_settings()
    try:
        memory_kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        memory = round(memory_kib / 1024 / 1024, 1)
    except (OSError, StopIteration):
        memory = None
    commit = "unknown"
    try:
        root = settings.project_root
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if head:
            commit = head + (" with uncommitted changes" if dirty else "")
    except OSError:
        pass
    try:
        with db.connect(settings) as conn:
            postgres = conn.execute("show server_version").fetchone()[0]
    except Exception as exc:  # the table still says which server it could not reach
        postgres = f"unreachable ({exc.__class__.__name__})"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "machine": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "postgres": postgres,
        "warehouse": "embedded" if settings.embedded else "configured (PUHUI_WAREHOUSE_URL)",
        "commit": commit,
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


# --------------------------------------------------------------------------- benchmarks


def bench_load(suite: Suite, quick: bool) -> BenchResult:
    """Issue #4's load benchmark, called as it is; its figures and ratios carried over."""
    from puhui.bench import load

    day = load.DEFAULT_DATE
    if quick:
        landing, _ = suite.simulate(day, day, 1.0)
    else:
        landing, _ = suite.simulate(*NIGHT_DATES, 1.0)
    repeat, sample = (1, 5_000) if quick else (3, 20_000)
    env = dict(os.environ)
    if not suite.base.embedded:  # load.run's own child reads the key from its env
        env.setdefault("PUHUI_PII_KEY", "bench-only-pii-key")
    bench = Bench("load_path", load.BENCH_DB, landing, env, suite.work)
    payload = bench.step("load_bench", date=day, landing=landing, sample=sample, repeat=repeat)
    printed = Path(payload["log"]).read_text(encoding="utf-8", errors="replace").splitlines()
    for line in printed:
        if not line.startswith(RESULT_MARK):
            suite.echo("  " + line)
    ratios, notes, full = payload["ratios"], payload.get("notes", {}), payload["results"]
    return BenchResult(
        "load_path",
        "Load path",
        "1.0",
        f"puhui.bench.load on the journal of {day} at scale 1.0 "
        f"({full['b_puhui_full_path']['rows']:,} rows) in database puhui_bench of the same "
        f"server; best of {repeat} run(s); pandas.to_sql timed on {sample:,} rows and "
        "extrapolated. Full figures: load.json's shape, copied here.",
        checks=[
            Check(
                "puhui_vs_bare_copy",
                "validated load / bare COPY (rows/s)",
                ratios["puhui_vs_bare_copy"],
                "x",
                ">=",
                0.8,
                reason=notes.get("puhui_vs_bare_copy"),
            ),
            Check(
                "puhui_vs_to_sql",
                "validated load / pandas.to_sql (rows/s)",
                ratios["puhui_vs_to_sql"],
                "x",
                ">=",
                100.0,
                reason=notes.get("puhui_vs_to_sql"),
            ),
            Check(
                "load_peak_rss",
                "peak RSS of the validated load",
                full["b_puhui_full_path"]["peak_rss_mib"],
                "MiB",
                "<",
                TARGET_RSS_MIB,
            ),
        ],
        figures={"results": full, "ratios": ratios, "notes": notes},
    )


NIGHT_STAGES = ("extract_core_banking", "extract_ebanking", "extract_agency", "build_warehouse")


def failure_summary(text: str, limit: int = 400) -> str:
    """The telling lines of a failed run's output (dbt's error, the exception), short
    enough for a table cell; the whole log stays on disk."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # dbt's colours
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    keys = ("Error in ", "Error:", "error:", "Exception", "failed", "FAILED", "Traceback")
    picked = []
    for i, line in enumerate(lines):
        if any(k in line for k in keys) and "::group::" not in line:
            picked += lines[i : i + 3]
            if len(" ".join(picked)) > limit:
                break
    text = " ".join(dict.fromkeys(picked)) or " ".join(lines[-5:])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _echo_stage(suite: Suite, figures: dict) -> None:
    state = "ok" if figures.get("returncode", 0) == 0 and not figures.get("error") else "FAILED"
    suite.echo(
        f"    {figures['stage']:<40} {figures['seconds']:7.1f} s  "
        f"{figures['peak_rss_mib']:7.0f} MiB  {state}"
    )


def run_night(suite: Suite, scale: float, with_history: bool = True) -> dict:
    """History day + one night through Airflow at ``scale``: every stage's figures. A
    failing stage ends the night; what ran before it is kept, with the reason. Without
    history (``--quick``), the night is the first one: its own initial unload, built on
    an empty warehouse (one whole-project dbt build instead of two)."""
    history_day, night = NIGHT_DATES
    if not with_history:
        history_day = night
    landing, sim = suite.simulate(history_day, night, scale)
    bench = suite.bench(f"night_{str(scale).replace('.', '_')}", landing)
    suite.echo(f"  night at scale {scale:g}: database {bench.db}")
    out: dict = {
        "scale": scale,
        "history_date": history_day.isoformat() if with_history else None,
        "night_date": night.isoformat(),
        "simulation": sim,
        "history": [],
        "stages": [],
    }
    try:
        history_steps = (
            (f"history: extract_day {history_day}", "extract_day", {"date": history_day}),
            (f"history: dbt build {history_day}", "dbt_build", {"business_date": history_day}),
        )
        for stage, step, kwargs in history_steps if with_history else ():
            figures = {"stage": stage, **bench.step(step, **kwargs)}
            out["history"].append(figures)
            _echo_stage(suite, figures)
            if figures.get("error") and not figures.get("models"):  # nothing was built
                raise StepFailed(f"{stage}: {failure_summary(figures['error'])}")
        suite.airflow_home_for(bench)
        for dag_id in NIGHT_STAGES:
            figures = {"stage": dag_id, **bench.dag(dag_id, night)}
            out["stages"].append(figures)
            _echo_stage(suite, figures)
            if figures["returncode"] != 0:
                log = Path(figures["log"]).read_text(encoding="utf-8", errors="replace")
                raise StepFailed(f"{dag_id} for {night} failed: {failure_summary(log)}")
        report = {"stage": "morning report", **bench.step("report", date=night)}
        out["stages"].append(report)
        _echo_stage(suite, report)
        out.update(_night_facts(bench.settings, night))
        try:  # on a two-day warehouse: proves the queries and the role, not their speed
            out["bi"] = bench.step("bi_queries")
        except StepFailed as exc:
            out["bi_error"] = failure_summary(str(exc))
    except StepFailed as exc:
        out["error"] = str(exc)
        suite.echo(f"    night at scale {scale:g} failed: {exc}")
    finally:
        suite.drop(bench)
    stages = out["stages"]
    out["night_seconds"] = round(sum(s["seconds"] for s in stages), 1) if stages else None
    out["build_seconds"] = next(
        (s["seconds"] for s in stages if s["stage"] == "build_warehouse"), None
    )
    out["peak_rss_mib"] = max((s["peak_rss_mib"] for s in out["history"] + stages), default=None)
    return out


def _night_facts(settings, night: dt.date) -> dict:
    """Rows the night loaded and the night build's slowest dbt nodes (ops schema)."""
    from puhui import db

    with db.connect(settings) as conn:
        rows = conn.execute(
            "select coalesce(sum(rows_loaded), 0) from ops.load_audit"
            " where business_date = %s and status = 'loaded'",
            (night,),
        ).fetchone()[0]
        slowest = conn.execute(
            "select r.unique_id, r.execution_seconds from ops.dbt_node_results r"
            " join ops.dbt_invocations i using (invocation_id)"
            " where i.business_date = %s and i.dag_id = 'build_warehouse'"
            " order by r.execution_seconds desc nulls last limit 8",
            (night,),
        ).fetchall()
    return {
        "night_rows_loaded": int(rows),
        "slowest_dbt_nodes": [{"node": u, "seconds": float(s or 0)} for u, s in slowest],
    }


def _why(night, default: str) -> str | None:
    """Why a night gave no figure: its error (string, or a partial run's), else None."""
    if night is None:
        return default
    if isinstance(night, str):
        return night
    return night.get("error")


def night_results(nights: dict[float, dict | str], quick: bool) -> list[BenchResult]:
    """The night, memory and scale-curve results from the nights run (a night is its
    figures, its figures with an ``error`` when a stage failed, or the error alone)."""
    full = nights.get(1.0)
    full_why = _why(full, "quick mode runs the night at scale 0.01 only" if quick else "not run")
    measured_night = (
        "The simulator's 2020-12-09 (the county's initial unload: every household, "
        "account, loan and card in force) loaded with extract_day and built with dbt "
        "as the history, then 2020-12-10 end to end: airflow dags test of "
        f"{', '.join(NIGHT_STAGES)}, then the morning report (build_report). "
        "The history is the full initial state, not five years of daily journals."
    )
    label = "three extracts + warehouse build + report"
    results = []
    if full_why is None:
        reason = None
        if full["night_seconds"] >= TARGET_NIGHT_SECONDS:
            reason = "slowest stages: " + ", ".join(
                f"{s['stage']} {s['seconds']:.0f} s"
                for s in sorted(full["stages"], key=lambda s: -s["seconds"])[:2]
            )
        checks = [
            Check(
                "night_seconds",
                label,
                full["night_seconds"],
                "s",
                "<",
                TARGET_NIGHT_SECONDS,
                reason=reason,
            )
        ]
        shown, prefix = full, "stage"
    else:
        checks = [
            Check("night_seconds", label, None, "s", "<", TARGET_NIGHT_SECONDS, reason=full_why)
        ]
        shown = full if isinstance(full, dict) else None
        if shown is None:
            shown = next((n for n in nights.values() if isinstance(n, dict)), None)
        prefix = "stage" if shown is full else f"stage at scale {shown['scale']:g}" if shown else ""
    if shown:
        checks += [
            Check(
                f"stage_{s['stage']}",
                f"{prefix}: {s['stage']}",
                s["seconds"],
                "s",
                reason=failure_summary(shown["error"], 200)
                if shown.get("error") and s is shown["stages"][-1]
                else None,
            )
            for s in shown["history"] + shown["stages"]
        ]
    results.append(
        BenchResult(
            "night",
            "One full-county night",
            "1.0",
            measured_night,
            checks=checks,
            figures=(full if isinstance(full, dict) else {"measured_instead": shown}),
            error=None if full_why is None or full is None else full_why,
        )
    )

    memory_measured = (
        "Peak RSS of every child process of the scale-1.0 night (os.wait4 of each "
        "airflow dags test, with its task and dbt processes; each in-process step of "
        "the history load and the report run as a child of its own, resource.getrusage "
        "inside it)."
    )
    per_stage = []
    for scale, n in sorted(nights.items()):
        if isinstance(n, dict):
            per_stage += [
                {"scale": scale, "stage": s["stage"], "peak_rss_mib": s["peak_rss_mib"]}
                for s in n["history"] + n["stages"]
            ]
    if full_why is None:
        worst = max(full["history"] + full["stages"], key=lambda s: s["peak_rss_mib"])
        value, why = worst["peak_rss_mib"], None
        if value >= TARGET_RSS_MIB:
            why = f"{worst['stage']} peaked at {value:.0f} MiB"
        memory_label = f"peak RSS of any task (worst: {worst['stage']})"
    else:
        value, why, memory_label = None, full_why, "peak RSS of any task"
    mem_checks = [Check("peak_rss", memory_label, value, "MiB", "<", TARGET_RSS_MIB, reason=why)]
    for scale in sorted({p["scale"] for p in per_stage} - {1.0}):
        peak = max(p["peak_rss_mib"] for p in per_stage if p["scale"] == scale)
        mem_checks.append(Check(f"peak_rss_{scale:g}", f"peak RSS at scale {scale:g}", peak, "MiB"))
    results.append(
        BenchResult(
            "memory",
            "Memory",
            "1.0",
            memory_measured,
            checks=mem_checks,
            figures={"per_stage": per_stage},
        )
    )

    curve_checks, curve = [], {}
    for scale in (0.01, 0.1, 1.0):
        n = nights.get(scale)
        why = _why(n, "quick mode: scale 0.01 only" if quick else "not run")
        if why is None:
            curve[f"{scale:g}"] = {
                k: n.get(k)
                for k in ("night_seconds", "build_seconds", "night_rows_loaded", "peak_rss_mib")
            }
            curve_checks.append(
                Check(f"night_{scale:g}", f"night at scale {scale}", n["night_seconds"], "s")
            )
            curve_checks.append(
                Check(f"build_{scale:g}", "  of which build_warehouse", n["build_seconds"], "s")
            )
        else:
            curve[f"{scale:g}"] = {"error": why}
            curve_checks.append(
                Check(
                    f"night_{scale:g}",
                    f"night at scale {scale}",
                    None,
                    "s",
                    reason=failure_summary(why, 300),
                )
            )
    results.append(
        BenchResult(
            "scale_curve",
            "Scale curve",
            "0.01, 0.1, 1.0",
            "The same night (2020-12-10 on top of 2020-12-09's initial state, through "
            "Airflow, with the report) at each scale; no target, to show how cost grows."
            + (" Quick mode: the first night on an empty warehouse instead." if quick else ""),
            checks=curve_checks,
            figures=curve,
        )
    )
    return results


def run_five_years(suite: Suite, template: str, landing: Path) -> dict:
    """Full refresh vs nightly build on a copy of the five-year warehouse; BI queries."""
    sim = json.loads((landing / "simulation.json").read_text(encoding="utf-8"))
    last = dt.date.fromisoformat(sim["end"])
    bench = suite.bench("five_years", landing, template=template)
    suite.echo(f"  five years: {template} -> {bench.db}, landing {landing}")
    out: dict = {"simulation": sim, "last_date": last.isoformat()}
    try:
        out["full_refresh"] = full = bench.step("dbt_build", full_refresh=True)
        suite.echo(f"    dbt build --full-refresh     {full['seconds']:7.1f} s")
        if full.get("error") and not full.get("models"):
            raise StepFailed(f"full refresh: {failure_summary(full['error'])}")
        out["reload"] = reload = bench.step("extract_day", date=last)
        suite.echo(f"    reload {last} (extract_day) {reload['seconds']:7.1f} s")
        out["nightly"] = nightly = bench.step("dbt_build", business_date=last)
        suite.echo(f"    nightly dbt build            {nightly['seconds']:7.1f} s")
        try:
            out["bi"] = bi = bench.step("bi_queries")
            for q in bi["queries"]:
                suite.echo(
                    f"    BI {q['name']:<26} worst {q['worst_seconds']:.3f} s, {q['rows']:,} rows"
                )
        except StepFailed as exc:
            out["bi_error"] = failure_summary(str(exc))
    finally:
        suite.drop(bench)
    return out


def run_first_month(suite: Suite, landing: Path) -> dict:
    start, end = FIRST_MONTH
    bench = suite.bench("first_month", landing)
    suite.echo(f"  first month: {start}..{end} from {landing} -> {bench.db}")
    try:
        load = bench.step("extract_range", start=start, end=end)
        suite.echo(f"    extract_range              {load['seconds']:7.1f} s")
        build = bench.step("dbt_build", business_date=end)
        suite.echo(f"    first dbt build            {build['seconds']:7.1f} s")
        reload = bench.step("extract_day", date=end)
        nightly = bench.step("dbt_build", business_date=end)
        suite.echo(f"    nightly dbt build          {nightly['seconds']:7.1f} s")
    finally:
        suite.drop(bench)
    return {
        "range": [start.isoformat(), end.isoformat()],
        "load": load,
        "first_build": build,
        "reload": reload,
        "nightly": nightly,
    }


def _build_summary(step: dict) -> dict:
    keep = (
        "seconds",
        "peak_rss_mib",
        "dbt_elapsed_seconds",
        "node_seconds",
        "nodes",
        "errors",
        "slowest",
    )
    return {k: step.get(k) for k in keep}


def five_year_results(
    five: dict | str, month: dict | str, scale_note: str, template: str
) -> list[BenchResult]:
    out = []
    measured_inc = (
        f"A copy of {template} ({scale_note}; raw only): `dbt build --full-refresh` of "
        "the whole project, then the last business date loaded again with extract_day "
        "(a new batch, so the incremental models rebuild that one date) and the nightly "
        "build (puhui.orchestration.build_for_run, build_warehouse's task) on the same "
        "data. Scale 0.1 with five years could not be loaded within the suite's 30 "
        "minutes; this is the five-year history at the scale that could."
    )
    if isinstance(five, dict):
        full_s, night_s = five["full_refresh"]["seconds"], five["nightly"]["seconds"]
        speedup = full_s / night_s if night_s else None
        node_full = five["full_refresh"].get("node_seconds") or 0
        node_night = five["nightly"].get("node_seconds") or 0
        reason = None
        if speedup is not None and speedup < TARGET_INCREMENTAL_SPEEDUP:
            reason = (
                f"full refresh {full_s:.0f} s vs nightly {night_s:.0f} s wall; dbt's fixed "
                f"start-up (parse, connections, on-run-end) is in both; summed node times "
                f"{node_full:.0f} s vs {node_night:.0f} s"
                + (f" ({node_full / node_night:.1f}x)" if node_night else "")
                + f"; at {scale_note} the data is 50x smaller than the target's scale 0.1"
            )
        out.append(
            BenchResult(
                "incremental_vs_full",
                "Incremental vs full rebuild",
                scale_note,
                measured_inc,
                checks=[
                    Check(
                        "speedup",
                        "full refresh / nightly build (wall)",
                        speedup,
                        "x",
                        ">=",
                        TARGET_INCREMENTAL_SPEEDUP,
                        reason=reason,
                    ),
                    Check("full_seconds", "dbt build --full-refresh", full_s, "s"),
                    Check("nightly_seconds", "nightly dbt build", night_s, "s"),
                    Check(
                        "node_speedup",
                        "same, summed dbt node times",
                        node_full / node_night if node_night else None,
                        "x",
                    ),
                ],
                figures={
                    "full_refresh": _build_summary(five["full_refresh"]),
                    "nightly": _build_summary(five["nightly"]),
                    "reload_extract": _build_summary(five["reload"]),
                    "last_date": five["last_date"],
                },
            )
        )
    else:
        out.append(
            failed_result(
                "incremental_vs_full",
                "Incremental vs full rebuild",
                scale_note,
                measured_inc,
                five,
                [
                    (
                        "speedup",
                        "full refresh / nightly build (wall)",
                        "x",
                        ">=",
                        TARGET_INCREMENTAL_SPEEDUP,
                    )
                ],
            )
        )

    measured_flat = (
        f"The nightly build of the last date after a reload, at the end of five years "
        f"(the run above) against the same on a warehouse loaded with {FIRST_MONTH[0]}.."
        f"{FIRST_MONTH[1]} only (extract_range into an empty database, first dbt build, "
        f"then {FIRST_MONTH[1]} loaded again and the nightly build); same landing files, "
        f"{scale_note}."
    )
    if isinstance(five, dict) and isinstance(month, dict):
        late, early = five["nightly"]["seconds"], month["nightly"]["seconds"]
        ratio = late / early if early else None
        node_late = five["nightly"].get("node_seconds") or 0
        node_early = month["nightly"].get("node_seconds") or 0
        reason = None
        if ratio is not None and ratio > TARGET_FLAT_RATIO:
            slow = ", ".join(
                f"{n['node'].split('.')[-1]} {n['seconds']:.1f} s"
                for n in (five["nightly"].get("slowest") or [])[:3]
            )
            reason = (
                f"end-of-history night {late:.0f} s vs first-month night {early:.0f} s; "
                f"slowest nodes at the end: {slow}"
            )
        out.append(
            BenchResult(
                "flat_nightly",
                "Flat nightly cost",
                scale_note,
                measured_flat,
                checks=[
                    Check(
                        "ratio",
                        "night at the end of 5 years / night in the first month (wall)",
                        ratio,
                        "x",
                        "<=",
                        TARGET_FLAT_RATIO,
                        reason=reason,
                    ),
                    Check("late_seconds", "nightly build, end of five years", late, "s"),
                    Check("early_seconds", "nightly build, first month", early, "s"),
                    Check(
                        "node_ratio",
                        "same ratio, summed dbt node times",
                        node_late / node_early if node_early else None,
                        "x",
                    ),
                ],
                figures={
                    "end_of_five_years": _build_summary(five["nightly"]),
                    "first_month": _build_summary(month["nightly"]),
                    "first_month_load": _build_summary(month["load"]),
                    "first_month_first_build": _build_summary(month["first_build"]),
                },
            )
        )
    else:
        why = five if isinstance(five, str) else month
        out.append(
            failed_result(
                "flat_nightly",
                "Flat nightly cost",
                scale_note,
                measured_flat,
                why,
                [
                    (
                        "ratio",
                        "night at the end of 5 years / night in the first month (wall)",
                        "x",
                        "<=",
                        TARGET_FLAT_RATIO,
                    )
                ],
            )
        )
    return out


def bi_result(bi: dict | str, where: str, representative: bool, why_not: str = "") -> BenchResult:
    measured = (
        f"Through the read-only BI role, on {where}: (1) the scorecard for a month "
        "(marts.scorecard, the month's figure of every measure); (2) one KPI's monthly "
        "series over the five years for every village (marts.fct_kpi_values at month "
        "ends, village rows). Worst of one cold and three warm runs, fetch included. The "
        "village x month row count (440 villages x 60 months) does not depend on the "
        "scale, so the five-year data at a small scale is representative of scale 1.0."
    )
    if isinstance(bi, str):
        return failed_result(
            "bi_queries",
            "BI queries",
            "–",
            measured,
            bi,
            [
                ("scorecard_month", "scorecard for a month", "s", "<", TARGET_BI_SECONDS),
                (
                    "village_series",
                    "a KPI's 5-year monthly series, every village",
                    "s",
                    "<",
                    TARGET_BI_SECONDS,
                ),
            ],
        )
    checks = []
    for q in bi["queries"]:
        value = q["worst_seconds"] if representative else None
        reason = (
            None
            if representative
            else (f"{why_not}: measured {q['worst_seconds']:.3f} s on {q['rows']} rows, not judged")
        )
        if representative and value >= TARGET_BI_SECONDS:
            reason = f"{q['rows']} rows; plan: {q.get('plan_head', '')}"
        checks.append(
            Check(
                q["name"],
                f"{q['label']} ({q['rows']:,} rows)",
                value,
                "s",
                "<",
                TARGET_BI_SECONDS,
                reason=reason,
            )
        )
    return BenchResult(
        "bi_queries", "BI queries", bi.get("scale", "–"), measured, checks=checks, figures=bi
    )


def history_results(results_dir: Path) -> BenchResult:
    """The history loads as recorded by ``puhui bench --history`` (measure once, record)."""
    checks, figures = [], {}
    for scale, limit in TARGET_HISTORY_SECONDS.items():
        path = results_dir / f"history_load_{scale}.json"
        label = f"5 years at scale {scale}: load + build to a complete scorecard"
        if not path.exists():
            checks.append(
                Check(
                    f"history_{scale}",
                    label,
                    None,
                    "s",
                    "<",
                    limit,
                    reason=f"not measured yet: run `puhui bench --history --scale {scale}` once",
                )
            )
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        figures[scale] = data
        total = data["figures"].get("total_seconds")
        run = data.get("run", {})
        note = f"recorded {run.get('date', '?')} at commit {run.get('commit', '?')}"
        if data["figures"].get("error"):
            note += f"; failed: {data['figures']['error']}"
        elif total is not None and total >= limit:
            note += (
                f"; load {data['figures'].get('load_seconds', 0):.0f} s, build "
                f"{data['figures'].get('build_seconds', 0):.0f} s"
            )
        checks.append(Check(f"history_{scale}", label, total, "s", "<", limit, reason=note))
        for t in data.get("targets", []):  # the nights on that warehouse, when recorded
            if t["name"] in ("speedup", "flat_ratio"):
                checks.append(
                    Check(
                        f"{t['name']}_{scale}",
                        f"  at scale {scale}: {t['label']}",
                        t["value"],
                        t["unit"],
                        t["op"],
                        t["limit"],
                        reason=t.get("reason") or note,
                    )
                )
    return BenchResult(
        "history_load",
        "History load",
        "0.01 and 0.1",
        "Recorded from `puhui bench --history --scale S` (not rerun by the suite): "
        f"{HISTORY_RANGE[0]}..{HISTORY_RANGE[1]} simulated, loaded into an empty database "
        "with extract_range (all three sources, one process), then one dbt build, until "
        "marts.scorecard has every measure on the last date. Simulation time excluded.",
        checks=checks,
        figures=figures,
    )


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_history(
    suite: Suite, scale: float, days: int | None, results_dir: Path, nightly: bool = True
) -> BenchResult:
    """``puhui bench --history``: five years (or ``days``) at ``scale``, from empty; then
    (``nightly``) one more night on that warehouse and a night in the first month, the
    incremental-vs-full and flat-nightly figures at the history's scale."""
    start, end = HISTORY_RANGE
    if days:
        end = start + dt.timedelta(days=days - 1)
    landing, sim = suite.simulate(start, end, scale)
    bench = suite.bench(f"history_{str(scale).replace('.', '_')}", landing)
    figures: dict = {"range": [start.isoformat(), end.isoformat()], "simulation": sim}
    try:
        load = bench.step("extract_range", start=start, end=end)
        load_average = {"after_load": _load_average()}
        suite.echo(
            f"  extract_range {start}..{end}: {load['seconds']:.0f} s "
            f"(windows of {load.get('window_days')} days; "
            f"load average {load_average['after_load']})"
        )
        build = bench.step("dbt_build", business_date=end)
        load_average["after_build"] = _load_average()
        suite.echo(
            f"  dbt build: {build['seconds']:.0f} s (load average {load_average['after_build']})"
        )
        complete = bench.step("scorecard_complete", date=end)
        figures.update(
            load_seconds=load["seconds"],
            build_seconds=build["seconds"],
            total_seconds=round(load["seconds"] + build["seconds"], 1),
            rows_loaded=load.get("rows_loaded"),
            window_days=load.get("window_days"),
            days_replayed=load.get("days_replayed"),
            load_average=load_average,
            load_peak_rss_mib=load["peak_rss_mib"],
            build=_build_summary(build),
            scorecard=complete,
        )
        if not complete.get("complete"):  # not done: the time does not count
            figures["error"] = (
                f"scorecard incomplete on {end} ({complete.get('scorecard_rows')} of "
                f"{complete.get('plan_measures')} measures) after "
                f"{figures['total_seconds']:.0f} s of load and build"
            )
        elif nightly and not days:
            # The same warehouse, one more night: the last date loaded again (a new
            # batch) and the nightly build, against the build from empty above (the
            # same models over the same data, as --full-refresh would rebuild them).
            reload = bench.step("extract_day", date=end)
            night = bench.step("dbt_build", business_date=end)
            suite.echo(f"  nightly build at the end of five years: {night['seconds']:.0f} s")
            figures["nightly"] = {
                "reload_extract": _build_summary(reload),
                "build": _build_summary(night),
            }
    except StepFailed as exc:
        figures["error"] = str(exc)[-2000:]
    finally:
        suite.drop(bench)
    if nightly and not days and "nightly" in figures:
        try:
            month = run_first_month(suite, landing)
            figures["first_month"] = {
                k: _build_summary(month[k]) for k in ("load", "first_build", "reload", "nightly")
            }
        except StepFailed as exc:
            figures["first_month"] = {"error": str(exc)[-2000:]}
    key = f"{scale:g}"
    name = f"history_load_{key}" + (f"_{days}days" if days else "")
    limit = TARGET_HISTORY_SECONDS.get(key)
    result = BenchResult(
        name,
        f"History load at scale {key}",
        key,
        f"{start}..{end} at scale {key} ({(end - start).days + 1} business days) loaded "
        "with extract_range (many business dates per window, the warehouse of day-by-day "
        "loads) into an empty database, then one dbt build; complete when "
        "marts.scorecard has every measure of the plan on the last date.",
        checks=[
            Check(
                "total_seconds",
                "load + build",
                None if figures.get("error") else figures.get("total_seconds"),
                "s",
                "<" if limit and not days else "",
                limit if not days else None,
                reason=figures.get("error"),
            ),
            *_history_nightly_checks(figures),
        ],
        figures=figures,
    )
    return result


def _history_nightly_checks(figures: dict) -> list[Check]:
    """The build from empty against one more night on the five-year warehouse, and that
    night against a night in the first month, at the history's own scale."""
    night = (figures.get("nightly") or {}).get("build")
    if not night or figures.get("error"):
        return []
    full_s, night_s = figures["build_seconds"], night["seconds"]
    checks = [
        Check("nightly_seconds", "nightly dbt build, end of five years", night_s, "s"),
        Check(
            "speedup",
            "build from empty / nightly build (wall)",
            full_s / night_s if night_s else None,
            "x",
            ">=",
            TARGET_INCREMENTAL_SPEEDUP,
        ),
    ]
    month = figures.get("first_month") or {}
    early = (month.get("nightly") or {}).get("seconds")
    if early:
        checks += [
            Check("early_seconds", "nightly dbt build, first month", early, "s"),
            Check(
                "flat_ratio",
                "night at the end of 5 years / night in the first month (wall)",
                night_s / early,
                "x",
                "<=",
                TARGET_FLAT_RATIO,
            ),
        ]
    elif month.get("error"):
        checks.append(
            Check(
                "flat_ratio",
                "night at the end / first month",
                None,
                "x",
                "<=",
                TARGET_FLAT_RATIO,
                reason=failure_summary(month["error"], 300),
            )
        )
    return checks


# --------------------------------------------------------------------------- the run


ALL = ("load", "nights", "five_years", "history")


def run(
    *,
    quick: bool = False,
    only: tuple[str, ...] = (),
    results_dir: Path | None = None,
    work: Path | None = None,
    template: str | None = None,
    template_landing: Path | None = None,
    five_year_scale: float = FIVE_YEAR_SCALE,
    keep: bool = False,
    scales: tuple[float, ...] | None = None,
    echo=print,
    db_prefix: str = DB_PREFIX,
) -> list[BenchResult]:
    """Run the suite; write every JSON file and the README table; return the results."""
    from puhui.config import get_settings

    settings = get_settings()
    results_dir = results_dir or settings.project_root / "bench" / "results"
    history_dir = results_dir  # where `puhui bench --history` recorded its runs
    if quick and results_dir == settings.project_root / "bench" / "results":
        results_dir = results_dir / "quick"  # a quick run never replaces a full run's files
    work = work or settings.home / "bench"
    suite = Suite(work, keep=keep, echo=echo, db_prefix=db_prefix)
    mode = "quick" if quick else "full"
    if only and set(only) != set(ALL):
        mode += f", only {' '.join(only)}"
    machine = machine_info(mode)
    echo(
        f"puhui bench ({machine['mode']}): {machine['cores']} cores, {machine['memory_gib']} "
        f"GiB, PostgreSQL {machine['postgres']}, commit {machine['commit']}, load average "
        f"{machine['load_average']}; work folder {work}"
    )
    wanted = set(only or ALL)
    started = time.perf_counter()
    results: list[BenchResult] = []

    def attempt(label: str, fn, *args):
        t0 = time.perf_counter()
        echo(f"[{label}]")
        try:
            value = fn(*args)
        except Exception as exc:  # one benchmark's failure must not hide the others
            traceback.print_exc()
            value = f"{exc.__class__.__name__}: {str(exc)[-1500:]}"
        echo(f"[{label}] {time.perf_counter() - t0:.0f} s")
        return value, time.perf_counter() - t0

    if "load" in wanted:
        value, seconds = attempt("load path", bench_load, suite, quick)
        if isinstance(value, str):
            value = failed_result(
                "load_path",
                "Load path",
                "1.0",
                "puhui.bench.load",
                value,
                [
                    ("puhui_vs_bare_copy", "validated load / bare COPY", "x", ">=", 0.8),
                    ("puhui_vs_to_sql", "validated load / pandas.to_sql", "x", ">=", 100.0),
                ],
            )
        value.seconds = seconds
        results.append(value)

    nights: dict[float, dict | str] = {}
    if "nights" in wanted:
        for scale in scales or ((0.01,) if quick else (0.01, 0.1, 1.0)):
            nights[scale], _ = attempt(
                f"night at scale {scale:g}", run_night, suite, scale, not quick
            )
        results += night_results(nights, quick)

    if "five_years" in wanted and not quick and template is None:
        built, _ = attempt("five-year template", five_year_template, suite, five_year_scale)
        if isinstance(built, tuple):
            template, template_landing, _ = built
    template = template or f"{db_prefix}template_5y_{five_year_scale:g}".replace(".", "_")
    template_landing = template_landing or suite.work / "no-five-year-landing"
    if "five_years" in wanted:
        scale_note = "?"
        if (template_landing / "simulation.json").exists():
            sim = json.loads((template_landing / "simulation.json").read_text(encoding="utf-8"))
            scale_note = f"{sim['scale']:g}, {sim['start']}..{sim['end']}"
        if quick:
            five = month = "full mode only (a five-year full refresh takes minutes)"
        elif not (template_landing / "simulation.json").exists():
            five = month = f"no five-year landing folder at {template_landing}"
        else:
            five, _ = attempt("five years", run_five_years, suite, template, template_landing)
            month, _ = attempt("first month", run_first_month, suite, template_landing)
        results += five_year_results(five, month, scale_note, template)
        if isinstance(five, dict) and (five.get("bi") or five.get("bi_error")):
            bi = {**five["bi"], "scale": scale_note} if five.get("bi") else five["bi_error"]
            results.append(bi_result(bi, f"the five-year warehouse ({scale_note})", True))
    if "five_years" not in wanted or quick or not any(r.name == "bi_queries" for r in results):
        small = next((n for n in nights.values() if isinstance(n, dict)), None)
        if small and "bi" in small:
            results.append(
                bi_result(
                    {**small["bi"], "scale": f"{small['scale']:g}"},
                    f"the scale-{small['scale']:g} night's warehouse (one or two business dates)",
                    False,
                    "a night's warehouse, not five years",
                )
            )
        elif not any(r.name == "bi_queries" for r in results):
            results.append(bi_result("not run in this mode", "–", False))

    if "history" in wanted:
        results.append(history_results(history_dir))

    machine["suite_seconds"] = round(time.perf_counter() - started, 1)
    for r in results:
        _write(r, results_dir, machine)
    extra = _extra_sections(nights, results)
    (results_dir / "README.md").write_text(render_table(results, machine, extra), encoding="utf-8")
    echo(render_table(results, machine, extra))
    echo(f"results in {results_dir}")
    return results


def _extra_sections(nights: dict, results: list[BenchResult]) -> str:
    parts = []
    for scale, n in sorted(nights.items()):
        if not isinstance(n, dict):
            continue
        rows = n.get("night_rows_loaded")
        parts += [
            f"## The night at scale {scale:g} ({n['night_date']}"
            + (f", {rows:,} rows loaded" if rows is not None else "")
            + (", FAILED" if n.get("error") else "")
            + ")",
            "",
            stage_table(n["history"] + n["stages"]),
            "",
        ]
        if n.get("slowest_dbt_nodes"):
            parts += [
                "Slowest dbt nodes of the night's build: "
                + ", ".join(
                    f"`{x['node'].split('.')[-1]}` {x['seconds']:.1f} s"
                    for x in n["slowest_dbt_nodes"][:5]
                ),
                "",
            ]
    for r in results:
        if r.name in ("incremental_vs_full", "flat_nightly") and r.figures:
            for key, f in r.figures.items():
                if isinstance(f, dict) and f.get("slowest"):
                    parts.append(
                        f"- {r.title}, {key.replace('_', ' ')}: slowest nodes "
                        + ", ".join(
                            f"`{x['node'].split('.')[-1]}` {x['seconds']:.1f} s"
                            for x in f["slowest"][:5]
                        )
                    )
    return "\n".join(parts)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``puhui bench`` (also ``python -m puhui.bench.suite``)."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help="under 5 minutes: load path "
        "and a first night at scale 0.01 (results in bench/results/quick/)",
    )
    parser.add_argument(
        "--history",
        action="store_true",
        help="measure once, record: load "
        "and build five years at --scale from empty (history_load_S.json)",
    )
    parser.add_argument("--scale", type=float, default=0.01, help="--history's scale")
    parser.add_argument(
        "--days",
        type=int,
        help="--history: only the first N business days "
        "(a trial run; recorded under its own name, not judged)",
    )
    parser.add_argument("--only", nargs="+", choices=ALL, help="run only these benchmarks")
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        help="the nights' scales (default 0.01 0.1 1.0; quick: 0.01)",
    )
    parser.add_argument(
        "--template",
        help="database whose raw schema holds five loaded years (copied, never written); "
        "default: built by the suite when missing, at --five-year-scale",
    )
    parser.add_argument(
        "--template-landing",
        type=Path,
        help="the landing folder --template was loaded from",
    )
    parser.add_argument(
        "--five-year-scale",
        type=float,
        default=FIVE_YEAR_SCALE,
        help=f"scale of the five-year template the suite builds (default {FIVE_YEAR_SCALE})",
    )
    parser.add_argument("--results", type=Path, help="results folder (default bench/results)")
    parser.add_argument("--work", type=Path, help="work folder (default <PUHUI_HOME>/bench)")
    parser.add_argument("--keep", action="store_true", help="keep the suite's databases")
    parser.add_argument(
        "--db-prefix", default=DB_PREFIX, help=f"prefix of the suite's databases ({DB_PREFIX})"
    )


def run_from_args(args: argparse.Namespace) -> int:
    """``puhui bench``: the suite, or ``--history``; exit 1 when a target is missed."""
    from puhui.config import get_settings

    settings = get_settings()
    if args.history:
        results_dir = args.results or settings.project_root / "bench" / "results"
        work = args.work or settings.home / "bench"
        suite = Suite(work, keep=args.keep, db_prefix=args.db_prefix)
        machine = machine_info("history")
        started = time.perf_counter()
        result = run_history(suite, args.scale, args.days, results_dir)
        result.seconds = time.perf_counter() - started
        machine["suite_seconds"] = round(result.seconds, 1)
        path = _write(result, results_dir, machine)
        print(render_table([result], machine))
        print(f"recorded in {path}")
        return 0 if result.met is not False and not result.figures.get("error") else 1
    results = run(
        quick=args.quick,
        only=tuple(args.only or ()),
        results_dir=args.results,
        work=args.work,
        template=args.template,
        template_landing=args.template_landing,
        five_year_scale=args.five_year_scale,
        keep=args.keep,
        scales=tuple(args.scales) if args.scales else None,
        db_prefix=args.db_prefix,
    )
    return 0 if all(r.met is not False and not r.error for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--step"]:  # older form of a step: --step NAME --args JSON
        from puhui.bench import steps

        return steps.main([argv[1], argv[3] if len(argv) > 3 else "{}"])
    parser = argparse.ArgumentParser(description="puhui's benchmark suite (bench/results/)")
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
