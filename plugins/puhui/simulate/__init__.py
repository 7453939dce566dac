"""The synthetic Shangyu: writes the source systems' data in their native shapes."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from puhui.simulate import core_banking
from puhui.simulate.county import County


@dataclass(frozen=True)
class SimulationSummary:
    start: dt.date
    end: dt.date
    days: int
    files: int
    records: int


def simulate(
    start: dt.date, end: dt.date, *, scale: float, seed: int, out: Path
) -> SimulationSummary:
    """Write every business date from ``start`` to ``end`` (inclusive) under ``out``.

    The first date carries each changed-rows table in full (the initial unload a warehouse
    receives when it goes live); later dates carry only that day's changes.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    out.mkdir(parents=True, exist_ok=True)
    county = County(seed=seed, scale=scale)
    files = records = days = 0
    day = start
    while day <= end:
        for written in core_banking.write_day(county, out, day, initial=(day == start)):
            files += 1
            records += written.records
        days += 1
        day += dt.timedelta(days=1)
    manifest = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "scale": scale,
        "seed": seed,
        "sources": ["core_banking"],
        "defects": [],
    }
    (out / "simulation.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return SimulationSummary(start, end, days, files, records)
