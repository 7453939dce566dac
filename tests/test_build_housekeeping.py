"""What the nightly build does to raw before dbt runs: fresh statistics and BRIN summaries."""

from __future__ import annotations

from puhui import db
from puhui.warehouse.dbt import analyze_changed_raw_tables

PROBE = "raw.zz_housekeeping_probe"


def test_changed_raw_tables_are_analysed_and_their_brin_ranges_summarised(warehouse, settings):
    with db.connect(settings, autocommit=True) as conn:
        conn.execute(f"drop table if exists {PROBE}")
        conn.execute(f"create table {PROBE} (_business_date date not null, filler text)")
        # Created before the rows: every block range written afterwards is unsummarised.
        conn.execute(
            f"create index zz_housekeeping_probe_brin on {PROBE} using brin (_business_date)"
        )
        conn.execute(
            f"insert into {PROBE} select date '2016-01-01' + (g / 1000), repeat('x', 200)"
            " from generate_series(0, 59999) as g"
        )
    try:
        analysed = analyze_changed_raw_tables(settings)
        with db.connect(settings, autocommit=True) as conn:
            left = conn.execute(
                "select brin_summarize_new_values('raw.zz_housekeeping_probe_brin')"
            ).fetchone()[0]
            analysed_at = conn.execute(
                "select last_analyze from pg_stat_user_tables"
                " where schemaname = 'raw' and relname = 'zz_housekeeping_probe'"
            ).fetchone()[0]
            # A date's rows are found through the index's summaries, not by reading all.
            conn.execute("set enable_seqscan = off")
            conn.execute("set max_parallel_workers_per_gather = 0")
            plan = conn.execute(
                f"explain (analyze, format json) select count(*) from {PROBE}"
                " where _business_date = date '2016-01-30'"
            ).fetchone()[0]
        assert PROBE in analysed
        assert analysed_at is not None
        assert left == 0  # nothing was left for a later summarisation
        node = plan[0]["Plan"]
        while node.get("Node Type") != "Bitmap Heap Scan" and node.get("Plans"):
            node = node["Plans"][0]
        assert node["Node Type"] == "Bitmap Heap Scan", plan
        assert node.get("Rows Removed by Index Recheck", 0) < 10_000  # of 60,000 rows
    finally:
        with db.connect(settings, autocommit=True) as conn:
            conn.execute(f"drop table if exists {PROBE}")
