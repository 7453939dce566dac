"""Simulator benchmark (issue #3): generation time and peak memory.

Each measurement runs in a fresh subprocess so its peak RSS is its own:

- ``day_1.0``: one ordinary business day at scale 1.0 (model build + that day's files);
- ``initial_1.0``: the first day of a run at scale 1.0 (the initial full unload);
- ``five_years_0.01``: 2016-01-01..2020-12-31 at scale 0.01, everything ``puhui simulate``
  writes.

Targets: one day at scale 1.0 < 60 s, five years at 0.01 < 5 min, peak memory < 4 GiB.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"day_1.0": 60.0, "initial_1.0": 60.0, "five_years_0.01": 300.0}
MEMORY_TARGET_MIB = 4096


def _measure(kind: str, out: Path) -> dict:
    """Run one measurement in this process; return seconds and peak RSS."""
    from puhui.simulate import _writers, simulate
    from puhui.simulate.world import World

    started = time.perf_counter()
    if kind == "five_years_0.01":
        summary = simulate(dt.date(2016, 1, 1), dt.date(2020, 12, 31), scale=0.01, seed=1, out=out)
        records = summary.records
    else:
        world = World(seed=1, scale=1.0)
        day = dt.date(2018, 6, 15)
        records = 0
        for writer in _writers():
            for written in writer.write_day(world, out, day, initial=(kind == "initial_1.0")):
                records += written.records
            if hasattr(writer, "finish") and kind == "day_1.0":
                writer.finish(world, out, day, day)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(peak_mib, 1), "records": records}


def run(quick: bool = False, results_dir: Path | None = None) -> list[dict]:
    kinds = ["day_1.0"] if quick else list(TARGETS)
    rows = []
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="puhui-bench-") as tmp:
            proc = subprocess.run(
                [sys.executable, "-m", "puhui.bench.simulate", "--one", kind, tmp],
                capture_output=True,
                text=True,
                check=True,
            )
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        met = figures["seconds"] < TARGETS[kind] and figures["peak_rss_mib"] < MEMORY_TARGET_MIB
        rows.append(
            {
                "measurement": kind,
                **figures,
                "target_seconds": TARGETS[kind],
                "target_peak_rss_mib": MEMORY_TARGET_MIB,
                "met": met,
            }
        )
    print(f"{'measurement':<18}{'seconds':>9}{'target':>8}{'peak MiB':>10}{'records':>12}  met")
    for r in rows:
        print(
            f"{r['measurement']:<18}{r['seconds']:>9.1f}{r['target_seconds']:>8.0f}"
            f"{r['peak_rss_mib']:>10.0f}{r['records']:>12,}  {'yes' if r['met'] else 'NO'}"
        )
    if results_dir is not None:
        results_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "benchmark": "simulate",
            "date": dt.date.today().isoformat(),
            "cores": os.cpu_count(),
            "machine": platform.machine(),
            "results": rows,
        }
        (results_dir / "simulate.json").write_text(json.dumps(payload, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(_measure(sys.argv[2], Path(sys.argv[3]))))
    else:
        run(quick="--quick" in sys.argv, results_dir=Path("bench/results"))
