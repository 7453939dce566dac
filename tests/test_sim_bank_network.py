"""The bank's network files (bank_network writer): shape, invariants and KPI direction.

Small scales and a handful of business dates keep each test well under a second.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest

from puhui.extract.files import read_control, verify
from puhui.simulate import bank_network as bn
from puhui.simulate import core_banking
from puhui.simulate.county import day_number
from puhui.simulate.world import World

SCALE, SEED = 0.005, 7
DAYS = (dt.date(2016, 1, 1), dt.date(2017, 9, 1), dt.date(2020, 12, 31))
COLUMNS = {
    "OUTLET": (
        "outlet_code",
        "outlet_name",
        "outlet_type",
        "parent_outlet_code",
        "town_code",
        "town_name",
        "village_code",
        "opened_date",
        "closed_date",
        "service_count",
    ),
    "TERMINAL": (
        "terminal_id",
        "terminal_type",
        "outlet_code",
        "village_code",
        "installed_date",
        "removed_date",
    ),
    "MANAGER": (
        "manager_no",
        "manager_name",
        "gender",
        "outlet_code",
        "grid_code",
        "village_code",
        "hired_date",
    ),
    "VISIT": (
        "visit_id",
        "visit_date",
        "manager_no",
        "village_code",
        "purpose_code",
        "households_visited",
    ),
    "INVESTMENT": (
        "entry_id",
        "entry_date",
        "category_code",
        "category_name",
        "outlet_code",
        "village_code",
        "amount",
    ),
}


@pytest.fixture(scope="module", autouse=True)
def registered_tables():
    """core_banking.write_table needs each table in its TABLES (control-file timing)."""
    with pytest.MonkeyPatch.context() as mp:
        missing = tuple(t for t in bn.TABLES if t not in core_banking.TABLES)
        mp.setattr(core_banking, "TABLES", core_banking.TABLES + missing)
        yield


def write(out: Path, seed: int = SEED, days=DAYS) -> Path:
    world = World(seed=seed, scale=SCALE)
    for day in days:
        bn.write_day(world, out, day, initial=(day == days[0]))
    return out


def rows(out: Path, table: str, day: dt.date) -> list[dict[str, str]]:
    path = out / f"{day:%Y%m%d}" / "CBS" / f"CBS_{table}_{day:%Y%m%d}.dat"
    text = path.read_bytes().decode("gbk")
    result = []
    for line in text.split("\n")[:-1]:
        fields = line.split("|")
        assert len(fields) == len(COLUMNS[table]), line
        result.append(dict(zip(COLUMNS[table], fields, strict=True)))
    return result


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("network"))


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=SEED, scale=SCALE)


def is_date(text: str) -> bool:
    try:
        dt.datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return True


# --- determinism and file contract ------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path, files: Path) -> None:
    bn._CACHE.clear()  # rebuild the model, not only rewrite it
    again = write(tmp_path / "again")
    first = {p.relative_to(files): p.read_bytes() for p in sorted(files.rglob("*")) if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in sorted(again.rglob("*")) if p.is_file()}
    assert len(first) == len(DAYS) * len(bn.TABLES) * 2
    assert first == second


def test_different_seed_gives_different_network(tmp_path: Path, files: Path) -> None:
    other = write(tmp_path / "other", seed=8, days=DAYS[:1])
    for table in ("OUTLET", "TERMINAL", "MANAGER"):
        assert rows(other, table, DAYS[0]) != rows(files, table, DAYS[0])


def test_control_files_match_and_gbk_round_trips(files: Path) -> None:
    for day in DAYS:
        for table in bn.TABLES:
            folder = files / f"{day:%Y%m%d}" / "CBS"
            control = read_control(folder / f"CBS_{table}_{day:%Y%m%d}.ok")
            data = verify(folder / f"CBS_{table}_{day:%Y%m%d}.dat", control, day)
            assert data.decode("gbk").encode("gbk") == data
            assert "\r" not in data.decode("gbk")
    assert re.search(r"[\u4e00-\u9fff]", rows(files, "OUTLET", DAYS[0])[0]["outlet_name"])


def test_dates_codes_and_amounts_are_well_formed(files: Path, world: World) -> None:
    village_codes = {v.code for v in world.county.villages}
    for day in DAYS:
        for r in rows(files, "OUTLET", day):
            assert r["town_code"].startswith("330604") and len(r["town_code"]) == 9
            assert is_date(r["opened_date"]) and r["opened_date"] <= f"{day:%Y%m%d}"
            assert r["closed_date"] == "" or is_date(r["closed_date"])
            assert r["village_code"] == "" or r["village_code"] in village_codes
        for r in rows(files, "TERMINAL", day):
            assert r["terminal_type"] in {"1", "2", "3", "4"}
            assert r["removed_date"] == "" or r["removed_date"] >= r["installed_date"]
        for r in rows(files, "VISIT", day):
            assert r["visit_date"] == f"{day:%Y%m%d}" and r["village_code"] in village_codes
            assert r["purpose_code"] in bn.VISIT_PURPOSES and int(r["households_visited"]) >= 0
        for r in rows(files, "INVESTMENT", day):
            assert r["entry_date"] == f"{day:%Y%m%d}"
            assert re.fullmatch(r"[0-9]+\.[0-9]{2}", r["amount"]) and float(r["amount"]) > 0
            assert bn.INVESTMENT_CATEGORIES[r["category_code"]] == r["category_name"]


# --- domain invariants ----------------------------------------------------------------------


def test_outlet_tree_and_station_placement(files: Path, world: World) -> None:
    villages = {v.code: v for v in world.county.villages}
    day = DAYS[-1]
    outlets = rows(files, "OUTLET", day)
    codes = {r["outlet_code"] for r in outlets}
    branches = [r for r in outlets if r["outlet_type"] in bn.BRANCH_TYPES]
    assert len(branches) == 40
    assert sum(r["outlet_type"] == bn.SUB_BRANCH for r in outlets) == 17
    assert {r["outlet_name"] for r in outlets} >= {"总行营业部", "下管支行岭南分理处", "新区支行"}
    assert all(r["parent_outlet_code"] in codes for r in outlets if r["outlet_type"] != "1")
    stations = [r for r in outlets if r["outlet_type"] == bn.STATION]
    assert len({r["village_code"] for r in stations}) == len(stations)  # one per village
    assert all(not villages[r["village_code"]].is_community for r in stations)
    assert all(12 <= int(r["service_count"]) <= bn.SERVICES_MAX for r in stations)
    points = [r for r in outlets if r["outlet_type"] == bn.COMMUNITY_POINT]
    assert all(villages[r["village_code"]].is_community for r in points)
    # each open station has exactly one working station terminal
    working = [
        r["outlet_code"]
        for r in rows(files, "TERMINAL", day)
        if r["terminal_type"] == bn.STATION_TERMINAL and r["removed_date"] == ""
    ]
    assert all(working.count(r["outlet_code"]) == 1 for r in stations)


def test_town_codes_follow_the_2017_reorganisation(files: Path) -> None:
    before = {r["outlet_name"]: r for r in rows(files, "OUTLET", DAYS[0])}
    after = {r["outlet_name"]: r for r in rows(files, "OUTLET", DAYS[1])}
    assert before["道墟支行"]["town_code"] == "330604100"
    assert after["道墟支行"]["town_code"] == "330604004"
    assert after["道墟支行"]["town_name"] == "道墟街道"


def test_services_never_decrease(world: World) -> None:
    net = bn.network(world)
    earlier = bn.services_on(net, dt.date(2018, 1, 1))
    later = bn.services_on(net, dt.date(2020, 1, 1))
    assert (later >= earlier).all()


def test_managers_match_the_county_households(files: Path, world: World) -> None:
    managers = rows(files, "MANAGER", DAYS[-1])
    grid = {r["village_code"]: r["manager_no"] for r in managers}
    assert len(grid) == len(world.county.villages) == len(managers)
    h = world.county.households
    for code, no in zip(h["village_code"], h["manager_no"], strict=True):
        assert grid[code] == no
    assert all(re.fullmatch(r"M[0-9]{5}", r["manager_no"]) for r in managers)
    for day in DAYS:
        for r in rows(files, "VISIT", day):
            assert grid[r["village_code"]] == r["manager_no"]


def test_station_inspections_only_where_a_station_is_open(world: World) -> None:
    net = bn.network(world)
    since = {
        int(v): int(d)
        for v, d, t in zip(net.outlet_village, net.outlet_opened, net.outlet_type, strict=True)
        if t == bn.STATION
    }
    inspections = np.flatnonzero(net.visit_purpose == "04")
    assert len(inspections) > 0
    for k in inspections:
        assert since.get(int(net.visit_village[k]), 2**40) <= net.visit_day[k]


def test_closed_outlet_leaves_no_working_terminal(world: World) -> None:
    net = bn.network(world)
    for k in np.flatnonzero(net.outlet_closed < day_number(dt.date(2021, 1, 1))):
        code, closed = net.outlet_code[k], net.outlet_closed[k]
        for j, outlet in enumerate(net.terminal_outlet):
            if outlet == code:
                assert net.terminal_removed[j] <= closed


# --- KPI direction ----------------------------------------------------------------------------


def test_kpis_move_in_the_calibrated_direction(world: World) -> None:
    base = bn.kpis(world, dt.date(2015, 12, 31), residents_threshold=200 * SCALE)
    end = bn.kpis(world, dt.date(2020, 12, 31), residents_threshold=200 * SCALE)
    assert base["K01"] == 0 and end["K01"] == pytest.approx(
        bn.K01_TOTAL_AT_SCALE_1 * SCALE, rel=0.01
    )
    assert base["K02"] < 0.3 and 0.95 <= end["K02"] < 1.0  # missed, narrowly
    assert base["K11"] > 40 and 0 < end["K11"] <= bn.TINY_UNCOVERED  # missed: mountain villages
    assert base["K12"] < 0.2 and end["K12"] >= 0.40  # reached
    assert base["K20"] < 20 < end["K20"]  # reached
    k21_2016 = bn.k21(world, dt.date(2016, 1, 1), dt.date(2016, 12, 31))
    k21_2020 = bn.k21(world, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert 0.55 < k21_2016 < 0.67 and 0.85 < k21_2020 < 0.95


def test_k12_from_written_snapshots(files: Path, world: World) -> None:
    communities = sum(v.is_community for v in world.county.villages)

    def coverage(day: dt.date) -> float:
        points = {
            r["village_code"]
            for r in rows(files, "OUTLET", day)
            if r["outlet_type"] == bn.COMMUNITY_POINT and r["closed_date"] == ""
        }
        return len(points) / communities

    assert coverage(DAYS[0]) < 0.2 < 0.4 <= coverage(DAYS[-1])
