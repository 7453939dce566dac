"""K09 (information archiving rate) recomputed from the simulated files for several dates.

The core-banking household and archive files are change files (the first date's hold
every row): the state on a date is the latest version of each key up to that date. The
region file is a full snapshot every day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

pytestmark = pytest.mark.integration

DATES = [dt.date(2015, 12, 31), dt.date(2016, 1, 15), dt.date(2016, 1, 31), dt.date(2016, 2, 1)]


def _rows(path):
    if not path.exists():
        return []
    return [line.split("|") for line in path.read_bytes().decode("gbk").splitlines()]


def expected_k09(landing, dates_loaded, day: dt.date) -> dict[tuple[str, str], tuple[int, int]]:
    ymd = f"{day:%Y%m%d}"
    households, archives = {}, {}
    for loaded in sorted(d for d in dates_loaded if d <= day):
        folder = landing / f"{loaded:%Y%m%d}" / "CBS"
        for r in _rows(folder / f"CBS_HOUSEHOLD_{loaded:%Y%m%d}.dat"):
            households[r[0]] = r
        for r in _rows(folder / f"CBS_ARCHIVE_{loaded:%Y%m%d}.dat"):
            archives[r[0]] = r
    town_of = {r[0]: r[3] for r in _rows(landing / ymd / "CBS" / f"CBS_REGION_{ymd}.dat")}
    archived = {r[1] for r in archives.values() if r[7] == "1" and r[6] <= ymd}
    totals, hits = Counter(), Counter()
    for household, r in households.items():
        if not (r[6] <= ymd and (r[7] == "" or r[7] > ymd)):
            continue
        for key in (("village", r[1]), ("town", town_of[r[1]]), ("district", "330604")):
            totals[key] += 1
            hits[key] += household in archived
    return {key: (totals[key], hits[key]) for key in totals}


@pytest.mark.parametrize("day", DATES, ids=str)
def test_k09_equals_recomputation_from_files(kpi_world, day):
    expected = expected_k09(kpi_world.landing, kpi_world.dates, day)
    rows = kpi_world.query(
        "select region_level, region_code, households_in_scope, archived_households,"
        " archiving_rate from marts.kpi_k09_archiving_rate where business_date = %s",
        (day,),
    )
    got = {
        (r["region_level"], r["region_code"]): (r["households_in_scope"], r["archived_households"])
        for r in rows
        if r["households_in_scope"]
    }
    assert got == expected
    district = next(r for r in rows if r["region_level"] == "district")
    total, hit = expected[("district", "330604")]
    assert district["archiving_rate"] == round(Decimal(hit) / total, 6)
