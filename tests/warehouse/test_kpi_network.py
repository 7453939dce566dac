"""The network and village KPIs (K01, K02, K10, K11, K12, K20, K21) recomputed from files.

Each KPI is recomputed in plain Python from the simulator's output in ``kpi_world.landing``
(the core-banking ``.dat`` unloads and the agency CSV/xlsx files, read with the layouts of
docs/data-dictionary/, not with puhui's loaders) and compared with the warehouse's
``kpi_k*`` marts for several business dates, at district, town and village level: exactly
for counts, to the cent for amounts, to 1e-6 for ratios (K20's mean to its 4 stored
decimals).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DISTRICT = "330604"
PLAN_START = dt.date(2016, 1, 1)
CHECK_DATES = (
    dt.date(2015, 12, 31),
    dt.date(2016, 1, 15),
    dt.date(2016, 1, 31),
    dt.date(2016, 2, 1),
)
AGENT_KINDS = {"1": "atm", "2": "crs", "3": "kiosk"}


def _date(text: str) -> dt.date | None:
    return dt.datetime.strptime(text, "%Y%m%d").date() if text else None


class Landing:
    """The simulated files of one landing folder, read with the documented layouts."""

    def __init__(self, root: Path, dates: list[dt.date], scale: float) -> None:
        self.root = root
        self.dates = sorted(dates)
        self.scale = scale

    def cbs(self, table: str, day: dt.date) -> list[list[str]]:
        """Rows of CBS_<table> in force on ``day``: its file of that date, else the latest before."""
        for d in reversed([x for x in self.dates if x <= day]):
            path = self.root / f"{d:%Y%m%d}" / "CBS" / f"CBS_{table}_{d:%Y%m%d}.dat"
            if path.exists():
                text = path.read_bytes().decode("gbk")
                return [line.split("|") for line in text.split("\n") if line]
        return []

    def journal(self, table: str) -> list[list[str]]:
        """Every row of a journal table (CBS_VISIT, CBS_INVESTMENT) over the loaded dates."""
        rows: list[list[str]] = []
        for d in self.dates:
            path = self.root / f"{d:%Y%m%d}" / "CBS" / f"CBS_{table}_{d:%Y%m%d}.dat"
            if path.exists():
                rows += [ln.split("|") for ln in path.read_bytes().decode("gbk").split("\n") if ln]
        return rows

    def agency_files(self, prefix: str, suffix: str) -> list[Path]:
        return sorted(
            p
            for d in self.dates
            for p in (self.root / f"{d:%Y%m%d}" / "AGY").glob(f"{prefix}*{suffix}")
            if "(" not in p.name  # a partner's duplicate re-send
        )

    @cached_property
    def registers(self) -> dict[dt.date, dict[str, int]]:
        """Division registers: register date -> village code -> registered residents."""
        import openpyxl

        out: dict[dt.date, dict[str, int]] = {}
        for path in self.agency_files("AGY_DIVISION_", ".xlsx"):
            sheet = openpyxl.load_workbook(path, read_only=True)["行政区划及人口"]
            rows = list(sheet.iter_rows(values_only=True))
            col = {name: i for i, name in enumerate(rows[0])}
            for row in rows[1:]:
                stat = row[col["统计日期"]]
                stat = (
                    stat.date()
                    if isinstance(stat, dt.datetime)
                    else dt.date.fromisoformat(str(stat))
                )
                out.setdefault(stat, {})[str(row[col["统计用区划代码"]])] = int(
                    row[col["户籍人口"]]
                )
        return out

    def population(self, day: dt.date) -> dict[str, int]:
        """The register in force on ``day``: latest dated on or before it, else the first."""
        dates = sorted(self.registers)
        if not dates:
            return {}
        before = [d for d in dates if d <= day]
        return self.registers[before[-1] if before else dates[0]]

    @cached_property
    def events(self) -> dict[str, tuple[dt.date, str, int]]:
        """Literacy events: id -> (event date, village code, participants), each once."""
        out = {}
        for path in self.agency_files("AGY_FINLIT_", ".csv"):
            with path.open(encoding="utf-8-sig", newline="") as f:
                for row in csv.DictReader(f):
                    out[row["活动编号"]] = (
                        dt.date.fromisoformat(row["活动日期"]),
                        row["行政村代码"],
                        int(row["参加人数"]),
                    )
        return out

    # --- per day ---------------------------------------------------------------------

    def villages(self, day: dt.date) -> dict[str, dict]:
        """Village code -> name, is_community, town code (region snapshot in force)."""
        return {
            r[0]: {"name": r[1], "community": r[2] == "1", "town": r[3], "town_name": r[4]}
            for r in self.cbs("REGION", day)
        }

    def open_outlets(self, day: dt.date) -> list[list[str]]:
        return [
            r
            for r in self.cbs("OUTLET", day)
            if _date(r[7]) <= day and (not r[8] or _date(r[8]) > day)
        ]

    def working_terminals(self, day: dt.date) -> list[list[str]]:
        return [
            r
            for r in self.cbs("TERMINAL", day)
            if _date(r[4]) <= day and (not r[5] or _date(r[5]) > day)
        ]


def district_and_towns(values: dict[str, tuple], villages: dict[str, dict]) -> dict:
    """Sum per-village tuples into town and district totals, keyed (level, code)."""
    out: dict[tuple[str, str], list] = {}
    for code, value in values.items():
        keys = [("district", DISTRICT)]
        if code in villages:
            keys.append(("town", villages[code]["town"]))
        for key in keys:
            acc = out.setdefault(key, [0] * len(value))
            for i, v in enumerate(value):
                acc[i] += v
    return {k: tuple(v) for k, v in out.items()}


# --- the recomputations ------------------------------------------------------------------


def k01(land: Landing, day: dt.date) -> Decimal:
    return sum(
        (Decimal(r[6]) for r in land.journal("INVESTMENT") if PLAN_START <= _date(r[1]) <= day),
        Decimal("0.00"),
    )


def coverage(land: Landing, day: dt.date) -> dict[str, dict]:
    """Per village: has a station / community point; served at all (K11's rule)."""
    villages = land.villages(day)
    station, point, served = set(), set(), set()
    for r in land.open_outlets(day):
        if r[6]:
            served.add(r[6])
            if r[2] == "4":
                station.add(r[6])
            if r[2] == "5":
                point.add(r[6])
    served |= {r[3] for r in land.working_terminals(day) if r[3]}
    return {
        code: {"station": code in station, "point": code in point, "served": code in served}
        for code in villages
    }


def k02(land: Landing, day: dt.date) -> dict:
    villages, cov, pop = land.villages(day), coverage(land, day), land.population(day)
    threshold = 200 * land.scale
    values = {
        code: (1, int(cov[code]["station"]))
        for code, v in villages.items()
        if not v["community"] and code in pop and pop[code] >= threshold
    }
    return district_and_towns(values, villages)


def k11(land: Landing, day: dt.date) -> dict:
    villages, cov = land.villages(day), coverage(land, day)
    values = {
        code: (1, int(not cov[code]["served"]))
        for code, v in villages.items()
        if not v["community"]
    }
    return district_and_towns(values, villages)


def k12(land: Landing, day: dt.date) -> dict:
    villages, cov = land.villages(day), coverage(land, day)
    values = {code: (1, int(cov[code]["point"])) for code, v in villages.items() if v["community"]}
    return district_and_towns(values, villages)


def k20(land: Landing, day: dt.date) -> dict:
    villages = land.villages(day)
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in land.open_outlets(day):
        if r[2] != "4":
            continue
        keys = [("district", DISTRICT)]
        if r[6] in villages:
            keys.append(("town", villages[r[6]]["town"]))
        for key in keys:
            out[key][0] += 1
            out[key][1] += int(r[9])
    return dict(out)


def k10(land: Landing, day: dt.date) -> dict:
    villages = land.villages(day)
    per_village: dict[str, tuple[int, int]] = {}
    for event_day, village, participants in land.events.values():
        if PLAN_START <= event_day <= day:
            n, p = per_village.get(village, (0, 0))
            per_village[village] = (n + 1, p + participants)
    out = district_and_towns(per_village, villages)
    out.update(
        {("village", code): value for code, value in per_village.items() if code in villages}
    )
    return out


def k21(land: Landing, day: dt.date) -> dict:
    """Village-weeks and village-weeks with a visit, over the whole observed weeks of the month."""
    loaded = set(land.dates)
    month_start = day.replace(day=1)
    monday = month_start + dt.timedelta(days=(7 - month_start.weekday()) % 7)
    weeks = []
    while monday + dt.timedelta(days=6) <= day:
        if all(monday + dt.timedelta(days=i) in loaded for i in range(7)):
            weeks.append(monday)
        monday += dt.timedelta(days=7)
    visited = {
        (r[3], _date(r[1]) - dt.timedelta(days=_date(r[1]).weekday()))
        for r in land.journal("VISIT")
    }
    villages = land.villages(day)
    values = {
        code: (len(weeks), sum((code, w) in visited for w in weeks))
        for code, v in villages.items()
        if not v["community"]
    }
    out = district_and_towns(values, villages)
    out.update({("village", code): value for code, value in values.items()})
    return out


# --- the comparisons ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def landing(kpi_world) -> Landing:
    return Landing(kpi_world.landing, kpi_world.dates, kpi_world.scale)


@pytest.fixture(scope="module")
def check_dates(kpi_world) -> list[dt.date]:
    dates = [d for d in CHECK_DATES if d in kpi_world.dates]
    assert len(dates) >= 2, f"expected the check dates to be loaded, got {kpi_world.dates}"
    return dates


def _rows(kpi_world, mart: str, day: dt.date) -> dict[tuple[str, str], dict]:
    rows = kpi_world.query(f"select * from marts.{mart} where business_date = %s", (day,))
    return {(r["region_level"], r["region_code"]): r for r in rows}


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _close(actual, expected, tolerance=1e-6) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    return abs(float(actual) - expected) <= tolerance


def test_k01_cumulative_investment_equals_ledger_files(kpi_world, landing, check_dates):
    for day in check_dates:
        rows = _rows(kpi_world, "kpi_k01_inclusion_investment", day)
        assert set(rows) == {("district", DISTRICT)}
        assert rows[("district", DISTRICT)]["cumulative_amount"] == k01(landing, day), day


def test_k02_station_coverage_equals_files(kpi_world, landing, check_dates):
    for day in check_dates:
        rows, expected = (
            _rows(kpi_world, "kpi_k02_village_station_coverage", day),
            k02(landing, day),
        )
        assert rows[("district", DISTRICT)]["population_threshold"] == pytest.approx(
            200 * kpi_world.scale
        )
        assert expected, "no village in K02's scope: is the population threshold scaled?"
        for key, (in_scope, with_station) in expected.items():
            row = rows[key]
            assert (row["villages_in_scope"], row["villages_in_scope_with_station"]) == (
                in_scope,
                with_station,
            ), (day, key)
            assert _close(row["station_coverage"], _ratio(with_station, in_scope)), (day, key)


def test_k11_unserved_villages_equal_files(kpi_world, landing, check_dates):
    for day in check_dates:
        rows, expected = _rows(kpi_world, "kpi_k11_unserved_villages", day), k11(landing, day)
        assert {k for k in rows if k[0] == "town"} == {k for k in expected if k[0] == "town"}
        for key, (villages, unserved) in expected.items():
            row = rows[key]
            assert (row["administrative_villages"], row["unserved_villages"]) == (
                villages,
                unserved,
            ), (day, key)


def test_k12_community_coverage_equals_files(kpi_world, landing, check_dates):
    for day in check_dates:
        rows, expected = _rows(kpi_world, "kpi_k12_community_coverage", day), k12(landing, day)
        for key, (communities, with_point) in expected.items():
            row = rows[key]
            assert (row["communities"], row["communities_with_point"]) == (
                communities,
                with_point,
            ), (day, key)
            assert _close(row["community_coverage"], _ratio(with_point, communities)), (day, key)


def test_k20_services_per_station_equals_files(kpi_world, landing, check_dates):
    for day in check_dates:
        rows, expected = _rows(kpi_world, "kpi_k20_station_services", day), k20(landing, day)
        assert expected[("district", DISTRICT)][0] > 0
        for key, (stations, services) in expected.items():
            row = rows[key]
            assert (row["open_stations"], row["services_offered"]) == (stations, services)
            assert _close(row["services_per_station"], services / stations, 0.5e-4), (day, key)


def test_k10_literacy_events_equal_files(kpi_world, landing, check_dates):
    for day in check_dates:
        rows, expected = _rows(kpi_world, "kpi_k10_literacy_events", day), k10(landing, day)
        district = rows[("district", DISTRICT)]
        assert (district["events"], district["participants"]) == expected.get(
            ("district", DISTRICT), (0, 0)
        ), day
        for key, row in rows.items():
            if key[0] != "district":
                assert (row["events"], row["participants"]) == expected.get(key, (0, 0)), (day, key)


def test_k21_weekly_presence_equals_files(kpi_world, landing, check_dates):
    for day in check_dates:
        rows, expected = _rows(kpi_world, "kpi_k21_manager_weekly_presence", day), k21(landing, day)
        assert set(rows) == set(expected), day
        for key, (village_weeks, present) in expected.items():
            row = rows[key]
            assert (row["village_weeks"], row["village_weeks_with_presence"]) == (
                village_weeks,
                present,
            ), (day, key)
            assert _close(row["presence_share"], _ratio(present, village_weeks)), (day, key)


def test_network_kpis_reach_the_scorecard_shape(kpi_world):
    measures = kpi_world.query(
        "select kpi_id, measure, count(*) as n from intermediate.int_kpi_values__network "
        "group by kpi_id, measure order by kpi_id"
    )
    assert [(r["kpi_id"], r["measure"]) for r in measures] == [
        ("K01", "amount"),
        ("K02", "share"),
        ("K10", "events"),
        ("K11", "villages"),
        ("K12", "share"),
        ("K20", "services_per_station"),
        ("K21", "share"),
    ]
