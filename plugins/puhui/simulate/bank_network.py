"""The bank's network and field work: outlets, service stations, terminals, managers, visits.

Core-banking files of the bank's own infrastructure (source ``CBS``): the outlet tree from
the head office down to village service stations (丰收驿站) and community service points,
self-service and station terminals, customer managers with their grids (网格), managers'
village visits (驻村) and the inclusive-finance investment and fee-waiver ledger. They drive
K01 (investment), K02 (station coverage), K11 (villages without any service), K12
(community coverage), K20 (services per station) and K21 (weekly village presence).

The whole 2016-2020 network is modelled once per world (event dates as day ordinals in
numpy arrays) and each business date's files are selected from it. Station, terminal and
outlet counts do not depend on scale (the county has 440 village-level units at every
scale); money amounts do. Figures marked "assumption" are synthetic calibration, not
published statistics; see docs/calibration/bank_network.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puhui.simulate.core_banking import WrittenFile, write_table
from puhui.simulate.county import NO_DATE, PERIOD_END, PERIOD_START, County, day_number
from puhui.simulate.people import make_people
from puhui.simulate.regions import TOWNS, Town, Village
from puhui.simulate.world import World

# Stream numbers (world.STREAMS gives this writer 100-199).
STREAM_OUTLETS, STREAM_STATIONS, STREAM_TERMINALS = 100, 101, 102
STREAM_MANAGERS, STREAM_VISITS, STREAM_INVESTMENT = 103, 104, 105

TABLES = ("OUTLET", "TERMINAL", "MANAGER", "VISIT", "INVESTMENT")

# outlet types (CBS_OUTLET.outlet_type)
HEAD_OFFICE, SUB_BRANCH, SUB_OFFICE = "1", "2", "3"
STATION, COMMUNITY_POINT, SELF_SERVICE = "4", "5", "6"
BRANCH_TYPES = (HEAD_OFFICE, SUB_BRANCH, SUB_OFFICE)

# terminal types (CBS_TERMINAL.terminal_type)
ATM, CRS, KIOSK, STATION_TERMINAL = "1", "2", "3", "4"

# --- calibration (all assumptions) ---------------------------------------------------------
# share of administrative villages of >= 200 residents with an open station at each year end
STATION_COVERAGE = {2015: 0.15, 2016: 0.40, 2017: 0.65, 2018: 0.82, 2019: 0.92, 2020: 0.98}
MOUNTAIN_DELAY = 0.35  # rank penalty: mountain villages get their station later
TINY_WITH_STATION = 3  # tiny (< 200 residents) mountain villages that get a station in 2019-20
TINY_UNCOVERED = 3  # tiny villages with no station, terminal or agent even at end-2020
AGENT_BEFORE_2016 = {"plain": 0.80, "mountain": 0.60, "tiny": 0.40}  # 助农取款点 by 2015
SERVICES_AT_OPENING = (12, 18)  # convenience services when a station opens (inclusive)
SERVICES_ADDED_PER_YEAR = 2.6  # new services rolled out to a station per year
SERVICES_MAX = 30
# communities with a community service point at each year end (of 87)
COMMUNITY_COVERAGE = {2015: 0.15, 2016: 0.20, 2017: 0.25, 2018: 0.32, 2019: 0.38, 2020: 0.43}
STATION_KIOSK_SHARE = 0.30  # stations that also get a self-service kiosk
SELF_SERVICE_SITES = 20  # off-premises self-service banks (离行式自助银行)
# weekly presence of a manager in a village, by year (K21); mountain villages a little less
PRESENCE = {2016: 0.635, 2017: 0.71, 2018: 0.785, 2019: 0.86, 2020: 0.935}
PRESENCE_MOUNTAIN = -0.04
PRESENCE_SPRING_FESTIVAL = 0.3  # factor in the week of the Spring Festival
SPRING_FESTIVAL = (
    dt.date(2016, 2, 8),
    dt.date(2017, 1, 28),
    dt.date(2018, 2, 16),
    dt.date(2019, 2, 5),
    dt.date(2020, 1, 25),
)
EXTRA_VISITS = 0.5  # Poisson mean of further visits in a week with a visit
# K01: everything booked in 2016-2020 at scale 1.0 (yuan); fee waivers and rate concessions
# fill what the infrastructure entries leave, growing by year
K01_TOTAL_AT_SCALE_1 = 515_000_000
CONCESSION_GROWTH = {2016: 1.0, 2017: 1.18, 2018: 1.42, 2019: 1.68, 2020: 1.95}
RATE_SHARE_OF_CONCESSIONS = 0.69  # rate concessions vs fee waivers

VISIT_PURPOSES = {  # code: (name, probability, share of the village's households visited)
    "01": ("走访建档", 0.30, 0.030),
    "02": ("授信评级", 0.18, 0.040),
    "03": ("金融知识宣传", 0.14, 0.020),
    "04": ("驿站巡检", 0.16, 0.0),
    "05": ("贷后检查", 0.12, 0.010),
    "06": ("代理业务宣传", 0.10, 0.020),
}

INVESTMENT_CATEGORIES = {
    "11": "丰收驿站建设",
    "12": "自助设备购置",
    "13": "网点建设改造",
    "14": "普惠金融系统建设",
    "21": "转账汇款手续费减免",
    "22": "短信服务费减免",
    "23": "小额账户管理费减免",
    "24": "卡工本费年费减免",
    "25": "助农取款手续费减免",
    "26": "收单商户手续费减免",
    "31": "贷款利率优惠让利",
}
FEE_WAIVER_SHARES = {"21": 0.30, "22": 0.18, "23": 0.20, "24": 0.12, "25": 0.08, "26": 0.12}
TERMINAL_COST = {ATM: 180_000, CRS: 260_000, KIOSK: 80_000, STATION_TERMINAL: 6_000}
STATION_BUILD_COST = 60_000
RENOVATION_COST = 1_200_000
NEW_OUTLET_COST = 2_500_000
SYSTEM_PROJECT_COST = 3_000_000

# The outlets named in the 2015 citizen-card list (domain reference §2.1): name, 2016 town
# suffix, and for sub-offices the parent sub-branch; then synthetic sub-offices (assumption).
_SUB_BRANCHES = (
    ("东关支行", "003"),
    ("道墟支行", "100"),
    ("曹娥支行", "002"),
    ("梁湖支行", "108"),
    ("汤浦支行", "103"),
    ("上浦支行", "102"),
    ("丰惠支行", "106"),
    ("永和支行", "107"),
    ("小越支行", "110"),
    ("章镇支行", "104"),
    ("驿亭支行", "109"),
    ("崧厦支行", "113"),
    ("沥海支行", "114"),
    ("虞城支行", "001"),
    ("下管支行", "105"),
    ("百官支行", "001"),
    ("新区支行", "114"),
)
_REAL_SUB_OFFICES = (
    ("长塘分理处", "东关支行", "101"),
    ("陈溪分理处", "下管支行", "201"),
    ("丁宅分理处", "下管支行", "202"),
    ("岭南分理处", "下管支行", "200"),
    ("盖北分理处", "新区支行", "112"),
    ("谢塘分理处", "新区支行", "111"),
)
# synthetic: name, parent, town suffix, opened, closed
_SYNTHETIC_SUB_OFFICES = (
    ("江扬分理处", "百官支行", "001", None, None),
    ("城北分理处", "百官支行", "001", None, None),
    ("人民西路分理处", "虞城支行", "001", None, None),
    ("城南分理处", "虞城支行", "001", None, None),
    ("江西分理处", "曹娥支行", "002", None, None),
    ("开发区分理处", "曹娥支行", "002", None, None),
    ("祝温分理处", "崧厦支行", "113", None, None),
    ("联丰分理处", "崧厦支行", "113", None, dt.date(2019, 6, 30)),
    ("东澄分理处", "章镇支行", "104", None, None),
    ("岭丰分理处", "章镇支行", "104", None, None),
    ("通明分理处", "丰惠支行", "106", None, None),
    ("五夫分理处", "驿亭支行", "109", None, None),
    ("达溪分理处", "汤浦支行", "103", None, None),
    ("称山分理处", "道墟支行", "100", None, None),
    ("横山分理处", "小越支行", "110", dt.date(2017, 6, 12), None),
    ("华光分理处", "梁湖支行", "108", dt.date(2018, 3, 19), None),
)
# the outlet that serves each 2016 town (its managers, stations and community points)
_TOWN_OUTLET = {
    "001": "百官支行",
    "002": "曹娥支行",
    "003": "东关支行",
    "100": "道墟支行",
    "101": "东关支行长塘分理处",
    "102": "上浦支行",
    "103": "汤浦支行",
    "104": "章镇支行",
    "105": "下管支行",
    "106": "丰惠支行",
    "107": "永和支行",
    "108": "梁湖支行",
    "109": "驿亭支行",
    "110": "小越支行",
    "111": "新区支行谢塘分理处",
    "112": "新区支行盖北分理处",
    "113": "崧厦支行",
    "114": "沥海支行",
    "200": "下管支行岭南分理处",
    "201": "下管支行陈溪分理处",
    "202": "下管支行丁宅分理处",
}


@dataclass
class Network:
    """Every entity and event of the bank's network over 2016-2020 (day ordinals)."""

    # outlets (branch outlets, stations, community points, self-service sites)
    outlet_code: list[str]
    outlet_name: list[str]
    outlet_type: np.ndarray
    outlet_parent: list[str]
    outlet_town: list[Town]
    outlet_village: np.ndarray  # index into county.villages, -1 for none
    outlet_opened: np.ndarray
    outlet_closed: np.ndarray
    service_start: np.ndarray  # services when a station opened (0 for other outlets)
    service_adds: list[np.ndarray]  # sorted days a station gained a service
    # terminals
    terminal_id: list[str]
    terminal_type: np.ndarray
    terminal_outlet: list[str]
    terminal_village: np.ndarray
    terminal_installed: np.ndarray
    terminal_removed: np.ndarray
    # managers, one per four village-level units (county's rule)
    manager_no: list[str]
    manager_name: list[str]
    manager_gender: list[str]
    manager_outlet: list[str]
    manager_hired: np.ndarray
    # visits, sorted by day
    visit_day: np.ndarray
    visit_village: np.ndarray
    visit_purpose: np.ndarray
    visit_households: np.ndarray
    # investment and fee-waiver ledger, sorted by day
    entry_day: np.ndarray
    entry_category: np.ndarray
    entry_outlet: list[str]
    entry_village: np.ndarray
    entry_amount: np.ndarray  # yuan, rounded to fen, scaled


_CACHE: dict[tuple[int, float], Network] = {}


def network(world: World) -> Network:
    """The world's network, built on first use and kept per (seed, scale)."""
    key = (world.seed, world.scale)
    if key not in _CACHE:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = build_network(world)
    return _CACHE[key]


# --- helpers ---------------------------------------------------------------------------------


def _workday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the next Monday."""
    weekday = (days + 6) % 7  # Monday 0 (ordinal 1 = Monday 0001-01-01)
    return days + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))


def _days_in_year(
    rng: np.random.Generator, year: int, n: int, first: dt.date | None = None
) -> np.ndarray:
    lo = day_number(first or dt.date(year, 1, 1))
    hi = day_number(dt.date(year, 12, 24))
    return _workday(rng.integers(lo, hi + 1, size=n))


def village_residents(county: County, day: dt.date) -> np.ndarray:
    """Registered residents per village-level unit on ``day`` (see County.village_population)."""
    return county.village_population(day)[1]


def _coverage_dates(
    rng: np.random.Generator, n: int, coverage: dict[int, float], first_2015: dt.date
) -> np.ndarray:
    """Opening days for ``n`` ranked units so that year-end shares follow ``coverage``."""
    opened = np.full(n, NO_DATE, dtype=np.int64)
    done = 0
    for year, share in sorted(coverage.items()):
        upto = min(n, round(share * n))
        count = upto - done
        if count > 0:
            first = first_2015 if year == 2015 else None
            opened[done:upto] = np.sort(_days_in_year(rng, year, count, first))
        done = max(done, upto)
    return opened


# --- the model ---------------------------------------------------------------------------------


class _Outlets:
    """Outlet rows collected while the model is built, in code order within each type."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(
        self,
        code: str,
        name: str,
        otype: str,
        parent: str,
        town: Town,
        village: int,
        opened: int,
        closed: int = NO_DATE,
        services: int = 0,
        adds: np.ndarray | None = None,
    ) -> None:
        adds = np.empty(0, dtype=np.int64) if adds is None else adds
        self.rows.append((code, name, otype, parent, town, village, opened, closed, services, adds))

    def columns(self) -> dict:
        """The rows as the ``outlet_*`` / ``service_*`` fields of :class:`Network`."""
        cols = list(zip(*self.rows, strict=True))
        return {
            "outlet_code": list(cols[0]),
            "outlet_name": list(cols[1]),
            "outlet_type": np.array(cols[2]),
            "outlet_parent": list(cols[3]),
            "outlet_town": list(cols[4]),
            "outlet_village": np.array(cols[5], dtype=np.int64),
            "outlet_opened": np.array(cols[6], dtype=np.int64),
            "outlet_closed": np.array(cols[7], dtype=np.int64),
            "service_start": np.array(cols[8], dtype=np.int64),
            "service_adds": list(cols[9]),
        }


@dataclass(frozen=True)
class _Coverage:
    """Which administrative villages get a station, and when (input to the terminals)."""

    admin: np.ndarray  # indices of administrative villages
    kind: np.ndarray  # per admin village: plain / mountain / tiny
    station_village: np.ndarray
    station_day: np.ndarray
    uncovered: frozenset[int]  # tiny villages left without any service
    town_outlet: list[str]  # per admin village: the outlet serving its town


def _branches(world: World, outlets: _Outlets) -> dict[str, str]:
    """Head office, 17 sub-branches, 6 real and 16 synthetic sub-offices; returns name -> code."""
    rng = world.rng(STREAM_OUTLETS)
    towns = {t.code_2016[-3:]: t for t in TOWNS}
    by_name: dict[str, str] = {}

    def old_date() -> int:
        return int(rng.integers(day_number(dt.date(1988, 1, 1)), day_number(dt.date(2012, 12, 31))))

    def add(name, otype, parent, suffix, opened, closed=None):
        code = f"{len(outlets.rows) + 1:04d}"
        by_name[name] = code
        closed_day = NO_DATE if closed is None else day_number(closed)
        outlets.add(code, name, otype, parent, towns[suffix], -1, opened, closed_day)

    add("总行营业部", HEAD_OFFICE, "", "001", day_number(dt.date(1988, 1, 1)))
    for name, suffix in _SUB_BRANCHES:
        add(name, SUB_BRANCH, "0001", suffix, old_date())
    for name, parent, suffix in _REAL_SUB_OFFICES:
        add(parent + name, SUB_OFFICE, by_name[parent], suffix, old_date())
    for name, parent, suffix, opened, closed in _SYNTHETIC_SUB_OFFICES:
        first = day_number(opened) if opened else old_date()
        add(parent + name, SUB_OFFICE, by_name[parent], suffix, first, closed)
    return by_name


def _village_points(world: World, outlets: _Outlets, town_outlet) -> _Coverage:
    """Stations in administrative villages, community points, off-premises self-service banks."""
    rng = world.rng(STREAM_STATIONS)
    villages = world.county.villages
    end = day_number(PERIOD_END)

    def add(prefix, k, suffix, otype, v, d, services=0, adds=None):
        outlets.add(
            f"{prefix}{k + 1:04d}",
            villages[v].name + suffix,
            otype,
            town_outlet(int(v)),
            villages[v].town,
            int(v),
            int(d),
            services=services,
            adds=adds,
        )

    # stations: regular villages ranked at random, mountain villages later; few tiny ones
    admin = np.array([i for i, v in enumerate(villages) if not v.is_community])
    tiny = np.array([villages[i].tiny for i in admin])
    mountain = np.array([villages[i].town.mountainous for i in admin])
    regular = admin[~tiny]
    score = rng.random(len(regular)) + MOUNTAIN_DELAY * mountain[~tiny]
    ranked = regular[np.argsort(score, kind="stable")]
    station_open = _coverage_dates(rng, len(ranked), STATION_COVERAGE, dt.date(2015, 3, 1))
    tiny_villages = rng.permutation(admin[tiny])
    n_tiny = min(TINY_WITH_STATION, len(tiny_villages))
    first, last = day_number(dt.date(2019, 3, 1)), day_number(dt.date(2020, 12, 1))
    tiny_open = np.sort(_workday(rng.integers(first, last, n_tiny)))
    station_village = np.r_[ranked, tiny_villages[:n_tiny]]
    station_day = np.r_[station_open, tiny_open]
    has_station = station_day < NO_DATE
    station_village, station_day = station_village[has_station], station_day[has_station]
    order = np.lexsort((station_village, station_day))
    station_village, station_day = station_village[order], station_day[order]
    for k, (v, d) in enumerate(zip(station_village, station_day, strict=True)):
        services = int(rng.integers(SERVICES_AT_OPENING[0], SERVICES_AT_OPENING[1] + 1))
        span = max(end - int(d), 0)
        n_adds = rng.poisson(SERVICES_ADDED_PER_YEAR * span / 365.25)
        adds = np.sort(int(d) + rng.integers(1, span + 1, n_adds)) if span else None
        add("YZ", k, "丰收驿站", STATION, v, d, services, adds)

    # community service points: urban-core communities a little earlier
    communities = np.array([i for i, v in enumerate(villages) if v.is_community])
    urban = np.array([villages[i].urban_rural_code == "111" for i in communities])
    ranked_c = communities[np.argsort(rng.random(len(communities)) - 0.2 * urban, kind="stable")]
    point_open = _coverage_dates(rng, len(ranked_c), COMMUNITY_COVERAGE, dt.date(2013, 6, 1))
    keep = point_open < NO_DATE
    ranked_c, point_open = ranked_c[keep], point_open[keep]
    order = np.lexsort((ranked_c, point_open))
    for k, (v, d) in enumerate(zip(ranked_c[order], point_open[order], strict=True)):
        add("SQ", k, "金融服务点", COMMUNITY_POINT, v, d)

    # off-premises self-service banks, communities twice as likely: half before 2016
    weights = np.r_[np.full(len(communities), 2.0), np.ones(len(regular))]
    sites = rng.choice(
        np.r_[communities, regular], SELF_SERVICE_SITES, replace=False, p=weights / weights.sum()
    )
    site_open = np.where(
        np.arange(SELF_SERVICE_SITES) < SELF_SERVICE_SITES // 2,
        rng.integers(
            day_number(dt.date(2009, 1, 1)), day_number(dt.date(2015, 12, 1)), SELF_SERVICE_SITES
        ),
        _workday(rng.integers(day_number(PERIOD_START), end - 30, SELF_SERVICE_SITES)),
    )
    order = np.lexsort((sites, site_open))
    for k, (v, d) in enumerate(zip(sites[order], site_open[order], strict=True)):
        add("ZZ", k, "自助银行", SELF_SERVICE, v, d)

    return _Coverage(
        admin=admin,
        kind=np.where(tiny, "tiny", np.where(mountain, "mountain", "plain")),
        station_village=station_village,
        station_day=station_day,
        uncovered=frozenset(tiny_villages[n_tiny:][:TINY_UNCOVERED].tolist()),
        town_outlet=[town_outlet(int(v)) for v in admin],
    )


def build_network(world: World) -> Network:
    """Model the whole network once: outlets, terminals, managers, visits, ledger."""
    villages = world.county.villages
    outlets = _Outlets()
    by_name = _branches(world, outlets)
    n_branches = len(outlets.rows)

    def town_outlet(v: int) -> str:
        return by_name[_TOWN_OUTLET[villages[v].town.code_2016[-3:]]]

    coverage = _village_points(world, outlets, town_outlet)
    columns = outlets.columns()
    terminals = _terminals(world, columns, coverage)
    return Network(
        **columns,
        **terminals,
        **_managers(world, villages, town_outlet),
        **_visits(world, world.county, coverage),
        **_ledger(world, columns, terminals, n_branches),
    )


def _terminals(world: World, outlets: dict, coverage: _Coverage) -> dict:
    """ATMs, cash recyclers and kiosks at outlets; station terminals and agent terminals."""
    rng = world.rng(STREAM_TERMINALS)
    rows: list[tuple[str, str, int, int, int]] = []  # type, outlet, village, installed, removed
    end = day_number(PERIOD_END)
    start = day_number(PERIOD_START)
    for k, otype in enumerate(outlets["outlet_type"]):
        code, v = outlets["outlet_code"][k], int(outlets["outlet_village"][k])
        o, c = int(outlets["outlet_opened"][k]), int(outlets["outlet_closed"][k])
        if otype in BRANCH_TYPES:
            kit = {
                HEAD_OFFICE: [ATM] * 4 + [CRS] * 2 + [KIOSK] * 2,
                SUB_BRANCH: [ATM] * (2 + int(rng.integers(0, 3))) + [CRS, KIOSK],
                SUB_OFFICE: [ATM] + [KIOSK] * int(rng.integers(0, 2)),
            }[otype]
            if otype == SUB_BRANCH and rng.random() < 0.5:  # a cash recycler added in 2016-20
                rows.append((CRS, code, -1, int(_workday(rng.integers(start, end - 30, 1))[0]), c))
            for ttype in kit:
                installed = max(o, int(rng.integers(day_number(dt.date(2008, 1, 1)), start)))
                if o >= start:
                    installed = o
                if installed < day_number(dt.date(2013, 1, 1)) and rng.random() < 0.7:
                    # an old machine replaced by a new one on the same day
                    swap = int(_workday(rng.integers(start, end - 30, 1))[0])
                    if swap < c:
                        rows.append((ttype, code, -1, installed, swap))
                        installed = swap
                rows.append((ttype, code, -1, installed, c))
        elif otype == STATION:
            rows.append((STATION_TERMINAL, code, v, o, c))
            if rng.random() < STATION_KIOSK_SHARE:
                later = o + int(rng.integers(30, 730))
                if later <= end:
                    rows.append((KIOSK, code, v, int(_workday(np.array([later]))[0]), c))
        elif otype == COMMUNITY_POINT:
            rows.append((KIOSK, code, v, o, c))
        else:  # self-service site
            rows.append((ATM, code, v, o, c))
            if rng.random() < 0.5:
                rows.append((KIOSK, code, v, o, c))

    # agent terminals (助农取款点) in villages without a station, managed by the town outlet;
    # replaced by the station terminal when the village's station opens
    station_of = dict(
        zip(coverage.station_village.tolist(), coverage.station_day.tolist(), strict=True)
    )
    for k, v in enumerate(coverage.admin.tolist()):
        opens = station_of.get(v, NO_DATE)
        if v in coverage.uncovered or opens < start:
            continue
        if rng.random() < AGENT_BEFORE_2016[str(coverage.kind[k])]:
            installed = int(rng.integers(day_number(dt.date(2011, 1, 1)), start - 1))
        elif opens == NO_DATE:  # no station coming: an agent point is set up instead
            installed = int(_workday(rng.integers(day_number(dt.date(2017, 1, 1)), end - 30, 1))[0])
        else:
            continue
        rows.append((STATION_TERMINAL, coverage.town_outlet[k], v, installed, opens))

    rows.sort(key=lambda r: (r[3], r[1], r[0], r[2]))
    return {
        "terminal_id": [f"T{k + 1:07d}" for k in range(len(rows))],
        "terminal_type": np.array([r[0] for r in rows]),
        "terminal_outlet": [r[1] for r in rows],
        "terminal_village": np.array([r[2] for r in rows], dtype=np.int64),
        "terminal_installed": np.array([r[3] for r in rows], dtype=np.int64),
        "terminal_removed": np.array([r[4] for r in rows], dtype=np.int64),
    }


def _managers(world: World, villages: list[Village], town_outlet) -> dict:
    """One customer manager per four village-level units, as county.households assigns."""
    rng = world.rng(STREAM_MANAGERS)
    n = (len(villages) + 3) // 4
    people = make_people(n, rng, rng.integers(1970, 1994, n))
    hired = _workday(
        rng.integers(day_number(dt.date(1995, 1, 1)), day_number(dt.date(2015, 6, 30)), n)
    )
    return {
        "manager_no": [f"M{k + 1:05d}" for k in range(n)],
        "manager_name": people["name"],
        "manager_gender": people["gender"],
        "manager_outlet": [town_outlet(4 * k) for k in range(n)],
        "manager_hired": hired,
    }


def _visits(world: World, county: County, coverage: _Coverage) -> dict:
    """Managers' village visits: weekly presence with a rising probability (K21).

    A station inspection happens only where a station is open; elsewhere that visit is
    a household visit.
    """
    rng = world.rng(STREAM_VISITS)
    villages = county.villages
    start, end = day_number(PERIOD_START), day_number(PERIOD_END)
    monday0 = start - (start + 6) % 7
    n_weeks = (end - monday0) // 7 + 1
    week_start = monday0 + 7 * np.arange(n_weeks)
    mid_year = np.array([dt.date.fromordinal(int(w) + 3).year for w in week_start])
    p_week = np.array([PRESENCE.get(int(y), PRESENCE[2020]) for y in mid_year])
    for festival in SPRING_FESTIVAL:
        p_week[(week_start <= day_number(festival)) & (day_number(festival) < week_start + 7)] *= (
            PRESENCE_SPRING_FESTIVAL
        )
    mountain = np.array([v.town.mountainous for v in villages])
    p = np.clip(p_week[None, :] + PRESENCE_MOUNTAIN * mountain[:, None], 0.0, 1.0)
    present = rng.random(p.shape) < p
    v_idx, w_idx = np.nonzero(present)
    count = 1 + rng.poisson(EXTRA_VISITS, len(v_idx))
    v_idx, w_idx = np.repeat(v_idx, count), np.repeat(w_idx, count)
    offset = rng.choice(6, size=len(v_idx), p=[0.19, 0.19, 0.19, 0.19, 0.19, 0.05])
    day = week_start[w_idx] + offset
    keep = (day >= start) & (day <= end)
    v_idx, day = v_idx[keep], day[keep]
    order = np.lexsort((v_idx, day))
    v_idx, day = v_idx[order], day[order]
    codes = list(VISIT_PURPOSES)
    probs = np.array([VISIT_PURPOSES[c][1] for c in codes])
    purpose = rng.choice(len(codes), size=len(day), p=probs / probs.sum())
    station_since = np.full(len(villages), NO_DATE, dtype=np.int64)
    station_since[coverage.station_village] = coverage.station_day
    no_station = day < station_since[v_idx]
    purpose = np.where((purpose == codes.index("04")) & no_station, codes.index("01"), purpose)
    share = np.array([VISIT_PURPOSES[c][2] for c in codes])[purpose]
    households = np.bincount(
        county.household_village_index, minlength=len(villages)
    )  # every household of the village over the period: an approximation of the visit pool
    return {
        "visit_day": day,
        "visit_village": v_idx,
        "visit_purpose": np.array(codes)[purpose],
        "visit_households": rng.binomial(households[v_idx], share),
    }


def _ledger(world: World, outlets: dict, terminals: dict, n_branches: int) -> dict:
    """Inclusive-finance investment, fee waivers and rate concessions (K01), at scale 1.0.

    Infrastructure entries follow the stations, terminals and outlets of the model; monthly
    fee waivers and rate concessions per branch outlet fill the rest of the five-year total.
    """
    rng = world.rng(STREAM_INVESTMENT)
    start, end = day_number(PERIOD_START), day_number(PERIOD_END)
    day, cat, outlet, village, amount = [], [], [], [], []

    def book(d, c, o, v, a):
        day.append(int(d))
        cat.append(c)
        outlet.append(o)
        village.append(int(v))
        amount.append(float(a))

    codes, outlet_type = outlets["outlet_code"], outlets["outlet_type"]
    outlet_opened, outlet_closed = outlets["outlet_opened"], outlets["outlet_closed"]
    for k, otype in enumerate(outlet_type):
        o = int(outlet_opened[k])
        if otype == STATION and start <= o <= end:
            book(
                o,
                "11",
                codes[k],
                outlets["outlet_village"][k],
                STATION_BUILD_COST * rng.lognormal(0.0, 0.25),
            )
        if otype in BRANCH_TYPES:
            if start <= o <= end:
                book(o, "13", codes[k], -1, NEW_OUTLET_COST * rng.lognormal(0.0, 0.2))
            for _ in range(int(rng.integers(0, 3))):
                d = int(_workday(rng.integers(start, end - 30, 1))[0])
                if o <= d < outlet_closed[k]:
                    book(d, "13", codes[k], -1, RENOVATION_COST * rng.lognormal(0.0, 0.4))
    t_installed = terminals["terminal_installed"]
    for k in np.flatnonzero((t_installed >= start) & (t_installed <= end)):
        ttype = terminals["terminal_type"][k]
        book(
            t_installed[k],
            "12",
            terminals["terminal_outlet"][k],
            terminals["terminal_village"][k],
            TERMINAL_COST[ttype] * rng.lognormal(0.0, 0.15),
        )
    for year in range(PERIOD_START.year, PERIOD_END.year + 1):
        for d in np.sort(_days_in_year(rng, year, 2)):
            book(d, "14", codes[0], -1, SYSTEM_PROJECT_COST * rng.lognormal(0.0, 0.3))

    # monthly fee waivers and rate concessions on each month's last day, per branch outlet
    remaining = K01_TOTAL_AT_SCALE_1 - sum(amount)
    growth = sum(12 * g for g in CONCESSION_GROWTH.values())
    per_growth_month = remaining / growth
    weight = np.where(
        outlet_type[:n_branches] == HEAD_OFFICE,
        3.0,
        np.where(outlet_type[:n_branches] == SUB_BRANCH, 2.0, 1.0),
    )
    weight = weight * rng.lognormal(0.0, 0.2, n_branches)
    kinds = [(c, (1 - RATE_SHARE_OF_CONCESSIONS) * s) for c, s in FEE_WAIVER_SHARES.items()]
    kinds.append(("31", RATE_SHARE_OF_CONCESSIONS))
    for year in range(PERIOD_START.year, PERIOD_END.year + 1):
        for month in range(1, 13):
            nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
            last = day_number(nxt) - 1
            first = day_number(dt.date(year, month, 1))
            open_ = (outlet_opened[:n_branches] <= last) & (outlet_closed[:n_branches] > first)
            w = weight * open_
            budget = per_growth_month * CONCESSION_GROWTH[year]
            noise = rng.lognormal(0.0, 0.15, (n_branches, len(kinds)))
            noise = noise / noise.mean()
            for j in np.flatnonzero(open_):
                for i, (c, share) in enumerate(kinds):
                    book(last, c, codes[j], -1, budget * share * w[j] / w.sum() * noise[j, i])

    order = np.lexsort((np.array(outlet), np.array(cat), np.array(day)))
    scaled = np.round(np.array(amount)[order] * world.scale, 2)
    return {
        "entry_day": np.array(day, dtype=np.int64)[order],
        "entry_category": np.array(cat)[order],
        "entry_outlet": [outlet[i] for i in order],
        "entry_village": np.array(village, dtype=np.int64)[order],
        "entry_amount": np.maximum(scaled, 0.01),
    }


# --- point-in-time views (shared by the writer and the KPI calculations) ---------------------


def services_on(net: Network, day: dt.date) -> np.ndarray:
    """Convenience services each outlet offers on ``day`` (0 for outlets that are not stations)."""
    d = day_number(day)
    added = np.array([np.searchsorted(a, d, side="right") for a in net.service_adds])
    return np.where(
        net.outlet_type == STATION, np.minimum(net.service_start + added, SERVICES_MAX), 0
    )


def covered_villages(net: Network, county: County, day: dt.date) -> np.ndarray:
    """Per village-level unit: has an open station, a working terminal or an agent on ``day``."""
    d = day_number(day)
    covered = np.zeros(len(county.villages), dtype=bool)
    open_ = (net.outlet_opened <= d) & (net.outlet_closed > d) & (net.outlet_type == STATION)
    covered[net.outlet_village[open_]] = True
    working = (
        (net.terminal_installed <= d) & (net.terminal_removed > d) & (net.terminal_village >= 0)
    )
    covered[net.terminal_village[working]] = True
    return covered


def kpis(world: World, day: dt.date, residents_threshold: float = 200.0) -> dict[str, float]:
    """K01, K02, K11, K12 and K20 on ``day`` from the model (for calibration and tests).

    ``residents_threshold``: K02's "200 residents"; at scales below 1.0 callers pass
    ``200 * scale`` so that the same villages qualify as at full scale.
    """
    net, county = network(world), world.county
    d = day_number(day)
    villages = county.villages
    community = np.array([v.is_community for v in villages])
    station_open = np.zeros(len(villages), dtype=bool)
    point_open = np.zeros(len(villages), dtype=bool)
    is_open = (net.outlet_opened <= d) & (net.outlet_closed > d)
    station_open[net.outlet_village[is_open & (net.outlet_type == STATION)]] = True
    point_open[net.outlet_village[is_open & (net.outlet_type == COMMUNITY_POINT)]] = True
    in_scope = ~community & (village_residents(county, day) >= residents_threshold)
    services = services_on(net, day)[is_open & (net.outlet_type == STATION)]
    booked = net.entry_amount[(net.entry_day >= day_number(PERIOD_START)) & (net.entry_day <= d)]
    return {
        "K01": float(booked.sum()),
        "K02": float(station_open[in_scope].mean()) if in_scope.any() else float("nan"),
        "K11": float((~covered_villages(net, county, day) & ~community).sum()),
        "K12": float(point_open[community].mean()),
        "K20": float(services.mean()) if len(services) else 0.0,
        "K20_share_over_20": float((services > 20).mean()) if len(services) else 0.0,
    }


def k21(world: World, first: dt.date, last: dt.date) -> float:
    """K21: mean over the Monday-Sunday weeks within [first, last] of the share of
    administrative villages with at least one manager visit in that week."""
    net, villages = network(world), world.county.villages
    admin = np.array([not v.is_community for v in villages])
    lo, hi = day_number(first), day_number(last)
    monday0 = lo + (7 - (lo + 6) % 7) % 7  # first Monday on or after ``first``
    n_weeks = (hi - monday0 + 1) // 7  # whole weeks only
    if n_weeks <= 0:
        return float("nan")
    mask = (net.visit_day >= monday0) & (net.visit_day < monday0 + 7 * n_weeks)
    seen = np.zeros((len(villages), n_weeks), dtype=bool)
    seen[net.visit_village[mask], (net.visit_day[mask] - monday0) // 7] = True
    return float(seen[admin].mean())


# --- the files -------------------------------------------------------------------------------


def _ymd(n: int) -> str:
    return "" if n >= NO_DATE else dt.date.fromordinal(int(n)).strftime("%Y%m%d")


def outlet_lines(world: World, day: dt.date) -> list[str]:
    """CBS_OUTLET, full snapshot: every outlet opened by ``day`` (closed ones too)."""
    net, villages = network(world), world.county.villages
    d = day_number(day)
    services = services_on(net, day)
    lines = []
    for k in np.flatnonzero(net.outlet_opened <= d):
        town = net.outlet_town[k].version_on(day)
        v = int(net.outlet_village[k])
        lines.append(
            "|".join(
                (
                    net.outlet_code[k],
                    net.outlet_name[k],
                    str(net.outlet_type[k]),
                    net.outlet_parent[k],
                    town.code,
                    town.name,
                    villages[v].code if v >= 0 else "",
                    _ymd(net.outlet_opened[k]),
                    _ymd(net.outlet_closed[k]) if net.outlet_closed[k] <= d else "",
                    str(services[k]) if net.outlet_type[k] == STATION else "",
                )
            )
        )
    return lines


def terminal_lines(world: World, day: dt.date) -> list[str]:
    """CBS_TERMINAL, full snapshot: every terminal installed by ``day`` (removed ones too)."""
    net, villages = network(world), world.county.villages
    d = day_number(day)
    lines = []
    for k in np.flatnonzero(net.terminal_installed <= d):
        v = int(net.terminal_village[k])
        lines.append(
            "|".join(
                (
                    net.terminal_id[k],
                    str(net.terminal_type[k]),
                    net.terminal_outlet[k],
                    villages[v].code if v >= 0 else "",
                    _ymd(net.terminal_installed[k]),
                    _ymd(net.terminal_removed[k]) if net.terminal_removed[k] <= d else "",
                )
            )
        )
    return lines


def manager_lines(world: World, day: dt.date) -> list[str]:
    """CBS_MANAGER, full snapshot: one row per manager and grid village."""
    net, villages = network(world), world.county.villages
    d = day_number(day)
    lines = []
    for i, v in enumerate(villages):
        k = i // 4
        if net.manager_hired[k] > d:
            continue
        lines.append(
            "|".join(
                (
                    net.manager_no[k],
                    net.manager_name[k],
                    net.manager_gender[k],
                    net.manager_outlet[k],
                    f"G{k + 1:05d}",
                    v.code,
                    _ymd(net.manager_hired[k]),
                )
            )
        )
    return lines


def visit_lines(world: World, day: dt.date) -> list[str]:
    """CBS_VISIT, increment: the visits of ``day``."""
    net, villages = network(world), world.county.villages
    d = day_number(day)
    lo, hi = np.searchsorted(net.visit_day, [d, d + 1])
    return [
        "|".join(
            (
                f"V{k + 1:09d}",
                _ymd(d),
                net.manager_no[int(net.visit_village[k]) // 4],
                villages[net.visit_village[k]].code,
                str(net.visit_purpose[k]),
                str(net.visit_households[k]),
            )
        )
        for k in range(lo, hi)
    ]


def investment_lines(world: World, day: dt.date) -> list[str]:
    """CBS_INVESTMENT, increment: the ledger entries booked on ``day``."""
    net, villages = network(world), world.county.villages
    d = day_number(day)
    lo, hi = np.searchsorted(net.entry_day, [d, d + 1])
    lines = []
    for k in range(lo, hi):
        v = int(net.entry_village[k])
        category = str(net.entry_category[k])
        lines.append(
            "|".join(
                (
                    f"IV{k + 1:09d}",
                    _ymd(d),
                    category,
                    INVESTMENT_CATEGORIES[category],
                    net.entry_outlet[k],
                    villages[v].code if v >= 0 else "",
                    f"{net.entry_amount[k]:.2f}",
                )
            )
        )
    return lines


def write_day(world: World, out: Path, day: dt.date, initial: bool) -> list[WrittenFile]:
    """The network files of one business date.

    Every table here is a full snapshot or a journal increment, so ``initial`` changes
    nothing: there are no changed-rows tables in this source.
    """
    return [
        write_table(out, "OUTLET", day, outlet_lines(world, day)),
        write_table(out, "TERMINAL", day, terminal_lines(world, day)),
        write_table(out, "MANAGER", day, manager_lines(world, day)),
        write_table(out, "VISIT", day, visit_lines(world, day)),
        write_table(out, "INVESTMENT", day, investment_lines(world, day)),
    ]
