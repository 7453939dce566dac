"""The beyond-the-plan inclusion indicators recomputed from the simulated files."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.integration

DATES = [dt.date(2015, 12, 31), dt.date(2016, 1, 15), dt.date(2016, 2, 1)]
ELECTRONIC = {"ME", "IE", "AT", "CA", "UP", "IP", "ST", "IB", "ND", "PT"}


def _rows(landing, day: dt.date, table: str) -> list[list[str]]:
    path = landing / f"{day:%Y%m%d}" / "CBS" / f"CBS_{table}_{day:%Y%m%d}.dat"
    if not path.exists():
        return []
    return [line.split("|") for line in path.read_bytes().decode("gbk").splitlines()]


def _latest(landing, dates, table: str) -> dict[str, list[str]]:
    latest = {}
    for day in sorted(dates):
        for row in _rows(landing, day, table):
            latest[row[0]] = row
    return latest


def _open(opened: str, closed: str, ymd: str) -> bool:
    return opened <= ymd and (closed == "" or closed > ymd)


@pytest.fixture(scope="module")
def indicators(kpi_world):
    rows = kpi_world.query("select * from marts.fct_inclusion_indicators")
    return {r["business_date"]: r for r in rows}


@pytest.mark.parametrize("day", DATES, ids=str)
def test_deposit_accounts_and_depositors(kpi_world, indicators, day):
    ymd = f"{day:%Y%m%d}"
    accounts = _latest(kpi_world.landing, kpi_world.dates, "ACCOUNT")
    personal = [a for a in accounts.values() if a[1] == "1" and a[3] in ("01", "02")]
    assert indicators[day]["deposit_accounts"] == sum(_open(a[6], a[7], ymd) for a in personal)
    spans: dict[str, list] = {}
    for a in personal:
        first, last, all_closed = spans.get(a[2], (a[6], a[7], True))
        spans[a[2]] = (min(first, a[6]), max(last, a[7]), all_closed and a[7] != "")
    depositors = sum(
        first <= ymd and not (all_closed and last <= ymd)
        for first, last, all_closed in spans.values()
    )
    assert indicators[day]["depositors"] == depositors


@pytest.mark.parametrize("day", DATES, ids=str)
def test_service_points_and_borrowers(kpi_world, indicators, day):
    ymd = f"{day:%Y%m%d}"
    outlets = _rows(kpi_world.landing, day, "OUTLET")
    terminals = _rows(kpi_world.landing, day, "TERMINAL")
    open_outlets = [o for o in outlets if _open(o[7], o[8], ymd)]
    open_terminals = [t for t in terminals if _open(t[4], t[5], ymd)]
    row = indicators[day]
    assert row["service_points"] == len(open_outlets) + len(open_terminals)
    assert row["branches"] == sum(o[2] in ("1", "2", "3") for o in open_outlets)

    customers = _latest(kpi_world.landing, [d for d in kpi_world.dates if d <= day], "CUSTOMER")
    loans = _latest(kpi_world.landing, [d for d in kpi_world.dates if d <= day], "LOAN")
    borrowers = {
        loans[b[0]][1]
        for b in _rows(kpi_world.landing, day, "LOAN_BALANCE")
        if float(b[2]) > 0 and customers[loans[b[0]][1]][1] == "1"
    }
    assert row["borrowers"] == len(borrowers)


def test_electronic_channel_share_of_january(kpi_world, indicators):
    accounts = _latest(kpi_world.landing, kpi_world.dates, "ACCOUNT")
    holder = {a[0]: a[2] for a in accounts.values() if a[1] == "1"}
    used: dict[str, bool] = {}
    for day in kpi_world.dates:
        if (day.year, day.month) != (2016, 1):
            continue
        for t in _rows(kpi_world.landing, day, "TXN"):
            if t[5] == "BA" or t[11] == "1" or t[3] not in holder:
                continue
            person = holder[t[3]]
            used[person] = used.get(person, False) or t[5] in ELECTRONIC
    row = indicators[dt.date(2016, 1, 31)]
    assert row["active_customers_month"] == len(used)
    assert row["electronic_channel_customers_month"] == sum(used.values())
