"""End-to-end recompute of the lending KPIs (K03 K04 K05 K08 K13-K17).

Each KPI is recomputed in plain Python from the simulated files (core banking's
``CBS_*.dat`` and the low-income register CSVs), independently of puhui's loaders and of
the dbt SQL, and compared with the warehouse ``kpi_world`` built: amounts to the cent,
counts exactly, ratios to 1e-6, for the district, some towns and some villages. The
definitions are those of ``dbt_project/models/marts/kpi/_kpi_docs__lending.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DISTRICT = "330604"
BASELINE = dt.date(2015, 12, 31)
PLAN_START = dt.date(2016, 1, 1)
SMALL_CREDIT_CAP = Decimal("300000")
INCLUSIVE_LINE_CAP = Decimal("10000000")
CHECK_DATES = (
    dt.date(2015, 12, 31),
    dt.date(2016, 1, 15),
    dt.date(2016, 1, 31),
    dt.date(2016, 2, 1),
)
RATIO_TOLERANCE = 1e-6


# ---------------------------------------------------------------- reading the files


def _date(text: str) -> dt.date | None:
    if not text:
        return None
    if "-" in text:
        return dt.date.fromisoformat(text)
    return dt.datetime.strptime(text, "%Y%m%d").date()


def _dat_rows(landing: Path, day: dt.date, table: str) -> list[list[str]]:
    path = landing / f"{day:%Y%m%d}" / "CBS" / f"CBS_{table}_{day:%Y%m%d}.dat"
    if not path.exists():
        return []
    text = path.read_bytes().decode("gbk")
    return [line.split("|") for line in text.split("\n") if line]


def _register_rows(landing: Path, day: dt.date) -> list[dict[str, str]]:
    rows = []
    for path in sorted((landing / f"{day:%Y%m%d}" / "AGY").glob("AGY_LOWINCOME_*.csv")):
        with path.open(encoding="gbk", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


@dataclass
class Customer:
    village: str
    borrower_class: str
    size: str
    individual_business: bool
    sme_owner: bool
    id_no: str
    credit_line: Decimal


@dataclass
class Loan:
    customer: str
    guarantee: str
    purpose: str
    is_agri: bool
    green: bool
    amount: Decimal
    disbursed: dt.date
    settled: dt.date | None


@dataclass
class Book:
    """What the files say, by business date."""

    dates: list[dt.date]
    customers: dict[str, list[tuple[dt.date, Customer]]] = field(default_factory=dict)
    loans: dict[str, Loan] = field(default_factory=dict)
    balances: dict[dt.date, list[tuple[str, Decimal]]] = field(default_factory=dict)
    regions: dict[dt.date, dict[str, tuple[str, str]]] = field(default_factory=dict)
    listings: dict[tuple[str, dt.date], dt.date | None] = field(default_factory=dict)
    ratings: list[tuple[str, str, int, str, dt.date]] = field(default_factory=list)

    def customer_on(self, cust_no: str, day: dt.date) -> Customer:
        """The version valid on ``day``; the first version also stands for earlier days."""
        versions = self.customers[cust_no]
        valid = [c for d, c in versions if d <= day]
        return valid[-1] if valid else versions[0][1]

    def low_income_at(self, id_no: str, day: dt.date) -> bool:
        return any(
            head == id_no and listed <= day and (removed is None or removed > day)
            for (head, listed), removed in self.listings.items()
        )


def read_book(landing: Path, dates: list[dt.date]) -> Book:
    book = Book(dates=sorted(dates))
    for day in book.dates:
        for r in _dat_rows(landing, day, "CUSTOMER"):
            customer = Customer(
                village=r[11],
                borrower_class=r[7],
                size=r[8],
                individual_business=r[9] == "1",
                sme_owner=r[10] == "1",
                id_no=r[2],
                credit_line=Decimal(r[12]),
            )
            versions = book.customers.setdefault(r[0], [])
            versions[:] = [(d, c) for d, c in versions if d != day]
            versions.append((day, customer))
        for r in _dat_rows(landing, day, "LOAN"):
            book.loans[r[0]] = Loan(
                customer=r[1],
                guarantee=r[5],
                purpose=r[6],
                is_agri=r[7] == "1",
                green=bool(r[9]),
                amount=Decimal(r[11]),
                disbursed=_date(r[12]),
                settled=_date(r[18]),
            )
        book.balances[day] = [
            (r[0], Decimal(r[2])) for r in _dat_rows(landing, day, "LOAN_BALANCE")
        ]
        region_rows = _dat_rows(landing, day, "REGION")
        book.regions[day] = {r[0]: (r[3], r[2]) for r in region_rows}  # village -> (town, type)
        for r in _dat_rows(landing, day, "CREDIT_RATING"):
            book.ratings.append((r[1], r[3], int(r[4]), r[5], _date(r[7])))
        for r in _register_rows(landing, day):
            key = (r["户主身份证号码"], _date(r["纳入日期"]))
            removed = _date(r["退出日期"])
            book.listings[key] = removed or book.listings.get(key)
    return book


# ---------------------------------------------------------------- the KPIs in Python


def _zero() -> dict:
    return defaultdict(Decimal) | {"borrowers": defaultdict(set)}


def balance_kpis(book: Book, day: dt.date) -> dict[str, dict]:
    """Per region key ('district', town code, village code): balances and borrower sets."""
    rows = []
    credit_total: dict[str, Decimal] = defaultdict(Decimal)
    for loan_no, balance in book.balances[day]:
        loan = book.loans[loan_no]
        if loan.guarantee == "1":
            credit_total[loan.customer] += loan.amount
        rows.append((loan_no, loan, balance))
    regions = book.regions[day]
    out: dict[str, dict] = defaultdict(_zero)
    for _, loan, balance in rows:
        c = book.customer_on(loan.customer, day)
        small_micro = (c.borrower_class == "2" and c.size in ("S", "T")) or (
            (c.individual_business or c.sme_owner) and loan.purpose == "1"
        )
        credit = loan.guarantee == "1"
        scopes = {
            "total": True,
            "credit": credit,
            "agri": loan.is_agri,
            "small_micro": small_micro,
            "inclusive_small_micro": small_micro and c.credit_line <= INCLUSIVE_LINE_CAP,
            "agri_or_small_micro": loan.is_agri or small_micro,
            "agri_and_small_micro": loan.is_agri and small_micro,
            "green": loan.green,
            "small_credit": credit and credit_total[loan.customer] <= SMALL_CREDIT_CAP,
            "farm_household": c.borrower_class == "1",
        }
        keys = ["district"]
        if c.village in regions:
            keys += [regions[c.village][0], c.village]
        for key in keys:
            for scope, inside in scopes.items():
                if inside:
                    out[key][scope] += balance
                    out[key]["borrowers"][scope].add(loan.customer)
    return out


def k03(book: Book, day: dt.date) -> dict[str, tuple[Decimal, int]]:
    regions = book.regions[day]
    out: dict[str, list] = defaultdict(lambda: [Decimal(0), 0])
    for loan in book.loans.values():
        if not (PLAN_START <= loan.disbursed <= day):
            continue
        c = book.customer_on(loan.customer, loan.disbursed)
        if not c.id_no or not book.low_income_at(c.id_no, loan.disbursed):
            continue
        keys = ["district"]
        if c.village in regions:
            keys += [regions[c.village][0], c.village]
        for key in keys:
            out[key][0] += loan.amount
            out[key][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def latest_round(book: Book, kind: str, day: dt.date) -> int | None:
    years = [year for k, _, year, _, rated in book.ratings if k == kind and rated <= day]
    return max(years) if years else None


def k16(book: Book, day: dt.date) -> dict[str, tuple[int, int | None]]:
    regions = book.regions[day]
    year = latest_round(book, "2", day)
    credit = {
        village
        for k, village, y, grade, rated in book.ratings
        if k == "2" and y == year and rated <= day and grade == "Y"
    }
    out: dict[str, list] = defaultdict(lambda: [0, 0])
    for village, (town, village_type) in regions.items():
        if village_type != "2":
            continue
        for key in ("district", town):
            out[key][0] += 1
            out[key][1] += village in credit
    return {k: (v[0], v[1] if year is not None else None) for k, v in out.items()}


def k17(book: Book, day: dt.date) -> dict[str, tuple[int, int]]:
    regions = book.regions[day]
    year = latest_round(book, "1", day)
    out: dict[str, list] = defaultdict(lambda: [0, 0])
    for k, village, y, grade, _ in book.ratings:
        if k != "1" or y != year:
            continue
        keys = ["district"]
        if village in regions:
            keys += [regions[village][0], village]
        for key in keys:
            out[key][0] += 1
            out[key][1] += grade != "N"
    return {k: (v[0], v[1]) for k, v in out.items()}


# ---------------------------------------------------------------- comparing


@pytest.fixture(scope="module")
def book(kpi_world) -> Book:
    return read_book(Path(kpi_world.landing), list(kpi_world.dates))


def _warehouse(kpi_world, model: str, day: dt.date) -> dict[str, dict]:
    rows = kpi_world.query(
        f"select * from marts.{model} where business_date = %s",  # noqa: S608 (fixed names)
        (day,),
    )
    return {("district" if r["region_level"] == "district" else r["region_code"]): r for r in rows}


def _sample_keys(rows: dict[str, dict], level: str, n: int = 4) -> list[str]:
    """The district, and the first few towns/villages with something in them."""
    keys = sorted(k for k, r in rows.items() if r["region_level"] == level)
    return keys[:n] + keys[-n:]


def _levels(rows: dict[str, dict]) -> list[str]:
    return ["district", *_sample_keys(rows, "town"), *_sample_keys(rows, "village")]


@pytest.mark.parametrize("day", CHECK_DATES, ids=str)
def test_balance_kpis_match_recompute(kpi_world, book, day):
    expected = balance_kpis(book, day)
    baseline = balance_kpis(book, BASELINE) if BASELINE in book.balances else None
    base_regions = book.regions.get(BASELINE, {})
    k04 = _warehouse(kpi_world, "kpi_k04_credit_loan_growth", day)
    k05 = _warehouse(kpi_world, "kpi_k05_agri_small_micro_balance", day)
    k08 = _warehouse(kpi_world, "kpi_k08_green_credit_share", day)
    k13 = _warehouse(kpi_world, "kpi_k13_small_credit_loans", day)
    k14 = _warehouse(kpi_world, "kpi_k14_farm_household_loans", day)
    k15 = _warehouse(kpi_world, "kpi_k15_small_micro_loans", day)
    busiest = sorted((k for k in expected if k != "district"), key=lambda k: -expected[k]["total"])
    for key in dict.fromkeys([*_levels(k05), *busiest[:8]]):
        e = expected.get(key, _zero())
        assert k05[key]["agri_balance_amount"] == e["agri"], key
        assert k05[key]["small_micro_balance_amount"] == e["small_micro"], key
        assert k05[key]["agri_or_small_micro_balance_amount"] == e["agri_or_small_micro"], key
        assert k05[key]["agri_and_small_micro_balance_amount"] == e["agri_and_small_micro"], key
        assert k08[key]["green_balance_amount"] == e["green"], key
        assert k08[key]["total_balance_amount"] == e["total"], key
        if e["total"]:
            share = float(e["green"] / e["total"])
            assert float(k08[key]["green_credit_share"]) == pytest.approx(
                share, abs=RATIO_TOLERANCE
            )
        else:
            assert k08[key]["green_credit_share"] is None
        borrowers = e["borrowers"]
        assert k13[key]["small_credit_balance_amount"] == e["small_credit"], key
        assert k13[key]["small_credit_borrowers"] == len(borrowers["small_credit"]), key
        assert k14[key]["farm_household_balance_amount"] == e["farm_household"], key
        assert k14[key]["farm_household_borrowers"] == len(borrowers["farm_household"]), key
        assert k15[key]["small_micro_balance_amount"] == e["small_micro"], key
        assert k15[key]["small_micro_borrowers"] == len(borrowers["small_micro"]), key
        assert k15[key]["inclusive_small_micro_balance_amount"] == e["inclusive_small_micro"]
        assert k04[key]["credit_balance_amount"] == e["credit"], key
        if baseline is None:
            assert k04[key]["credit_balance_growth_amount"] is None
            continue
        if key == "district":
            base = baseline["district"]["credit"]
        elif k04[key]["region_level"] == "town":
            # the town's villages on the day, with their baselines
            villages = [v for v, (town, _) in book.regions[day].items() if town == key]
            base = sum(
                (baseline[v]["credit"] for v in villages if v in base_regions and v in baseline),
                Decimal(0),
            )
        else:
            base = baseline[key]["credit"] if key in baseline else Decimal(0)
        assert k04[key]["baseline_credit_balance_amount"] == base, key
        assert k04[key]["credit_balance_growth_amount"] == e["credit"] - base, key


@pytest.mark.parametrize("day", CHECK_DATES, ids=str)
def test_k03_low_income_loans_match_recompute(kpi_world, book, day):
    expected = k03(book, day)
    actual = _warehouse(kpi_world, "kpi_k03_low_income_loans", day)
    keys = set(_levels(actual)) | {k for k in expected if k in actual}
    for key in keys:
        amount, loans = expected.get(key, (Decimal(0), 0))
        assert actual[key]["low_income_disbursed_amount"] == amount, key
        assert actual[key]["low_income_loans_disbursed"] == loans, key


@pytest.mark.parametrize("day", CHECK_DATES, ids=str)
def test_k16_credit_villages_match_recompute(kpi_world, book, day):
    expected = k16(book, day)
    actual = _warehouse(kpi_world, "kpi_k16_credit_villages", day)
    assert set(actual) == set(expected)
    for key, (villages, credit) in expected.items():
        assert actual[key]["administrative_villages"] == villages, key
        assert actual[key]["credit_villages"] == credit, key
        if credit is None:
            assert actual[key]["credit_village_share"] is None
        else:
            share = float(actual[key]["credit_village_share"])
            assert share == pytest.approx(credit / villages, abs=RATIO_TOLERANCE)


@pytest.mark.parametrize("day", CHECK_DATES, ids=str)
def test_k17_credit_households_match_recompute(kpi_world, book, day):
    expected = k17(book, day)
    actual = _warehouse(kpi_world, "kpi_k17_credit_households", day)
    for key in _levels(actual):
        rated, credit = expected.get(key, (0, 0))
        assert actual[key]["rated_households"] == rated, key
        assert actual[key]["credit_households"] == credit, key
        if rated:
            share = float(actual[key]["credit_household_share"])
            assert share == pytest.approx(credit / rated, abs=RATIO_TOLERANCE)
        else:
            assert actual[key]["credit_household_share"] is None


def test_lending_kpis_in_long_shape(kpi_world):
    """Every lending measure reaches the scorecard's long view for every loaded date."""
    rows = kpi_world.query(
        "select kpi_id, measure, count(distinct business_date) as days"
        " from intermediate.int_kpi_values__lending where region_level = 'district'"
        " group by kpi_id, measure order by kpi_id, measure"
    )
    measures = {(r["kpi_id"], r["measure"]): r["days"] for r in rows}
    assert set(measures) == {
        ("K03", "amount"),
        ("K04", "amount"),
        ("K05", "balance"),
        ("K08", "share"),
        ("K13", "balance"),
        ("K13", "borrowers"),
        ("K14", "balance"),
        ("K14", "borrowers"),
        ("K15", "balance"),
        ("K15", "borrowers"),
        ("K16", "share"),
        ("K17", "share"),
    }
    assert set(measures.values()) == {len(kpi_world.dates)}
