"""The ``puhui`` command: simulate, run the nightly pipeline, inspect the warehouse."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path

from puhui.config import get_settings
from puhui.extract.day import WINDOW_DAYS


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def cmd_simulate(args: argparse.Namespace) -> int:
    from puhui.simulate import simulate

    out = Path(args.out) if args.out else get_settings().landing_dir
    started = time.monotonic()
    summary = simulate(
        args.start,
        args.end,
        scale=args.scale,
        seed=args.seed,
        out=out,
        defect_rate=args.defect_rate,
    )
    print(
        f"simulated {summary.days} business days ({summary.start} to {summary.end}) at scale "
        f"{args.scale}, seed {args.seed}: {summary.files} files, {summary.records:,} records "
        f"in {time.monotonic() - started:.1f}s -> {out}"
    )
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from puhui import db

    settings = get_settings()
    if args.action == "stop":
        print("stopped embedded PostgreSQL" if db.stop_embedded(settings) else "nothing to stop")
        return 0
    info = db.conninfo(settings)
    if args.action in ("init", "start"):
        db.init_warehouse(settings)
        print(f"warehouse ready: {info.sqlalchemy_url}")
    elif args.action == "url":
        print(info.sqlalchemy_url)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from puhui.runner import DagRunFailed, run_nightly

    end = args.to or args.date
    print(f"nightly pipeline for {args.date} to {end} (real Airflow DAG runs):")
    try:
        run_nightly(args.date, end)
    except DagRunFailed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from puhui.backfill import BackfillError, command_equivalent, run_backfill

    settings = get_settings()
    sources = args.sources or ["core_banking", "ebanking", "agency"]
    where = settings.airflow_api_url or "an embedded Airflow (api-server, scheduler, dag-processor)"
    print(f"backfill {args.start} to {args.end}, sources {', '.join(sources)}, via {where}")
    if args.verbose:
        print(
            "the same with the airflow CLI:\n"
            + command_equivalent(args.start, args.end, sources, args.reprocess)
        )
    try:
        report = run_backfill(
            args.start, args.end, sources=sources, reprocess=args.reprocess, settings=settings
        )
    except BackfillError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    for day in report.failed:
        print(f"  {day.business_date} {day.state}", file=sys.stderr)
    print(
        f"{len(report.days) - len(report.failed)} of {len(report.days)} days ok in "
        f"{report.seconds:.0f}s; backfills {report.backfill_ids}"
    )
    return 0 if report.ok else 1


def cmd_load_history(args: argparse.Namespace) -> int:
    from puhui.extract.day import extract_range

    settings = get_settings()
    sources = args.sources or ["core_banking", "ebanking", "agency"]
    started = time.monotonic()
    days = extract_range(args.start, args.end, settings, sources, window_days=args.window_days)
    replayed = sum(d.replayed for d in days)
    print(
        f"loaded {len(days)} business dates ({args.start} to {args.end}), "
        f"{sum(d.rows_loaded for d in days):,} rows, in {time.monotonic() - started:.0f}s"
        + (f"; {replayed} dates loaded one by one (their window failed)" if replayed else "")
    )
    if args.no_build:
        return 0
    from puhui.warehouse.dbt import DbtError, build

    started = time.monotonic()
    try:
        result = build(settings, business_date=args.end)
    except DbtError as exc:
        print(f"FAILED: dbt build: {exc}", file=sys.stderr)
        return 1
    print(f"dbt build for {args.end}: {result.status}, {time.monotonic() - started:.0f}s")
    return 0


def cmd_kpis(args: argparse.Namespace) -> int:
    from puhui.warehouse.marts import archiving_rate_report, scorecard_report

    print(scorecard_report(args.date))
    print()
    print(archiving_rate_report(args.date))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from puhui.warehouse.dbt import DbtError, build

    try:
        result = build(business_date=args.date, select=args.select, full_refresh=args.full_refresh)
    except DbtError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    models = sum(1 for n in result.nodes if n.resource_type == "model")
    print(
        f"dbt build{' --full-refresh' if args.full_refresh else ''}: {models} models, "
        f"{len(result.nodes)} nodes in {result.elapsed_seconds:.0f} s"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from puhui.report import build_report

    try:
        path = build_report(args.date, out=args.out)
    except LookupError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from puhui import db
    from puhui.report import build_report
    from puhui.runner import DagRunFailed, run_nightly
    from puhui.simulate import simulate
    from puhui.warehouse.marts import archiving_rate_report, load_summary, scorecard_report

    settings = get_settings()
    started = time.monotonic()
    end = args.start + dt.timedelta(days=args.days - 1)
    summary = simulate(args.start, end, scale=args.scale, seed=args.seed, out=settings.landing_dir)
    print(
        f"[1/3] simulated Shangyu at scale {args.scale}: {summary.records:,} records in "
        f"{summary.files} files for {summary.days} business days -> {settings.landing_dir}"
    )
    info = db.conninfo(settings)
    db.init_warehouse(settings)
    print(f"[2/3] warehouse: {info.sqlalchemy_url}")
    try:
        run_nightly(args.start, end, settings)
    except DagRunFailed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("[3/3] what landed (ops.load_audit):")
    print(load_summary(settings))
    print(f"\nwhat the warehouse says on {end}:")
    print(scorecard_report(end, settings))
    print()
    print(archiving_rate_report(end, settings))
    print(f"\nmorning report: {build_report(end, settings)}")
    if settings.embedded:
        db.stop_embedded(settings)  # any later puhui command starts it again in ~2 s
    print(
        f"demo finished in {time.monotonic() - started:.0f}s. Explore: .venv/bin/puhui kpis, "
        f".venv/bin/puhui db url, Airflow logs in {settings.airflow_home / 'logs'}"
    )
    return 0


def cmd_bench_simulate(args: argparse.Namespace) -> int:
    from puhui.bench.simulate import run

    rows = run(quick=args.quick, results_dir=get_settings().project_root / "bench" / "results")
    return 0 if all(r["met"] for r in rows) else 1


def cmd_bench_load(args: argparse.Namespace) -> int:
    from puhui.bench.load import run

    result = run(
        args.date,
        landing=args.landing,
        sample=args.sample,
        use_project_db=args.project_db,
        profile=args.profile,
        results_dir=get_settings().project_root / "bench" / "results",
    )
    return 0 if all(result["met"].values()) else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from puhui.bench.suite import run_from_args

    return run_from_args(args)


def cmd_airflow(args: argparse.Namespace) -> int:
    from puhui.airflow_env import ensure_metadata_db, run_airflow

    ensure_metadata_db()
    return run_airflow(args.args, check=False).returncode


def _add_range_arguments(p: argparse.ArgumentParser, sources_help: str) -> None:
    p.add_argument("--from", dest="start", type=_date, required=True, help="first business date")
    p.add_argument("--to", dest="end", type=_date, required=True, help="last business date")
    p.add_argument(
        "--sources", nargs="+", choices=["core_banking", "ebanking", "agency"], help=sources_help
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="puhui",
        description="Inclusive-finance KPI warehouse for Shangyu Rural Commercial Bank. "
        "Configuration comes from PUHUI_* variables (see .env.example).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="write synthetic source-system data for a date range")
    p.add_argument("--start", type=_date, required=True, help="first business date, YYYY-MM-DD")
    p.add_argument("--end", type=_date, required=True, help="last business date, YYYY-MM-DD")
    p.add_argument(
        "--scale", type=float, default=0.01, help="1.0 = ~290,000 households (default 0.01)"
    )
    p.add_argument("--seed", type=int, default=20160101, help="random seed (same seed, same bytes)")
    p.add_argument("--out", help="landing folder (default: PUHUI_LANDING_DIR)")
    p.add_argument(
        "--defect-rate",
        type=float,
        default=0.0,
        help="probability that a file gets a defect (listed in simulation.json); default 0",
    )
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("db", help="the warehouse database: init | start | stop | url")
    p.add_argument("action", choices=["init", "start", "stop", "url"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("run", help="run the nightly DAGs for a business date (or a range)")
    p.add_argument("--date", type=_date, required=True, help="business date, YYYY-MM-DD")
    p.add_argument("--to", type=_date, help="last business date of a range (inclusive)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "backfill",
        help="reload business dates through Airflow backfills (runs visible in the Airflow UI)",
    )
    _add_range_arguments(
        p, "sources to reload (default: all three); the warehouse is rebuilt for each date"
    )
    p.add_argument(
        "--reprocess",
        choices=["failed", "completed", "all"],
        help="also rerun dates that already ran: failed ones, or every one (completed/all); "
        "default: only dates that never ran",
    )
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser(
        "load-history",
        help="load a range of business dates many at a time (no Airflow), then one dbt build: "
        "the warehouse of the nightly loads, for history (issue #7)",
    )
    _add_range_arguments(p, "sources to load (default: all three)")
    p.add_argument(
        "--window-days",
        type=int,
        default=WINDOW_DAYS,
        help=f"business dates loaded together, in one transaction (default {WINDOW_DAYS})",
    )
    p.add_argument("--no-build", action="store_true", help="load only; no dbt build")
    p.set_defaults(func=cmd_load_history)

    p = sub.add_parser(
        "build",
        help="build the warehouse with dbt now (the nightly build's step; --full-refresh "
        "after an upgrade that changes an incremental model's columns)",
    )
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from all of raw and test every date",
    )
    p.add_argument("--select", nargs="+", help="dbt selectors (default: the whole project)")
    p.add_argument("--date", type=_date, help="business date recorded with the build")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("kpis", help="print the plan scorecard and the archiving rate (K09) by town")
    p.add_argument("--date", type=_date, help="business date (default: latest loaded)")
    p.set_defaults(func=cmd_kpis)

    p = sub.add_parser("report", help="write the morning HTML report for a business date")
    p.add_argument("--date", type=_date, help="business date (default: latest loaded)")
    p.add_argument("--out", type=Path, help="file to write (default: .puhui/reports/)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo", help="simulate a small county and run the pipeline end to end")
    p.add_argument("--start", type=_date, default=dt.date(2015, 12, 31))
    p.add_argument("--days", type=int, default=3)
    p.add_argument("--scale", type=float, default=0.02)
    p.add_argument("--seed", type=int, default=20160101)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "bench-simulate", help="benchmark the simulator: time and peak memory (bench/results/)"
    )
    p.add_argument("--quick", action="store_true", help="only one day at scale 1.0")
    p.set_defaults(func=cmd_bench_simulate)

    p = sub.add_parser(
        "bench-load",
        help="benchmark loading one day's transaction journal at scale 1.0 (bench/results/)",
    )
    p.add_argument("--date", type=_date, default=dt.date(2020, 12, 10))
    p.add_argument("--landing", type=Path, help="an already simulated landing folder")
    p.add_argument("--sample", type=int, default=20_000, help="rows timed for pandas.to_sql")
    p.add_argument("--project-db", action="store_true", help="use the project's warehouse")
    p.add_argument("--profile", action="store_true", help="print a profile of puhui's path")
    p.set_defaults(func=cmd_bench_load)

    p = sub.add_parser(
        "bench", help="the benchmark suite: every performance target side by side (bench/results/)"
    )
    from puhui.bench.suite import add_arguments as add_bench_arguments

    add_bench_arguments(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("airflow", help="run the airflow CLI with puhui's environment")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_airflow)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
