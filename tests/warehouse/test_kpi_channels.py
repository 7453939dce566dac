"""K06, K07, K18 and K19 recomputed in plain Python from the simulated files.

Reads the simulator's output directly (core-banking ``.dat`` files, the agency return CSVs
and the e-banking SQLite database, layouts in ``docs/data-dictionary/``), never puhui's
extract or load code, and compares with the warehouse's KPI marts built by ``kpi_world``.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CHECK_DATES = [
    dt.date(2015, 12, 31),
    dt.date(2016, 1, 15),
    dt.date(2016, 1, 31),
    dt.date(2016, 2, 1),
]
DISTRICT = "330604"
AGRICULTURAL_ITEMS = ("NY01", "NY02")
OWN_BIN = "622858"


# --- reading the files -------------------------------------------------------------------


def _dat_rows(landing: Path, day: dt.date, table: str) -> list[list[str]]:
    path = landing / f"{day:%Y%m%d}" / "CBS" / f"CBS_{table}_{day:%Y%m%d}.dat"
    text = path.read_bytes().decode("gbk")
    return [line.split("|") for line in text.split("\n") if line]


def _branch_towns(landing: Path, day: dt.date) -> dict[str, str]:
    """Outlet code -> town code, from the outlet snapshot of ``day``."""
    return {r[0]: r[4] for r in _dat_rows(landing, day, "OUTLET")}


def _village_towns(landing: Path, day: dt.date) -> dict[str, str]:
    """Village code -> town code, from the region snapshot of ``day``."""
    return {r[0]: r[3] for r in _dat_rows(landing, day, "REGION")}


def _journal(landing: Path, day: dt.date) -> list[dict]:
    """CBS_TXN of ``day``: the columns the KPIs need."""
    return [
        {
            "card": r[4],
            "channel": r[5],
            "direction": r[7],
            "amount": Decimal(r[8]),
            "internal": r[10] == "1",
            "reversed": r[11] == "1",
            "branch": r[12],
            "home_branch": r[3][:4],
        }
        for r in _dat_rows(landing, day, "TXN")
    ]


def _subsidy_credits(landing: Path) -> list[dict]:
    """Successful rows of every subsidy return file (GBK CSV, header block then details)."""
    credits = []
    for path in sorted(landing.glob("*/AGY/AGY_SUBSIDY_RET_*.csv")):
        rows = list(csv.reader(path.read_bytes().decode("gbk").splitlines()))
        item = rows[1][1]
        for r in rows[3:]:
            if r[8] != "成功":
                continue
            credits.append(
                {
                    "item": item,
                    "village": r[2],
                    "person": r[4],
                    "own": r[5].startswith(OWN_BIN),
                    "amount": Decimal(r[7]),
                    "date": dt.date.fromisoformat(r[10]),
                }
            )
    return credits


# --- the KPIs, independently -------------------------------------------------------------


def _window(dates: list[dt.date], day: dt.date, start: dt.date) -> list[dt.date]:
    return [d for d in dates if start <= d <= day]


def k07(landing: Path, dates: list[dt.date], day: dt.date) -> dict[str, tuple[int, int]]:
    """(electronic, counter) transactions of the month to ``day``, by town and district."""
    towns = _branch_towns(landing, day)
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in _window(dates, day, day.replace(day=1)):
        for t in _journal(landing, d):
            if t["reversed"] or t["channel"] == "BA":
                continue
            k = 1 if t["channel"] == "TE" else 0
            out[DISTRICT][k] += 1
            out[towns[t["branch"]]][k] += 1
    return {code: (e, c) for code, (e, c) in out.items()}


def k18(landing: Path, dates: list[dt.date], day: dt.date) -> dict[str, tuple[Decimal, Decimal]]:
    """(in-network, all) card outflow amount of the month to ``day``, by town and district."""
    towns = _branch_towns(landing, day)
    out: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for d in _window(dates, day, day.replace(day=1)):
        for t in _journal(landing, d):
            if not t["card"] or t["reversed"] or t["direction"] != "O":
                continue
            for code in (DISTRICT, towns[t["home_branch"]]):
                out[code][1] += t["amount"]
                if t["internal"]:
                    out[code][0] += t["amount"]
    return {code: (i, a) for code, (i, a) in out.items()}


def k06(landing: Path, day: dt.date) -> int:
    """Persons enrolled on or before ``day`` and not closed on or before it."""
    end = f"{day + dt.timedelta(days=1):%Y-%m-%d} 00:00:00"
    con = sqlite3.connect(landing / "ebanking" / "ebanking.sqlite")
    try:
        (count,) = con.execute(
            "select count(distinct id_no) from eb_user where enrolled_at < ?"
            " and not (status = 'CLOSED' and updated_at < ?)",
            (end, end),
        ).fetchone()
    finally:
        con.close()
    return count


def k19(
    credits: list[dict], day: dt.date, items=None, village=None
) -> tuple[Decimal, int, Decimal]:
    """(amount, recipients, own-card amount) credited from 2016-01-01 to ``day``."""
    rows = [
        c
        for c in credits
        if dt.date(2016, 1, 1) <= c["date"] <= day and (items is None or c["item"] in items)
    ]
    if village is not None:
        # a recipient counts in the village of his first credit (lowest code that day)
        first: dict[str, tuple[dt.date, str]] = {}
        for c in rows:
            first[c["person"]] = min(
                first.get(c["person"], (c["date"], c["village"])), (c["date"], c["village"])
            )
        people = sum(1 for _, v in first.values() if v == village)
        rows = [c for c in rows if c["village"] == village]
    else:
        people = len({c["person"] for c in rows})
    amount = sum((c["amount"] for c in rows), Decimal(0))
    own = sum((c["amount"] for c in rows if c["own"]), Decimal(0))
    return amount, people, own


def _ratio(num, den) -> float | None:
    return None if den == 0 else float(Decimal(num) / Decimal(den))


def _close(actual, expected) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    return abs(float(actual) - expected) <= 1e-6


# --- tests --------------------------------------------------------------------------------


def _mart(kpi_world, table: str, day: dt.date) -> dict[str, dict]:
    rows = kpi_world.query(f"select * from marts.{table} where business_date = %s", (day,))
    return {r["region_code"]: r for r in rows}


@pytest.mark.parametrize("day", CHECK_DATES, ids=str)
def test_k06_ebanking_customers(kpi_world, day):
    mart = _mart(kpi_world, "kpi_k06_ebanking_customers", day)
    assert mart[DISTRICT]["enrolled_customers"] == k06(kpi_world.landing, day)
    towns = sum(r["enrolled_customers"] for r in mart.values() if r["region_level"] == "town")
    assert towns == mart[DISTRICT]["enrolled_customers"]


@pytest.mark.parametrize("day", CHECK_DATES, ids=str)
def test_k07_ebanking_substitution(kpi_world, day):
    expected = k07(kpi_world.landing, kpi_world.dates, day)
    mart = _mart(kpi_world, "kpi_k07_ebanking_substitution", day)
    assert expected, "no transactions in the window"
    for code, (electronic, counter) in expected.items():
        row = mart[code]
        assert (row["electronic_txns_mtd"], row["counter_txns_mtd"]) == (electronic, counter), code
        assert _close(row["substitution_rate"], _ratio(electronic, electronic + counter)), code
    # towns without transactions have empty windows, never phantom counts
    for code, row in mart.items():
        if code not in expected:
            assert row["financial_txns_mtd"] == 0, code


@pytest.mark.parametrize("day", CHECK_DATES, ids=str)
def test_k18_card_closed_loop(kpi_world, day):
    expected = k18(kpi_world.landing, kpi_world.dates, day)
    mart = _mart(kpi_world, "kpi_k18_card_closed_loop", day)
    for code, (inside, total) in expected.items():
        row = mart[code]
        assert row["in_network_outflow_amount_mtd"] == inside, code
        assert row["outflow_amount_mtd"] == total, code
        assert _close(row["closed_loop_rate"], _ratio(inside, total)), code


@pytest.mark.parametrize("day", CHECK_DATES, ids=str)
def test_k19_subsidies_disbursed(kpi_world, day):
    credits = _subsidy_credits(kpi_world.landing)
    mart = _mart(kpi_world, "kpi_k19_subsidies_disbursed", day)
    district = mart[DISTRICT]

    amount, people, own = k19(credits, day, AGRICULTURAL_ITEMS)
    assert (district["subsidy_amount"], district["recipients"]) == (amount, people)
    assert district["own_card_amount"] == own
    assert _close(district["own_card_share"], _ratio(own, amount))

    amount, people, own = k19(credits, day)
    assert (district["all_items_amount"], district["all_items_recipients"]) == (amount, people)
    assert _close(district["all_items_own_card_share"], _ratio(own, amount))

    # villages (the three with most credits so far) and their towns on the day
    in_window = [c for c in credits if dt.date(2016, 1, 1) <= c["date"] <= day]
    by_village: dict[str, int] = defaultdict(int)
    for c in in_window:
        by_village[c["village"]] += 1
    towns = _village_towns(kpi_world.landing, day)
    for village in sorted(by_village, key=lambda v: (-by_village[v], v))[:3]:
        amount, people, own = k19(credits, day, village=village)
        row = mart[village]
        assert (row["all_items_amount"], row["all_items_recipients"]) == (amount, people), village
        assert row["all_items_own_card_amount"] == own, village
        assert row["town_code"] == towns[village], village
    for town in {towns[v] for v in by_village}:
        villages = [v for v, t in towns.items() if t == town]
        expected = sum((k19(credits, day, village=v)[0] for v in villages), Decimal(0))
        assert mart[town]["all_items_amount"] == expected, town
