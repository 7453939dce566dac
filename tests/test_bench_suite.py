"""The benchmark suite's pure parts: target checks, result files, the Markdown table.

No PostgreSQL, no subprocess: the benchmarks themselves run with ``puhui bench``.
"""

from __future__ import annotations

import json

import pytest

from puhui.bench import suite
from puhui.bench.results import (
    BenchResult,
    Check,
    failed_result,
    format_value,
    judge,
    render_table,
    stage_table,
    write_result,
)

MACHINE = {
    "date": "2026-11-29 05:00 UTC",
    "mode": "full",
    "cores": 2,
    "memory_gib": 23.5,
    "postgres": "15.20",
    "commit": "94e73a7",
    "suite_seconds": 1234.5,
}


@pytest.mark.parametrize(
    ("value", "op", "limit", "expected"),
    [
        (299.9, "<", 300, True),
        (300.0, "<", 300, False),
        (10.0, ">=", 10, True),
        (9.99, ">=", 10, False),
        (1.5, "<=", 1.5, True),
        (1.51, "<=", 1.5, False),
        (None, "<", 300, None),
        (float("nan"), "<", 300, None),
        (12.0, "", None, None),
    ],
)
def test_judge(value, op, limit, expected):
    assert judge(value, op, limit) is expected


def test_judge_rejects_unknown_operator():
    with pytest.raises(ValueError, match="operator"):
        judge(1.0, "=<", 2.0)


@pytest.mark.parametrize(
    ("value", "op", "limit", "text"),
    [
        (1.004, "<=", 1.0, "1.004 x"),  # a miss never rounds to the limit
        (1.5049, "<=", 1.5, "1.505 x"),
        (0.79996, ">=", 0.8, "0.79996 x"),  # nor up to it
        (0.16, ">=", 0.8, "0.16 x"),
        (37.364, ">=", 100, "37.4 x"),
        (12.3456, ">=", 10, "12.3 x"),
        (1234.5, "", None, "1,234 x"),  # banker's rounding of Python's format: 1,234
    ],
)
def test_format_value_never_hides_a_miss(value, op, limit, text):
    assert format_value(value, "x", op=op, limit=limit) == text


def test_format_value_missing_and_plain():
    assert format_value(None, "s") == "–"
    assert format_value(0.123456) == "0.12"
    assert format_value(299.95, "s", op="<", limit=300) == "299.9 s"  # not "300 s"


def test_check_status_and_target_text():
    met = Check("night", "night", 200.0, "s", "<", 300.0)
    missed = Check("night", "night", 400.0, "s", "<", 300.0, reason="build 350 s")
    info = Check("stage", "stage", 12.0, "s")
    unmeasured = Check("night", "night", None, "s", "<", 300.0, reason="quick mode")
    assert (met.met, met.status, met.target_text) == (True, "met", "< 300 s")
    assert (missed.met, missed.status) == (False, "**NOT met**")
    assert (info.met, info.status, info.target_text) == (None, "–", "(information)")
    assert (unmeasured.met, unmeasured.status, unmeasured.value_text) == (
        None,
        "not measured",
        "–",
    )


def test_a_target_without_a_value_needs_a_reason():
    with pytest.raises(ValueError, match="reason"):
        Check("night", "night", None, "s", "<", 300.0)


def test_result_met_combines_its_targets():
    ok = Check("a", "a", 1.0, "s", "<", 2.0)
    miss = Check("b", "b", 3.0, "s", "<", 2.0, reason="slow")
    unknown = Check("c", "c", None, "s", "<", 2.0, reason="not run")
    info = Check("d", "d", 5.0, "s")
    assert BenchResult("r", "R", "1", "m", [ok, info]).met is True
    assert BenchResult("r", "R", "1", "m", [ok, miss, unknown]).met is False
    assert BenchResult("r", "R", "1", "m", [ok, unknown]).met is None
    assert BenchResult("r", "R", "1", "m", [info]).met is None


def test_write_result_holds_figures_target_and_machine(tmp_path):
    result = BenchResult(
        "night",
        "One full-county night",
        "1.0",
        "what was measured",
        [Check("night_seconds", "night", 412.25, "s", "<", 300.0, reason="build 350 s")],
        figures={"stages": [{"stage": "build_warehouse", "seconds": 350.0}]},
        seconds=500.0,
    )
    path = write_result(result, tmp_path, MACHINE)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert path.name == "night.json"
    assert data["run"]["cores"] == 2 and data["run"]["date"].startswith("2026-11-29")
    assert data["met"] is False
    assert data["scale"] == "1.0" and data["measured"] == "what was measured"
    (target,) = data["targets"]
    assert target["value"] == 412.25 and target["limit"] == 300.0 and target["op"] == "<"
    assert target["met"] is False and target["reason"] == "build 350 s"
    assert target["target"] == "< 300 s" and target["value_text"] == "412 s"
    assert data["figures"]["stages"][0]["seconds"] == 350.0
    assert data["suite_seconds"] == 500.0


def test_failed_result_marks_every_target_not_measured(tmp_path):
    result = failed_result(
        "flat_nightly",
        "Flat nightly cost",
        "0.002",
        "m",
        "template busy",
        [("ratio", "end / first month", "x", "<=", 1.5)],
    )
    assert result.met is None and result.error == "template busy"
    (check,) = result.checks
    assert check.value is None and check.reason == "template busy"
    assert json.loads(write_result(result, tmp_path, MACHINE).read_text())["error"] == (
        "template busy"
    )


def test_render_table_shows_machine_values_and_reasons():
    results = [
        BenchResult(
            "load_path",
            "Load path",
            "1.0",
            "journal of a day",
            [
                Check("a", "load / COPY", 0.161, "x", ">=", 0.8, reason="24 | 14 columns"),
                Check("b", "peak RSS", 650.0, "MiB", "<", 2048.0),
            ],
        ),
        failed_result(
            "memory", "Memory", "1.0", "m", "quick mode", [("p", "RSS", "MiB", "<", 2048)]
        ),
    ]
    text = render_table(results, MACHINE, extra="## More\n\nstages")
    assert "2 cores, 23.5 GiB memory" in text and "`94e73a7`" in text
    assert "2026-11-29" in text and "full mode" in text
    assert "| Load path | load / COPY | 0.16 x | >= 0.80 x | **NOT met** | 1.0 |" in text
    assert "24 \\| 14 columns" in text  # a pipe in a reason does not break the row
    assert "| Load path | peak RSS | 650 MiB | < 2,048 MiB | met | 1.0 |  |" in text
    assert "| Memory | RSS | – | < 2,048 MiB | not measured | 1.0 | quick mode |" in text
    assert text.rstrip().endswith("stages")
    assert "- **Load path** (`load_path.json`, scale 1.0): journal of a day" in text


def test_the_suite_judges_its_own_wall_time_by_mode():
    assert "suite wall time 1,234 s (target < 1,800 s: met)" in render_table([], MACHINE)
    slow = {**MACHINE, "suite_seconds": 2291.4}
    assert "suite wall time 2,291 s (target < 1,800 s: NOT met)" in render_table([], slow)
    quick = {**MACHINE, "mode": "quick", "suite_seconds": 301.0}
    assert "(target < 300 s: NOT met)" in render_table([], quick)
    some = {**MACHINE, "mode": "full, only nights", "suite_seconds": 2291.4}
    assert render_table([], some).splitlines()[2].endswith("suite wall time 2,291 s.")


def test_stage_table():
    text = stage_table(
        [{"stage": "build_warehouse", "seconds": 61.26, "peak_rss_mib": 1523.4},
         {"stage": "report", "seconds": 2.0, "peak_rss_mib": None}]
    )  # fmt: skip
    assert "| build_warehouse | 61.3 | 1,523 |" in text
    assert "| report | 2.0 | – |" in text


def _night(scale, seconds, rss=900.0):
    stages = [
        {"stage": name, "seconds": seconds / 5, "peak_rss_mib": rss}
        for name in (*suite.NIGHT_STAGES, "morning report")
    ]
    return {
        "scale": scale,
        "night_date": "2020-12-10",
        "history": [{"stage": "history: extract_day", "seconds": 30.0, "peak_rss_mib": rss * 2}],
        "stages": stages,
        "night_seconds": seconds,
        "build_seconds": seconds / 5,
        "night_rows_loaded": 1000,
        "peak_rss_mib": rss * 2,
        "slowest_dbt_nodes": [],
    }


def test_night_results_judge_the_scale_one_night_and_memory():
    nights = {0.01: _night(0.01, 60.0), 0.1: "boom", 1.0: _night(1.0, 420.0, rss=1100.0)}
    night, memory, curve = suite.night_results(nights, quick=False)
    assert night.met is False and night.checks[0].value == 420.0
    assert "slowest stages" in night.checks[0].reason
    assert memory.met is False  # the history step peaked at 2,200 MiB
    assert "history: extract_day" in memory.checks[0].label
    assert curve.figures["0.1"] == {"error": "boom"}
    assert [c.value for c in curve.checks if c.name.startswith("night_")] == [60.0, None, 420.0]


def test_quick_night_results_are_not_judged_at_scale_one():
    night, memory, curve = suite.night_results({0.01: _night(0.01, 60.0)}, quick=True)
    assert night.met is None and "quick mode" in night.checks[0].reason
    assert night.figures["measured_instead"]["scale"] == 0.01
    assert memory.met is None


def _build(seconds, node_seconds):
    return {"seconds": seconds, "node_seconds": node_seconds, "slowest": []}


def test_five_year_results_speedup_and_flat_ratio():
    five = {
        "full_refresh": _build(300.0, 250.0),
        "nightly": _build(40.0, 20.0),
        "reload": {"seconds": 3.0},
        "last_date": "2020-12-31",
    }
    month = {"nightly": _build(30.0, 10.0), "load": {"seconds": 20.0}, "first_build": {}}
    inc, flat = suite.five_year_results(five, month, "0.002", "puhui_dev_5y")
    assert inc.checks[0].value == pytest.approx(7.5) and inc.met is False
    assert "start-up" in inc.checks[0].reason
    assert flat.checks[0].value == pytest.approx(40 / 30) and flat.met is True
    inc, flat = suite.five_year_results("template busy", month, "0.002", "puhui_dev_5y")
    assert inc.met is None and flat.met is None and flat.error == "template busy"


def test_bi_result_judges_only_representative_data():
    bi = {
        "queries": [
            {"name": "scorecard_month", "label": "scorecard", "rows": 30, "worst_seconds": 0.02},
            {"name": "village_series", "label": "series", "rows": 26_400, "worst_seconds": 1.2},
        ]
    }
    judged = suite.bi_result(bi, "5 years", True)
    assert [c.met for c in judged.checks] == [True, False]
    small = suite.bi_result(bi, "2 days", False, "two business dates")
    assert [c.met for c in small.checks] == [None, None]
    assert "two business dates" in small.checks[1].reason


def test_history_results_carry_recorded_runs(tmp_path):
    recorded = {
        "run": {"date": "2026-11-28", "commit": "abc"},
        "figures": {"total_seconds": 1500.0},
        "targets": [  # the nights recorded on that warehouse come along
            {
                "name": "total_seconds",
                "label": "load + build",
                "value": 1500.0,
                "unit": "s",
                "op": "<",
                "limit": 1800.0,
            },
            {
                "name": "speedup",
                "label": "build from empty / nightly build (wall)",
                "value": 12.5,
                "unit": "x",
                "op": ">=",
                "limit": 10.0,
            },
        ],
    }
    (tmp_path / "history_load_0.01.json").write_text(json.dumps(recorded))
    result = suite.history_results(tmp_path)
    small, speedup, large = result.checks
    assert small.met is True and "recorded 2026-11-28 at commit abc" in small.reason
    assert speedup.name == "speedup_0.01" and speedup.met is True
    assert "at scale 0.01: build from empty" in speedup.label
    assert large.value is None and "--history --scale 0.1" in large.reason
    assert result.met is None


def test_failure_summary_picks_the_error_lines():
    log = "\n".join(
        [
            "2026-11-29 [info] Filling up the DagBag",
            "\x1b[0m05:42:51  Encountered an error:",
            "Compilation Error in model fct_loan_balances_daily (models/x.sql)",
            "  invalid syntax for function call expression",
            "    line 2",
            "2026-11-29 [info] ::group::Post Execute",
        ]
        + ["noise"] * 50
    )
    text = suite.failure_summary(log)
    assert "Compilation Error in model fct_loan_balances_daily" in text
    assert "\x1b" not in suite.failure_summary("\x1b[0m05:42:51  Encountered an error:")
    assert "invalid syntax" in text and "noise" not in text
    assert len(suite.failure_summary("Error: " + "x" * 1000, 100)) == 100
    assert suite.failure_summary("all quiet\nthe end") == "all quiet the end"


def test_a_failed_night_keeps_its_stages_and_names_the_failure():
    partial = _night(1.0, 400.0)
    partial["stages"] = partial["stages"][:4]
    partial["error"] = "build_warehouse for 2020-12-10 failed: Compilation Error in model x"
    night, memory, curve = suite.night_results({1.0: partial}, quick=False)
    assert night.met is None and night.error == partial["error"]
    assert night.checks[0].value is None and night.checks[0].reason == partial["error"]
    assert [c.value for c in night.checks[1:]] == [30.0, 80.0, 80.0, 80.0, 80.0]
    assert "Compilation Error" in night.checks[-1].reason
    assert memory.checks[0].value is None
    assert curve.checks[-1].value is None and "Compilation Error" in curve.checks[-1].reason


def test_long_reasons_are_cut_in_the_table_but_not_in_the_json(tmp_path):
    reason = "slow " * 200
    result = BenchResult("r", "R", "1", "m", [Check("a", "a", 3.0, "s", "<", 2.0, reason=reason)])
    text = render_table([result], MACHINE)
    row = next(line for line in text.splitlines() if line.startswith("| R |"))
    assert len(row) < 600 and row.rstrip(" |").endswith("…")
    data = json.loads(write_result(result, tmp_path, MACHINE).read_text())
    assert data["targets"][0]["reason"] == reason


def test_a_child_is_measured_without_the_suite_own_memory(tmp_path):
    """Linux carries a parent's peak RSS into a forked child; the launcher keeps it out."""
    import sys

    held = bytearray(300 * 1024 * 1024)  # the suite holding a day's journal
    figures = suite.run_child(
        [sys.executable, "-c", "x = bytearray(60 * 1024 * 1024)"], {}, tmp_path / "child.log"
    )
    assert figures["returncode"] == 0 and len(held) > 0
    assert 60 <= figures["peak_rss_mib"] < 200
    failing = suite.run_child([sys.executable, "-c", "raise SystemExit(3)"], {}, tmp_path / "f.log")
    assert failing["returncode"] == 3


class _FakeBench:
    db = "puhui_bench_fake"

    def __init__(self, outcomes):
        self.outcomes = outcomes
        self.calls = []

    def step(self, name, **kwargs):
        self.calls.append((name, kwargs))
        outcome = self.outcomes[name]
        return outcome.pop(0) if isinstance(outcome, list) else outcome


class _FakeSuite:
    def __init__(self, bench):
        self._bench = bench
        self.dropped = False
        self.lines = []

    def simulate(self, start, end, scale):
        return "landing", {"seconds": 1.0}

    def bench(self, name, landing):
        return self._bench

    def drop(self, bench):
        self.dropped = True

    def echo(self, line):
        self.lines.append(line)


def test_run_history_times_load_and_build_and_checks_the_scorecard():
    builds = [900.0, 60.0, 20.0, 30.0]  # from empty, one more night, first month x2
    bench = _FakeBench(
        {
            "extract_range": {"seconds": 1000.0, "peak_rss_mib": 300.0, "rows_loaded": 5},
            "dbt_build": [{"seconds": s, "peak_rss_mib": 200.0, "nodes": 837} for s in builds],
            "extract_day": {"seconds": 5.0, "peak_rss_mib": 100.0},
            "scorecard_complete": {"scorecard_rows": 26, "plan_measures": 26, "complete": True},
        }
    )
    fake = _FakeSuite(bench)
    result = suite.run_history(fake, 0.01, None, None)
    assert result.name == "history_load_0.01" and fake.dropped
    check = result.checks[0]
    assert check.value == 1900.0 and check.op == "<" and check.limit == 1800.0
    assert check.met is False
    assert [c[0] for c in bench.calls] == [
        "extract_range",
        "dbt_build",
        "scorecard_complete",
        "extract_day",  # the last date again, then the nightly build on five years
        "dbt_build",
        "extract_range",  # the first month on an empty warehouse
        "dbt_build",
        "extract_day",
        "dbt_build",
    ]
    assert bench.calls[0][1]["end"].isoformat() == "2020-12-31"
    assert bench.calls[3][1]["date"].isoformat() == "2020-12-31"
    assert bench.calls[5][1]["end"].isoformat() == "2016-01-20"
    by_name = {c.name: c for c in result.checks}
    assert by_name["speedup"].value == 15.0 and by_name["speedup"].met is True  # 900 / 60
    assert by_name["flat_ratio"].value == 2.0 and by_name["flat_ratio"].met is False  # 60 / 30

    bench = _FakeBench({**bench.outcomes, "dbt_build": {"seconds": 5.0, "peak_rss_mib": 1.0}})
    trial = suite.run_history(_FakeSuite(bench), 0.002, 3, None)
    assert trial.name == "history_load_0.002_3days"
    assert len(trial.checks) == 1 and trial.met is None  # a trial is never judged
    assert trial.checks[0].limit is None
    assert bench.calls[-2][1]["business_date"].isoformat() == "2016-01-02"


def test_run_history_names_an_incomplete_scorecard():
    bench = _FakeBench(
        {
            "extract_range": {"seconds": 10.0, "peak_rss_mib": 1.0},
            "dbt_build": {"seconds": 10.0, "peak_rss_mib": 1.0},
            "scorecard_complete": {"scorecard_rows": 20, "plan_measures": 26, "complete": False},
        }
    )
    result = suite.run_history(_FakeSuite(bench), 0.01, None, None)
    assert result.checks[0].value is None  # not done: the time does not count
    assert "scorecard incomplete on 2020-12-31 (20 of 26 measures) after 20 s" in (
        result.checks[0].reason
    )
    assert "scorecard incomplete" in result.figures["error"]
