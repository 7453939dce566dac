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

        # A night's sliver (a new date's 100 rows) leaves the statistics alone, as
        # PostgreSQL's autoanalyze would (50 rows + 10 %), but its block ranges are
        # summarised; a load past that threshold is analysed again.
        with db.connect(settings, autocommit=True) as conn:
            conn.execute(
                f"insert into {PROBE} select date '2016-03-01', 'y' from generate_series(1, 100)"
            )
        assert PROBE not in analyze_changed_raw_tables(settings)
        with db.connect(settings, autocommit=True) as conn:
            left = conn.execute(
                "select brin_summarize_new_values('raw.zz_housekeeping_probe_brin')"
            ).fetchone()[0]
            conn.execute(
                f"insert into {PROBE} select date '2016-03-02', 'z' from generate_series(1, 10000)"
            )
        assert left == 0
        assert PROBE in analyze_changed_raw_tables(settings)
    finally:
        with db.connect(settings, autocommit=True) as conn:
            conn.execute(f"drop table if exists {PROBE}")


def test_build_command_full_refresh_mends_an_incremental_model_after_an_upgrade(
    warehouse, settings, monkeypatch, capsys
):
    """A release that changes an incremental model's columns stops the nightly build
    (on_schema_change='fail'); `puhui build --full-refresh --select ...` rebuilds it."""
    from puhui import cli
    from puhui.config import get_settings, load_settings

    dbname = "puhui_build_command_test"
    monkeypatch.setenv("PUHUI_WAREHOUSE_DB", dbname)
    get_settings.cache_clear()
    own = load_settings()
    admin = db.conninfo(own, ensure=False).with_db("postgres")
    db.drop_database(admin, dbname)
    db.init_warehouse(own)
    try:
        assert cli.main(["build", "--select", "+int_business_dates"]) == 0
        with db.connect(own, autocommit=True) as conn:  # what an older release built
            conn.execute("alter table intermediate.int_business_dates drop built_from_loaded_at")
        assert cli.main(["build", "--select", "+int_business_dates"]) == 1
        assert "int_business_dates" in capsys.readouterr().err
        assert cli.main(["build", "--full-refresh", "--select", "+int_business_dates"]) == 0
        assert "dbt build --full-refresh:" in capsys.readouterr().out
        with db.connect(own) as conn:
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where"
                    " table_schema = 'intermediate' and table_name = 'int_business_dates'"
                )
            ]
        assert "built_from_loaded_at" in columns
    finally:
        get_settings.cache_clear()
        db.drop_database(admin, dbname)


def test_dbt_log_file_holds_info_unless_debug_is_asked_for(warehouse, settings):
    """dbt's file log at its default, debug, costs 8% of a nightly build; puhui runs
    it at info (PUHUI_DBT_LOG_LEVEL_FILE), and debug when asked."""
    import dataclasses

    from puhui.warehouse.dbt import _invoke

    log_file = settings.home / "dbt" / "logs" / "dbt.log"

    def appended_by_parse(level: str) -> str:
        before = log_file.stat().st_size if log_file.exists() else 0
        _invoke(["parse"], dataclasses.replace(settings, dbt_log_level_file=level))
        if log_file.stat().st_size < before:  # dbt rotated the file (10 MB): all is new
            before = 0
        with log_file.open("rb") as f:
            f.seek(before)
            return f.read().decode("utf-8", "replace")

    assert settings.dbt_log_level_file == "info"
    quiet = appended_by_parse(settings.dbt_log_level_file)
    assert "Running with dbt" in quiet and "[debug]" not in quiet
    assert "[debug]" in appended_by_parse("debug")
