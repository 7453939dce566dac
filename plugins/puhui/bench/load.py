"""Load benchmark (issue #4, "Speed"): the transaction journal of one business day, scale 1.0.

Side by side in one run, on the same PostgreSQL:

- (a) ``bare_copy``: ``COPY ... FROM STDIN`` of the already-decoded rows (the file's text,
  decoded from GBK beforehand) into a table with the file's columns and types;
- (b) ``puhui``: the full path, ``extract_table("txns", ...)``: read, verify the control
  file, decode, validate with every check of ``schemas.core_banking.TxnRecord``, hash and
  mask personal data, COPY into ``raw.core_banking__txns`` in one transaction. Run in a
  fresh subprocess so its peak RSS is its own;
- (a2), for information: COPY of exactly what (b) sends (20 columns: hashes, masks,
  derived attributes, line numbers; the load metadata are per-batch defaults) into a
  table like ``raw.core_banking__txns``: the COPY floor of the raw table itself, so
  (b)/(a2) shows what the Python side costs;
- (c) ``pandas_to_sql``: ``DataFrame.to_sql(method="multi")`` of the same rows, timed on a
  sample (default 20,000 rows) and extrapolated to rows/s: loading the whole day this way
  takes many minutes.

Targets: (b)/(a) >= 0.8, (b)/(c) >= 100, peak RSS of (b) < 2 GiB. Writes
``bench/results/load.json``. By default everything runs in a temporary puhui home with its
own embedded PostgreSQL, so the developer's warehouse is never touched; with
``PUHUI_WAREHOUSE_URL`` set it runs on that server (the JSON names the server). (a), (a2)
and (b) are each run ``--repeat`` times (default 3), a fresh table or an emptied raw table
each time; the ratios use the medians (the best runs are recorded beside them), since
the machines are shared and single runs are noisy. (b)'s peak RSS is that of its whole
subprocess.

Fairness, both ways:

- the (b)/(a) target is judged on (a), the issue's wording: the decoded rows of the file
  into a table of the file's 14 columns. (b) must land something else, 20 columns with
  32-character hashes and masked forms (about 1.7 times the bytes), because the PII rule
  forbids landing the numbers; (a2) measures a bare COPY of exactly those rows, so
  (a2)/(a) is the part of the gap no loader can close, and (b)/(a2) what puhui's own
  work costs on top;
- (c) inserts 1,000 rows per statement: of 250, 1,000 and 4,000 (14,000 and 56,000
  bind parameters), 1,000 measured about the fastest, so (c) is not handicapped.

Where (b)'s time goes (2026-11, CPU seconds, not wall: the machines are shared). Server,
COPY of the day's journal into a fresh table, PostgreSQL 15: (a)'s 14 columns 0.60; the
raw table as it was (24 columns, 64-digit hashes, metadata per row) 1.84; metadata as
per-batch defaults 1.27; and 32-digit hashes 1.13; no metadata stored at all 0.95; the
same in binary COPY 0.73. On the embedded PostgreSQL 18 with ``wal_level=minimal``, a
table created in the loading transaction (no WAL) took 0.65 against 0.70 WAL-logged and
about 0.4 s less wall time, but only a new relation per batch (a partition per table and
date) could use it. Client, (b) after this round: read and MD5 0.13, GBK decode and split
0.63, validation 0.44, hashing, masking and rendering during the COPY 1.8 (of which
HMAC-SHA256 of 763,000 card and account numbers about 0.8: Python's per-call cost, at its
floor with hashlib), against the server's 1.0. (b) is bound by the client.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DATE = dt.date(2020, 12, 10)  # the 10th of December 2020: the largest journal
TARGETS = {"puhui_vs_bare_copy": 0.8, "puhui_vs_to_sql": 100.0, "peak_rss_mib": 2048}
BENCH_DB = "puhui_bench"

_COPY_TABLE = """
drop table if exists bench.txn_copy;
create table bench.txn_copy (
    txn_id text not null, txn_date date not null, txn_time time not null,
    account_no text not null, card_no text, channel_code text not null,
    txn_type text not null, direction text not null, amount numeric(18, 2) not null,
    counterparty_bank_code text, is_internal text not null, reversal_flag text not null,
    branch_code text not null, memo text not null
)
"""


def _env(home: Path | None, landing: Path) -> dict[str, str]:
    env = {**os.environ, "PUHUI_LANDING_DIR": str(landing), "PUHUI_WAREHOUSE_DB": BENCH_DB}
    if home is not None:
        env["PUHUI_HOME"] = str(home)
        env.setdefault("PUHUI_PII_KEY", "bench-only-pii-key")
    return env


def _measure_full_path(business_date: dt.date, profile: bool, repeat: int = 1) -> dict:
    """(b), in this process: extract_table of the day's journal, best of ``repeat`` runs."""
    from puhui import db
    from puhui.config import get_settings
    from puhui.extract.core_banking import extract_table

    settings = get_settings()
    extract_table("txns", business_date, settings)  # warm-up: imports, DDL, server caches
    profiler = None
    runs = []
    for attempt in range(repeat):
        with db.connect(settings) as conn:  # time a first load, as (a) is: nothing to replace
            conn.execute("truncate raw.core_banking__txns")
            conn.commit()
        if profile and attempt == repeat - 1:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        result = extract_table("txns", business_date, settings)
        runs.append(time.perf_counter() - started)
    figures = {
        "rows": result.rows_loaded,
        "rows_read": result.rows_read,
        "rows_quarantined": result.rows_quarantined,
        **_timings(runs),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if profiler is not None:
        import pstats

        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        figures["profile"] = out.getvalue()
    return figures


def _decoded_rows(settings, business_date: dt.date) -> bytes:
    from puhui.extract.core_banking import TABLES, data_path

    return (
        data_path(settings.landing_dir, TABLES["txns"], business_date)
        .read_bytes()
        .decode("gbk")
        .encode("utf-8")
    )


def _bare_copy(settings, text: bytes, repeat: int = 1) -> dict:
    """(a): COPY the decoded rows into a table of the file's columns, one transaction,
    into a fresh table each time (best of ``repeat``)."""
    from puhui import db

    rows = text.count(b"\n")
    runs = []
    with db.connect(settings) as conn:
        conn.execute("create schema if not exists bench")
        conn.commit()
        for _ in range(repeat):
            conn.execute(_COPY_TABLE)
            conn.commit()
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(
                    "copy bench.txn_copy from stdin with (format text, delimiter '|', null '')"
                ) as copy:
                    copy.write(text)
            runs.append(time.perf_counter() - started)
        loaded = conn.execute("select count(*) from bench.txn_copy").fetchone()[0]
        server = conn.execute("select version()").fetchone()[0]
    assert loaded == rows, (loaded, rows)
    return {"rows": rows, **_timings(runs), "server": server}


def _bare_copy_of_loaded_rows(settings, repeat: int = 1) -> dict:
    """(a2): COPY of exactly what (b) sends for the rows it loaded, already rendered as
    text, into a table like ``raw.core_banking__txns`` (same columns, defaults and
    indexes; the load metadata come from the batch's defaults, as in (b)): the floor for
    the raw table's wider rows. A fresh table each time."""
    from psycopg import sql

    from puhui import db
    from puhui.load.loader import LOAD_SETTINGS

    runs = []
    with db.connect(settings) as conn:
        columns = [
            name
            for (name,) in conn.execute(
                "select attname from pg_attribute where attrelid ="
                " 'raw.core_banking__txns'::regclass and attnum > 0 and not attisdropped"
                " order by attnum"
            ).fetchall()
            if name not in LOAD_SETTINGS
        ]
        names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        meta = conn.execute(
            "select _batch_id, _business_date, _source_file, _loaded_at"
            " from raw.core_banking__txns limit 1"
        ).fetchone()
        buffer = bytearray()
        statement = sql.SQL("copy raw.core_banking__txns ({}) to stdout").format(names)
        with conn.cursor().copy(statement) as copy:
            for chunk in copy:
                buffer += chunk
        payload = bytes(buffer)
        del buffer
        for _ in range(repeat):
            conn.execute("drop table if exists bench.txn_raw_like")
            conn.execute(
                "create table bench.txn_raw_like"
                " (like raw.core_banking__txns including defaults including indexes)"
            )
            conn.commit()
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(
                    "select set_config(%s, %s, true), set_config(%s, %s::text, true),"
                    " set_config(%s, %s, true), set_config(%s, %s::text, true)",
                    [v for pair in zip(LOAD_SETTINGS.values(), meta, strict=True) for v in pair],
                )
                statement = sql.SQL("copy bench.txn_raw_like ({}) from stdin").format(names)
                with cur.copy(statement) as copy:
                    copy.write(payload)
            runs.append(time.perf_counter() - started)
        rows = conn.execute("select count(*) from bench.txn_raw_like").fetchone()[0]
    return {"rows": rows, **_timings(runs), "columns_sent": len(columns)}


def _timings(runs: list[float]) -> dict:
    """Median (what the ratios use), best, and every run, in seconds."""
    return {
        "seconds": round(statistics.median(runs), 3),
        "seconds_best": round(min(runs), 3),
        "runs": [round(r, 3) for r in runs],
    }


def _to_sql(settings, text: bytes, sample: int) -> dict:
    """(c): pandas to_sql(method="multi") of the first ``sample`` rows, extrapolated."""
    import pandas as pd
    import sqlalchemy as sa

    from puhui import db
    from puhui.extract.core_banking import TABLES

    lines = text.decode("utf-8").split("\n")[:sample]
    frame = pd.DataFrame(
        [line.split("|") for line in lines], columns=list(TABLES["txns"].columns)
    ).replace("", None)
    engine = sa.create_engine(db.conninfo(settings).sqlalchemy_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("create schema if not exists bench")
            conn.exec_driver_sql("drop table if exists bench.txn_to_sql")
        started = time.perf_counter()
        # 1,000 rows x 14 columns per INSERT stays under PostgreSQL's 65,535 parameters.
        frame.to_sql(
            "txn_to_sql", engine, schema="bench", method="multi", chunksize=1000, index=False
        )
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return {"rows": len(frame), "seconds": round(seconds, 3), "extrapolated": True}


def run(
    business_date: dt.date = DEFAULT_DATE,
    *,
    landing: Path | None = None,
    sample: int = 20_000,
    use_project_db: bool = False,
    profile: bool = False,
    results_dir: Path | None = None,
    repeat: int = 3,
) -> dict:
    """Simulate the day if needed, run (a), (b), (c), print and write the figures."""
    from puhui import db
    from puhui.config import load_settings

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="puhui-bench-load-") as tmp:
        tmp_path = Path(tmp)
        home = None if use_project_db else tmp_path / "home"
        if landing is None:
            from puhui.simulate import simulate

            landing = tmp_path / "landing"
            started = time.perf_counter()
            simulate(business_date, business_date, scale=1.0, seed=20160101, out=landing)
            print(
                f"simulated {business_date} at scale 1.0 in {time.perf_counter() - started:.0f} s"
            )
        env = _env(home, landing)
        settings = load_settings(env)
        try:
            db.init_warehouse(settings)
            text = _decoded_rows(settings, business_date)
            bare = _bare_copy(settings, text, repeat)
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "puhui.bench.load",
                    "--one",
                    business_date.isoformat(),
                    "--repeat",
                    str(repeat),
                ]
                + (["--profile"] if profile else []),
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"full-path measurement failed:\n{proc.stderr[-4000:]}")
            full = json.loads(proc.stdout.strip().splitlines()[-1])
            bare_loaded = _bare_copy_of_loaded_rows(settings, repeat)
            pandas = _to_sql(settings, text, sample)
        finally:
            if home is not None:
                db.stop_embedded(settings)

    rate = {
        k: v["rows"] / v["seconds"]
        for k, v in (("a", bare), ("a2", bare_loaded), ("b", full), ("c", pandas))
    }
    ratios = {
        "puhui_vs_bare_copy": rate["b"] / rate["a"],
        "puhui_vs_to_sql": rate["b"] / rate["c"],
        "puhui_vs_bare_copy_of_loaded_rows": rate["b"] / rate["a2"],
    }
    met = {
        "puhui_vs_bare_copy": ratios["puhui_vs_bare_copy"] >= TARGETS["puhui_vs_bare_copy"],
        "puhui_vs_to_sql": ratios["puhui_vs_to_sql"] >= TARGETS["puhui_vs_to_sql"],
        "peak_rss_mib": full["peak_rss_mib"] < TARGETS["peak_rss_mib"],
    }
    floor = rate["a2"] / rate["a"]
    notes = {
        "judged_on": "(a): the file's 14 decoded columns into a table of those columns, "
        "as the issue words it; (a2) is the same COPY of the columns puhui must land",
        "puhui_vs_bare_copy": None
        if met["puhui_vs_bare_copy"]
        else f"(b) sends {bare_loaded['columns_sent']} columns (keyed hashes, masks, derived "
        "attributes, line numbers) where (a) sends 14; "
        f"a bare COPY of exactly (b)'s rows, (a2), already runs at {floor:.2f} x (a), "
        f"and (b) reaches {ratios['puhui_vs_bare_copy_of_loaded_rows']:.2f} x (a2) "
        "(decode, validation and HMACs before and beside the COPY)",
        "puhui_vs_to_sql": None
        if met["puhui_vs_to_sql"]
        else f"(b) would need {TARGETS['puhui_vs_to_sql'] * rate['c']:,.0f} rows/s; "
        f"it reaches {rate['b']:,.0f}",
    }
    profile_text = full.pop("profile", None)
    payload = {
        "benchmark": "load",
        "table": "CBS_TXN -> raw.core_banking__txns",
        "business_date": business_date.isoformat(),
        "scale": 1.0,
        "run_date": dt.date.today().isoformat(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "server": bare.pop("server"),
        "embedded_server": settings.embedded,
        "load_average_1_5_15": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        "statistic": f"median of {repeat} runs (best and all runs beside it)",
        "results": {
            "a_bare_copy": {**bare, "rows_per_second": round(rate["a"])},
            "a2_bare_copy_of_loaded_rows": {
                **bare_loaded,
                "rows_per_second": round(rate["a2"]),
                "note": "COPY of what (b) sends for the rows it loaded (hashes, masks, derived "
                "attributes; load metadata as per-batch defaults) into a table like "
                "raw.core_banking__txns; for information",
            },
            "b_puhui_full_path": {**full, "rows_per_second": round(rate["b"])},
            "c_pandas_to_sql_multi": {
                **pandas,
                "rows_per_second": round(rate["c"]),
                "note": f"timed on the first {pandas['rows']:,} rows and extrapolated",
            },
        },
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
        "targets": TARGETS,
        "met": met,
        "notes": notes,
    }
    print(f"{'path':<36}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    for name, key in (
        ("(a) bare COPY of decoded rows", "a_bare_copy"),
        ("(a2) bare COPY of the loaded rows", "a2_bare_copy_of_loaded_rows"),
        ("(b) puhui full path", "b_puhui_full_path"),
        ("(c) pandas to_sql(multi)*", "c_pandas_to_sql_multi"),
    ):
        r = payload["results"][key]
        print(f"{name:<36}{r['rows']:>10,}{r['seconds']:>10.2f}{r['rows_per_second']:>12,}")
    print(f"* timed on {pandas['rows']:,} rows, rows/s extrapolated")
    print(
        f"medians of {repeat} runs on {payload['server'].split(' on ')[0]}"
        f"{' (embedded)' if payload['embedded_server'] else ''}; load average "
        f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print(
        f"(b)/(a) = {ratios['puhui_vs_bare_copy']:.2f} (target >= 0.8: "
        f"{'met' if met['puhui_vs_bare_copy'] else 'NOT met'})"
    )
    print(
        f"(b)/(c) = {ratios['puhui_vs_to_sql']:.0f} (target >= 100: "
        f"{'met' if met['puhui_vs_to_sql'] else 'NOT met'})"
    )
    print(f"(b)/(a2) = {ratios['puhui_vs_bare_copy_of_loaded_rows']:.2f} (for information)")
    for key in ("puhui_vs_bare_copy", "puhui_vs_to_sql"):
        if notes[key]:
            print(f"  {key} not met: {notes[key]}")
    print(
        f"peak RSS of (b) = {full['peak_rss_mib']:.0f} MiB (target < 2048: "
        f"{'met' if met['peak_rss_mib'] else 'NOT met'})"
    )
    if profile_text:
        print(profile_text)
    if results_dir is not None:
        results_dir.mkdir(parents=True, exist_ok=True)
        (results_dir / "load.json").write_text(json.dumps(payload, indent=2) + "\n")
    return payload


def main(argv: list[str] | None = None) -> int:
    from puhui.config import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure (b) only
    parser.add_argument("--date", type=dt.date.fromisoformat, default=DEFAULT_DATE)
    parser.add_argument("--landing", type=Path, help="already simulated landing folder")
    parser.add_argument("--sample", type=int, default=20_000, help="rows timed for (c)")
    parser.add_argument("--project-db", action="store_true", help="use the project's warehouse")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of (b)")
    parser.add_argument("--results", type=Path, help="folder for load.json (bench/results)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a), (a2), (b); best")
    args = parser.parse_args(argv)
    if args.one:
        figures = _measure_full_path(dt.date.fromisoformat(args.one), args.profile, args.repeat)
        print(json.dumps(figures))
        return 0
    run(
        args.date,
        landing=args.landing,
        sample=args.sample,
        use_project_db=args.project_db,
        profile=args.profile,
        results_dir=args.results or get_settings().project_root / "bench" / "results",
        repeat=args.repeat,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
