"""The benchmark suite's steps: each runs in a child process of its own (``python -m
puhui.bench.steps NAME JSON``) with the benchmark's environment, so its time and peak
RSS are its own, and prints its figures as one marked JSON line for the suite to read.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

RESULT_MARK = "PUHUI-BENCH-RESULT "
SEED = 20160101


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


def run_step(name: str, args: dict) -> dict:
    """One in-process step, run in this (child) process with the benchmark's env."""
    from puhui.config import get_settings

    settings = get_settings()
    date = dt.date.fromisoformat(args["date"]) if args.get("date") else None
    if name == "simulate":
        from puhui.simulate import simulate

        summary = simulate(
            dt.date.fromisoformat(args["start"]),
            dt.date.fromisoformat(args["end"]),
            scale=float(args["scale"]),
            seed=SEED,
            out=Path(args["out"]),
        )
        return {"records": summary.records, "files": summary.files}
    if name == "load_bench":
        from puhui.bench import load

        return load.run(
            dt.date.fromisoformat(args["date"]),
            landing=Path(args["landing"]),
            sample=int(args["sample"]),
            use_project_db=True,
            repeat=int(args["repeat"]),
            results_dir=None,  # load.json belongs to `puhui bench-load`
        )
    if name == "extract_day":
        from puhui.extract.day import extract_day

        return {"rows_loaded": extract_day(date, settings).rows_loaded}
    if name == "extract_range":
        from puhui.extract.day import WINDOW_DAYS, extract_range

        window_days = int(args.get("window_days") or WINDOW_DAYS)
        days = extract_range(
            dt.date.fromisoformat(args["start"]),
            dt.date.fromisoformat(args["end"]),
            settings,
            window_days=window_days,
        )
        return {
            "days": len(days),
            "rows_loaded": sum(d.rows_loaded for d in days),
            "window_days": window_days,
            "days_replayed": sum(d.replayed for d in days),  # windows that fell back
        }
    if name == "dbt_build":
        return _dbt_build(settings, args)
    if name == "report":
        from puhui.report import build_report

        return {"path": str(build_report(date, settings))}
    if name == "bi_queries":
        return bi_queries(settings)
    if name == "scorecard_complete":
        from puhui import db

        with db.connect(settings) as conn:
            have, want = conn.execute(
                "select (select count(*) from marts.scorecard where as_of_date = %s),"
                " (select count(*) from marts.plan_targets)",
                (date,),
            ).fetchone()
        return {"scorecard_rows": have, "plan_measures": want, "complete": have >= want > 0}
    raise ValueError(f"unknown step {name!r}")


def _dbt_build(settings, args: dict) -> dict:
    """The nightly build (``puhui.orchestration.build_for_run``: what build_warehouse's task
    runs for the business date) or a ``--full-refresh`` of the same selection. Test
    failures are reported, not raised: the timing stands, and the figures say the build
    was not clean."""
    from puhui.warehouse.dbt import DbtError, build, read_run_results, target_dir

    business_date = (
        dt.date.fromisoformat(args["business_date"]) if args.get("business_date") else None
    )
    error = None
    try:
        if args.get("full_refresh"):
            result = build(settings, full_refresh=True)
        elif args.get("as_task", True):
            # exactly what build_warehouse.build_models runs for the business date
            from zoneinfo import ZoneInfo

            from puhui.config import TIMEZONE
            from puhui.orchestration import build_for_run

            logical = dt.datetime.combine(business_date, dt.time(), ZoneInfo(TIMEZONE))
            build_for_run({"logical_date": logical})
            result = read_run_results(target_dir(settings))
        else:
            result = build(settings, business_date=business_date)
    except DbtError as exc:
        error = str(exc)[-1500:]
        result = getattr(exc, "result", None) or read_run_results(target_dir(settings))
    nodes = result.nodes if result else []
    models = [n for n in nodes if n.resource_type in ("model", "seed", "snapshot")]
    return {
        "dbt_elapsed_seconds": round(result.elapsed_seconds, 1) if result else None,
        "nodes": len(nodes),
        "models": len(models),
        "node_seconds": round(sum(n.execution_seconds or 0 for n in nodes), 1),
        "errors": [n.describe()[:300] for n in (result.errors if result else [])][:10],
        "slowest": [
            {"node": n.unique_id, "seconds": round(n.execution_seconds or 0, 2)}
            for n in sorted(nodes, key=lambda n: -(n.execution_seconds or 0))[:8]
        ],
        "error": error,
    }


BI_QUERIES = {
    "scorecard_month": (
        "scorecard for a month",
        """
        select plan_id, kpi_id, measure, kpi_name, unit, as_of_date, actual_value,
               target_value, on_track_value, gap, share_of_target, status
        from marts.scorecard
        where period_month = %(month)s and is_month_figure
        order by plan_id, kpi_id, measure
        """,
    ),
    "village_series": (
        "a KPI's 5-year monthly series, every village",
        """
        select v.region_code, v.region_name, v.business_date, v.value
        from marts.fct_kpi_values as v
        join marts.dim_date as d on d.date_day = v.business_date
        where v.kpi_id = %(kpi)s and v.measure = %(measure)s and v.region_level = 'village'
            and (d.is_month_end or v.business_date = %(latest)s)
        order by v.region_code, v.business_date
        """,
    ),
}


def bi_queries(settings) -> dict:
    """Time the BI queries as the BI role: worst of a cold run and three warm ones."""
    import psycopg

    from puhui import db

    with db.connect(settings) as conn:  # pick parameters as the owner, untimed
        latest = conn.execute("select max(business_date) from marts.fct_kpi_values").fetchone()[0]
        kpi, measure = conn.execute(
            "select kpi_id, measure from marts.fct_kpi_values"
            " where business_date = %s and region_level = 'village'"
            " order by kpi_id = 'K09' desc, kpi_id, measure limit 1",
            (latest,),
        ).fetchone()
        month = conn.execute(
            "select max(period_month) from marts.scorecard where is_month_figure"
        ).fetchone()[0]
    info = db.conninfo(settings)
    params = {"kpi": kpi, "measure": measure, "latest": latest, "month": month}
    out = []
    with psycopg.connect(
        host=info.host,
        port=info.port,
        dbname=info.dbname,
        user=settings.bi_role,
        password=settings.bi_password(),
    ) as conn:
        role = conn.execute("select current_user").fetchone()[0]
        for name, (label, sql) in BI_QUERIES.items():
            times, rows = [], 0
            for _ in range(4):
                started = time.perf_counter()
                rows = len(conn.execute(sql, params).fetchall())
                times.append(time.perf_counter() - started)
            plan = conn.execute("explain " + sql, params).fetchall()
            out.append(
                {
                    "name": name,
                    "label": label,
                    "rows": rows,
                    "cold_seconds": round(times[0], 4),
                    "warm_seconds": [round(t, 4) for t in times[1:]],
                    "worst_seconds": round(max(times), 4),
                    "plan_head": " / ".join(r[0].strip() for r in plan[:3]),
                }
            )
    return {
        "role": role,
        "kpi": kpi,
        "measure": measure,
        "month": str(month),
        "latest": str(latest),
        "queries": out,
    }


def main(argv: list[str] | None = None) -> int:
    name, args = (argv if argv is not None else sys.argv[1:])[:2]
    result = run_step(name, json.loads(args))
    result["self_peak_rss_mib"] = _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    result["children_peak_rss_mib"] = _mib(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
