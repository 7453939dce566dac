"""The benchmark suite's result records: target checks, JSON files, the Markdown table.

Pure functions only (no database, no subprocess), so they are unit-tested on their own.
A :class:`Check` is one figure against one target; a :class:`BenchResult` is one
benchmark (one JSON file) with its checks, its figures, its scale and what exactly was
measured. A missed target keeps its measured value and the reason; a figure is never
formatted so that a miss reads like a pass.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

OPERATORS = {
    "<": lambda v, t: v < t,
    "<=": lambda v, t: v <= t,
    ">": lambda v, t: v > t,
    ">=": lambda v, t: v >= t,
}


def judge(value: float | None, op: str, limit: float | None) -> bool | None:
    """Whether ``value op limit`` holds; None when there is no value or no target."""
    if op not in OPERATORS and op != "":
        raise ValueError(f"unknown operator {op!r}")
    if value is None or limit is None or op == "":
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return OPERATORS[op](value, limit)


def format_value(value: float | None, unit: str = "", *, op: str = "", limit=None) -> str:
    """``value`` with its unit, with enough decimals that a miss never reads as a pass:
    1.004 against ``<= 1.0`` shows ``1.004``, not ``1.00``."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    decimals = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    if op and limit is not None:
        met = judge(value, op, limit)
        while decimals < 9:
            shown = round(value, decimals)
            if judge(shown, op, limit) == met and not (met is False and shown == limit):
                break
            decimals += 1
    text = f"{value:,.{decimals}f}"
    return f"{text} {unit}".strip() if unit else text


@dataclass
class Check:
    """One figure against one target (``op`` '' and ``limit`` None: for information)."""

    name: str  # e.g. "night_seconds"
    label: str  # what the reader sees, e.g. "one full-county night, end to end"
    value: float | None
    unit: str
    op: str = ""
    limit: float | None = None
    reason: str | None = None  # why it missed, or why it could not be measured
    met: bool | None = None

    def __post_init__(self) -> None:
        self.met = judge(self.value, self.op, self.limit)
        if self.value is None and self.limit is not None and not self.reason:
            raise ValueError(f"{self.name}: a target without a value needs a reason")

    @property
    def target_text(self) -> str:
        if not self.op or self.limit is None:
            return "(information)"
        return f"{self.op} {format_value(self.limit, self.unit)}"

    @property
    def value_text(self) -> str:
        return format_value(self.value, self.unit, op=self.op, limit=self.limit)

    @property
    def status(self) -> str:
        if self.met is True:
            return "met"
        if self.met is False:
            return "**NOT met**"
        return "not measured" if self.value is None and self.limit is not None else "–"


@dataclass
class BenchResult:
    """One benchmark: one JSON file in ``bench/results/``."""

    name: str  # file stem, e.g. "night"
    title: str
    scale: str  # e.g. "1.0", or "0.002 (5 years)"
    measured: str  # exactly what was measured, in a sentence or two
    checks: list[Check] = field(default_factory=list)
    figures: dict = field(default_factory=dict)  # every other figure, free-form
    seconds: float | None = None  # wall time the benchmark took in the suite
    error: str | None = None  # the benchmark itself failed: why

    @property
    def met(self) -> bool | None:
        """True when every target is met, False when one is missed, None when a target
        could not be measured (and none is missed) or there is no target."""
        states = [c.met for c in self.checks if c.limit is not None]
        if any(s is False for s in states):
            return False
        if not states or any(s is None for s in states) or self.error:
            return None
        return True

    def to_dict(self, machine: dict) -> dict:
        return {
            "benchmark": self.name,
            "title": self.title,
            "run": machine,
            "scale": self.scale,
            "measured": self.measured,
            "met": self.met,
            "targets": [
                {
                    **asdict(c),
                    "target": c.target_text,
                    "value_text": c.value_text,
                }
                for c in self.checks
            ],
            "figures": self.figures,
            "suite_seconds": None if self.seconds is None else round(self.seconds, 1),
            "error": self.error,
        }


def failed_result(name: str, title: str, scale: str, measured: str, error: str, checks=()):
    """A benchmark that could not run: every target it carries becomes 'not measured'."""
    return BenchResult(
        name,
        title,
        scale,
        measured,
        checks=[Check(c[0], c[1], None, c[2], c[3], c[4], reason=error) for c in checks],
        error=error,
    )


def write_result(result: BenchResult, results_dir: Path, machine: dict) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result.name}.json"
    path.write_text(
        json.dumps(result.to_dict(machine), indent=2, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
    return path


def _cell(text: object, limit: int = 400) -> str:
    """A table cell: one line, pipes escaped, long reasons cut (the JSON keeps them)."""
    text = " ".join(str(text if text is not None else "").split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


# The suite's own time limit by mode (issue #7): the whole suite, template build included.
SUITE_SECONDS_LIMIT = {"full": 1800.0, "quick": 300.0}


def suite_time_text(machine: dict) -> str:
    """``suite wall time N s``, judged against the mode's limit (a run of some benchmarks
    only, ``full, only ...``, has no limit)."""
    seconds = machine.get("suite_seconds")
    if seconds is None:
        return ""
    text = f"; suite wall time {seconds:,.0f} s"
    limit = SUITE_SECONDS_LIMIT.get(machine.get("mode", ""))
    if limit is None:
        return text
    met = judge(seconds, "<", limit)
    return text + f" (target < {limit:,.0f} s: {'met' if met else 'NOT met'})"


def render_table(results: list[BenchResult], machine: dict, extra: str = "") -> str:
    """The Markdown page ``bench/results/README.md``: machine, then one row per target."""
    lines = [
        "# puhui benchmark suite",
        "",
        f"Run {machine.get('date', '?')} ({machine.get('mode', '?')} mode) on "
        f"{machine.get('cores', '?')} cores, {machine.get('memory_gib', '?')} GiB memory, "
        f"PostgreSQL {machine.get('postgres', '?')}, commit `{machine.get('commit', '?')}`"
        + (
            f"; load average at start {machine['load_average']}"
            if machine.get("load_average")
            else ""
        )
        + suite_time_text(machine)
        + ".",
        "",
        "| benchmark | measure | value | target | status | scale | reason / note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        checks = r.checks or [Check("-", "(no figure)", None, "", reason=r.error)]
        for c in checks:
            lines.append(
                "| "
                + " | ".join(
                    _cell(x)
                    for x in (
                        r.title,
                        c.label,
                        c.value_text,
                        c.target_text,
                        c.status,
                        r.scale,
                        c.reason or (r.error if c.met is not True else "") or "",
                    )
                )
                + " |"
            )
    lines += ["", "## What each benchmark measured", ""]
    for r in results:
        lines.append(f"- **{r.title}** (`{r.name}.json`, scale {r.scale}): {r.measured}")
        if r.error:
            lines.append(f"  - failed: {r.error}")
    if extra:
        lines += ["", extra.rstrip()]
    return "\n".join(lines) + "\n"


def stage_table(stages: list[dict]) -> str:
    """Markdown rows of a night's stages: name, seconds, peak RSS."""
    lines = ["| stage | seconds | peak RSS (MiB) |", "|---|---:|---:|"]
    for s in stages:
        rss = s.get("peak_rss_mib")
        lines.append(
            f"| {_cell(s['stage'])} | {s['seconds']:.1f} | "
            f"{'–' if rss is None else f'{rss:,.0f}'} |"
        )
    return "\n".join(lines)
