"""The synthetic Shangyu: writes the source systems' data in their native shapes."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from puhui.simulate import defects
from puhui.simulate.world import World


@dataclass(frozen=True)
class SimulationSummary:
    start: dt.date
    end: dt.date
    days: int
    files: int
    records: int


# Source writers, in the order they run for each business date (see world.py).
WRITERS = (
    "puhui.simulate.core_banking",
    "puhui.simulate.bank_network",
    "puhui.simulate.lending",
    "puhui.simulate.deposits",
    "puhui.simulate.agency",
    "puhui.simulate.ebanking",
)


def _writers():
    import importlib

    return [importlib.import_module(name) for name in WRITERS]


def simulate(
    start: dt.date, end: dt.date, *, scale: float, seed: int, out: Path, defect_rate: float = 0.0
) -> SimulationSummary:
    """Write every business date from ``start`` to ``end`` (inclusive) under ``out``.

    The first date carries each changed-rows table in full (the initial unload a warehouse
    receives when it goes live); later dates carry only that day's changes. With
    ``defect_rate`` > 0, defects are injected (see defects.py) and listed in
    ``simulation.json``.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    out.mkdir(parents=True, exist_ok=True)
    world = World(seed=seed, scale=scale)
    writers = _writers()
    files = records = days = 0
    injected: list[defects.Defect] = []
    touched: set[str] = set()
    day = start
    while day <= end:
        day_files = []
        for writer in writers:
            for written in writer.write_day(world, out, day, initial=(day == start)):
                files += 1
                records += written.records
                day_files.append(Path(written.path))
        unloads = [p for p in day_files if p.suffix in (".dat", ".csv")]
        injected += defects.inject_day(
            world, out, day, unloads, defect_rate, initial=(day == start), touched=touched
        )
        days += 1
        day += dt.timedelta(days=1)
    for writer in writers:
        if hasattr(writer, "finish"):
            writer.finish(world, out, start, end)
    manifest = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "scale": scale,
        "seed": seed,
        "sources": [w.__name__.rsplit(".", 1)[-1] for w in writers],
        "defect_rate": defect_rate,
        "defects": defects.as_manifest(injected),
    }
    (out / "simulation.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return SimulationSummary(start, end, days, files, records)
