"""Lending: loan customers, loan contracts, daily balances, loan journal, credit ratings.

The bank's loan book is modelled as *borrowing relationships*: a borrower (a farm
household head, a small/micro enterprise, an individual business, a small-business owner,
a low-income household or an urban consumer) borrows from a start date to an end date,
as a chain of back-to-back loans (a bullet loan renewed at maturity, or an instalment
loan followed by the next one). Relationships active on 2015-12-31 form the baseline
book; new ones start during 2016-2020 and old ones end at a constant churn rate, so the
number of borrowers moves from the 2015 figure to the 2020 figure of each segment, and the
amounts grow with the calendar year. Everything is drawn once per ``(seed, scale)`` and
stored as numpy arrays (dates as day ordinals, money in fen); a business date's files are
vectorised selections of that model.

Core-banking files written (see ``docs/data-dictionary/lending.md``): ``CBS_CUSTOMER``
(changed rows), ``CBS_LOAN`` (changed rows), ``CBS_LOAN_BALANCE`` (every loan outstanding
at the end of the day), ``CBS_LOAN_TXN`` (journal), ``CBS_CREDIT_RATING`` (journal: credit
households rated on 31 Dec, credit villages on 31 Jan). Calibration figures are synthetic
assumptions documented in ``docs/calibration/lending.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puhui.simulate.core_banking import WrittenFile, write_table
from puhui.simulate.core_banking import stamp as _stamp
from puhui.simulate.core_banking import ymd as _ymd
from puhui.simulate.county import NO_DATE, PERIOD_END, PERIOD_START, day_number

# random streams of this writer (block 200-299 in world.STREAMS)
STREAM_RELATIONSHIPS = 200  # keyed by segment number
STREAM_LOANS = 210  # keyed by segment number
STREAM_CUSTOMERS = 220
STREAM_RATINGS = 230
STREAM_TXN = 240

BASELINE = day_number(dt.date(2015, 12, 31))
OLD = day_number(dt.date(2012, 12, 31))  # baseline borrowers existed before their first loan
START, END = day_number(PERIOD_START), day_number(PERIOD_END)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
YUAN = 100  # money is held in fen

# borrower classes (BORROWER_CLASS)
FARM, SMALL_MICRO, INDIVIDUAL_BUSINESS, OTHER_PERSON = "1", "2", "3", "4"
# guarantee types (GUARANTEE_TYPE)
CREDIT, GUARANTEED, MORTGAGE, PLEDGE = "1", "2", "3", "4"
# purposes (PURPOSE)
BUSINESS, CONSUMPTION = "1", "2"
# agriculture-related basis (AGRI_BASIS), after 银发〔2007〕246号
AGRI_FARM, AGRI_RURAL_ORG, AGRI_INDUSTRY = "01", "02", "03"
PRODUCTS = {
    "P01": "丰收贷",
    "P02": "普惠快车",
    "P03": "小微贷",
    "P04": "青年创业贷",
    "P05": "低收入农户扶贫小额信贷",
    "P06": "三权抵押贷",
}
GREEN_FARM = ("G01", "G02")  # 绿色农业, 绿色林业
GREEN_BUSINESS = ("G03", "G05", "G07", "G09", "G10", "G11")
GREEN_CATEGORIES = {
    "G01": "绿色农业",
    "G02": "绿色林业",
    "G03": "工业节能节水环保",
    "G05": "资源循环利用",
    "G07": "可再生能源及清洁能源",
    "G09": "建筑节能及绿色建筑",
    "G10": "绿色交通",
    "G11": "节能环保服务",
}
SMALL_CREDIT_CAP = 300_000 * YUAN  # 小额信用贷款: credit loans up to 30万 (K13)
INCLUSIVE_CAP = 10_000_000 * YUAN  # 普惠型小微: total credit line up to 1000万
LOW_INCOME_PARTICIPATION = 0.42  # listed households that borrow (assumption)
# loans disbursed in year Y carry a green tag with this probability (assumption)
GREEN_P = {2012: 0.035, 2013: 0.04, 2014: 0.045, 2015: 0.05, 2016: 0.055, 2017: 0.063}
GREEN_P |= {2018: 0.072, 2019: 0.083, 2020: 0.095}
# credit-household (信用户) share of rated farm households in rating year Y (assumption)
CREDIT_HOUSEHOLD_P = {2014: 0.50, 2015: 0.55, 2016: 0.59, 2017: 0.63, 2018: 0.66}
CREDIT_HOUSEHOLD_P |= {2019: 0.69, 2020: 0.72}
CREDIT_VILLAGE_THRESHOLD = 0.60  # 信用村: credit households / rated households (assumption)
RATING_YEARS = tuple(CREDIT_HOUSEHOLD_P)


@dataclass(frozen=True)
class Segment:
    """One kind of borrowing relationship, with its calibration (all assumptions)."""

    number: int
    name: str
    borrower_class: str
    borrowers_2015: int  # relationships active on 2015-12-31 at scale 1.0
    borrowers_2020: int  # relationships active on 2020-12-31 at scale 1.0
    median_amount: float  # yuan, 2016 money
    sigma: float  # log-normal spread of the amount
    growth: float  # yearly growth of a borrower's loan amount
    churn: float  # yearly rate at which relationships end
    instalment_share: float  # share of relationships repaid monthly
    terms: tuple[int, ...]  # term in months, drawn uniformly
    credit_p: tuple[float, float]  # credit-loan probability 2015, slope per year
    rounding: int  # contract amounts rounded to this many yuan


SEGMENTS = (
    Segment(
        number=0,
        name="farm",
        borrower_class=FARM,
        borrowers_2015=26_500,
        borrowers_2020=34_000,
        median_amount=205_000,
        sigma=0.65,
        growth=0.045,
        churn=0.07,
        instalment_share=0.3,
        terms=(12, 24, 36),
        credit_p=(0.30, 0.035),
        rounding=1_000,
    ),
    Segment(
        number=1,
        name="low_income",
        borrower_class=FARM,
        borrowers_2015=0,  # low-income borrowers follow the register instead
        borrowers_2020=0,
        median_amount=40_000,
        sigma=0.0,
        growth=0.0,
        churn=0.0,
        instalment_share=0.0,
        terms=(12, 24, 36),
        credit_p=(1.0, 0.0),
        rounding=1_000,
    ),
    Segment(
        number=2,
        name="enterprise",
        borrower_class=SMALL_MICRO,
        borrowers_2015=4_300,
        borrowers_2020=5_500,
        median_amount=1_950_000,
        sigma=0.85,
        growth=0.03,
        churn=0.07,
        instalment_share=0.1,
        terms=(6, 12, 12, 12, 36),
        credit_p=(0.04, 0.012),
        rounding=10_000,
    ),
    Segment(
        number=3,
        name="individual_business",
        borrower_class=INDIVIDUAL_BUSINESS,
        borrowers_2015=2_000,
        borrowers_2020=2_600,
        median_amount=500_000,
        sigma=0.7,
        growth=0.05,
        churn=0.08,
        instalment_share=0.2,
        terms=(12, 12, 24),
        credit_p=(0.15, 0.03),
        rounding=1_000,
    ),
    Segment(
        number=4,
        name="sme_owner",
        borrower_class=OTHER_PERSON,
        borrowers_2015=700,
        borrowers_2020=900,
        median_amount=800_000,
        sigma=0.6,
        growth=0.04,
        churn=0.08,
        instalment_share=0.2,
        terms=(12, 24),
        credit_p=(0.12, 0.03),
        rounding=1_000,
    ),
    Segment(
        number=5,
        name="consumer",
        borrower_class=OTHER_PERSON,
        borrowers_2015=14_000,
        borrowers_2020=19_500,
        median_amount=150_000,
        sigma=0.6,
        growth=0.05,
        churn=0.10,
        instalment_share=0.7,
        terms=(12, 24, 36),
        credit_p=(0.35, 0.01),
        rounding=1_000,
    ),
)


@dataclass
class LendingModel:
    """The whole 2016-2020 loan book of one world, as columns."""

    customers: dict[str, np.ndarray]
    loans: dict[str, np.ndarray]
    ratings: dict[str, np.ndarray]


_CACHE: dict[tuple[int, float], LendingModel] = {}


def model(world) -> LendingModel:
    """The lending model of ``world``, built once per (seed, scale)."""
    key = (world.seed, world.scale)
    if key not in _CACHE:
        _CACHE.clear()  # one world at a time keeps memory bounded
        _CACHE[key] = _build(world)
    return _CACHE[key]


# ---------------------------------------------------------------- date helpers


def _to_d64(days: np.ndarray) -> np.ndarray:
    return (np.asarray(days, dtype=np.int64) - _EPOCH_ORDINAL).astype("datetime64[D]")


def _from_d64(d: np.ndarray) -> np.ndarray:
    return d.astype(np.int64) + _EPOCH_ORDINAL


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Same day of the month ``months`` later (the month's last day when it is shorter)."""
    d = _to_d64(days)
    first = d.astype("datetime64[M]")
    dom = (d - first.astype("datetime64[D]")).astype(np.int64)
    target = first + np.asarray(months, dtype=np.int64)
    last = (target + 1).astype("datetime64[D]") - 1
    return np.minimum(_from_d64(target.astype("datetime64[D]") + dom), _from_d64(last))


def _year(days: np.ndarray) -> np.ndarray:
    return _to_d64(days).astype("datetime64[Y]").astype(np.int64) + 1970


def _year_month(days: np.ndarray) -> np.ndarray:
    return _to_d64(days).astype("datetime64[M]").astype(np.int64)


def _day_of_month(days: np.ndarray) -> np.ndarray:
    d = _to_d64(days)
    return (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1


# ---------------------------------------------------------------- the model


def _relationship_dates(
    rng: np.random.Generator, seg: Segment, scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end and baseline flag of each relationship of a segment.

    ``borrowers_2015`` relationships are active at the baseline; they and the new ones end
    at rate ``churn`` a year, and enough new ones start (uniformly over 2016-2020) for
    ``borrowers_2020`` to be active at the end.
    """
    n0 = round(seg.borrowers_2015 * scale)
    survive = np.exp(-5 * seg.churn)
    mean_survive = (1 - survive) / (5 * seg.churn)
    n_new = max(0, round((seg.borrowers_2020 * scale - n0 * survive) / mean_survive))
    n = n0 + n_new
    baseline = np.arange(n) < n0
    start = np.where(baseline, BASELINE, rng.integers(START, END + 1, n))
    life = (rng.exponential(1 / seg.churn, n) * 365.25).astype(np.int64)
    end = np.where(baseline, START + life, start + life)
    end = np.where(end > END, NO_DATE, end)
    return start, end, baseline


def _chains(
    rng: np.random.Generator,
    start: np.ndarray,
    end: np.ndarray,
    baseline: np.ndarray,
    term: np.ndarray,
) -> dict[str, np.ndarray]:
    """Expand relationships into back-to-back loans (relationship index, disbursement,
    maturity, settlement, overdue flag)."""
    n = len(start)
    term_days = term * 30
    disb = np.where(baseline, BASELINE - (rng.random(n) * term_days).astype(np.int64), start)
    rel_out, disb_out, mat_out, settle_out, overdue_out = [], [], [], [], []
    idx = np.arange(n)
    active = disb < np.minimum(end, END + 1)
    first = True
    while active.any():
        rows = idx[active]
        d = disb[rows]
        m = _add_months(d, term[rows])
        u = rng.random(len(rows))
        overdue = u < 0.012
        early = (u > 0.93) & ~first
        delay = 1 + rng.geometric(1 / 60, len(rows))
        early_day = d + 60 + (rng.random(len(rows)) * np.maximum(m - d - 61, 1)).astype(np.int64)
        settle = np.where(overdue, m + delay, np.where(early, early_day, m))
        rel_out.append(rows)
        disb_out.append(d)
        mat_out.append(m)
        settle_out.append(settle)
        overdue_out.append(overdue)
        gap = np.where(
            overdue, 30 + rng.integers(0, 120, len(rows)), rng.integers(0, 15, len(rows))
        )
        nxt = settle + gap
        disb[rows] = nxt
        active[rows] = (nxt < end[rows]) & (nxt <= END) & ~(overdue & (rng.random(len(rows)) < 0.5))
        first = False
    return {
        "rel": np.concatenate(rel_out),
        "disb": np.concatenate(disb_out),
        "maturity": np.concatenate(mat_out),
        "settle": np.concatenate(settle_out),
        "overdue": np.concatenate(overdue_out),
    }


def _pick_borrowers(
    rng: np.random.Generator, eligible_old: np.ndarray, eligible: np.ndarray, baseline: np.ndarray
) -> np.ndarray:
    """Distinct borrowers: baseline relationships (listed first) from those that existed
    before the baseline book was lent, the others from everyone else eligible."""
    n0 = int(baseline.sum())
    old = _pick(rng, np.flatnonzero(eligible_old), n0)
    rest = eligible.copy()
    rest[old] = False
    return np.concatenate([old, _pick(rng, np.flatnonzero(rest), len(baseline) - n0)])


def _pick(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    """``n`` distinct members of ``pool`` (with repeats only if the pool is too small)."""
    if n <= len(pool):
        return rng.choice(pool, size=n, replace=False)
    return rng.choice(pool, size=n, replace=True)


def _build(world) -> LendingModel:
    """Draw every relationship, loan, customer and rating of the world (see module doc)."""
    county, pop = world.county, world.population
    scale = world.scale
    h = county.households
    persons = pop.persons
    ent = pop.enterprises
    n_households = len(h["index"])
    community = {v.code: v.is_community for v in county.villages}
    hh_community = np.array([community[c] for c in h["village_code"]])
    hh_village = np.asarray(h["village_code"])
    person_household = np.asarray(persons["household"])
    n_persons = len(person_household)

    ent_kind = np.asarray(ent["kind"])
    ent_owner = np.asarray(ent["owner"])
    ent_village = np.asarray(ent["village_code"])
    taken = np.zeros(n_persons, dtype=bool)
    taken[ent_owner] = True  # owners borrow only as their business or as owners

    li = pop.low_income
    li_household = np.asarray(li["household"])
    is_low_income = np.zeros(n_households, dtype=bool)
    is_low_income[li_household] = True

    rel_parts: list[dict[str, np.ndarray]] = []
    for seg in SEGMENTS:
        rng = world.rng(STREAM_RELATIONSHIPS, seg.number)
        if seg.name == "low_income":
            takes = (rng.random(len(li_household)) < LOW_INCOME_PARTICIPATION) & ~taken[
                li_household
            ]
            hh = li_household[takes]
            lf, lt = np.asarray(li["listed_from"])[takes], np.asarray(li["listed_to"])[takes]
            baseline = (lf <= BASELINE) & (rng.random(len(hh)) < 0.45)
            start = np.where(
                baseline, BASELINE, np.maximum(lf, START) + rng.integers(0, 240, len(hh))
            )
            end = np.where(lt < NO_DATE, lt, NO_DATE)
            keep = start < np.minimum(end, END)
            hh, start, end, baseline = hh[keep], start[keep], end[keep], baseline[keep]
            person, enterprise = hh, np.full(len(hh), -1)  # heads: person index = household
        else:
            start, end, baseline = _relationship_dates(rng, seg, scale)
            n = len(start)
            if seg.name in ("enterprise", "individual_business", "sme_owner"):
                kinds = {
                    "enterprise": ("enterprise", "cooperative"),
                    "individual_business": ("individual",),
                    "sme_owner": ("enterprise",),
                }[seg.name]
                # owners who head a low-income household do not borrow for a business
                owner_listed = (ent_owner < n_households) & is_low_income[
                    np.minimum(ent_owner, n_households - 1)
                ]
                eligible = np.isin(ent_kind, kinds) & ~owner_listed
                established = np.asarray(ent["established"])
                enterprise = _pick_borrowers(
                    rng, eligible & (established <= OLD), eligible, baseline
                )
                established = established[enterprise]
                start = np.where(baseline, start, np.maximum(start, established + 90))
                person = ent_owner[enterprise] if seg.name != "enterprise" else np.full(n, -1)
            else:
                rural = ~hh_community if seg.name == "farm" else hh_community
                eligible = rural & ~taken[:n_households] & ~is_low_income
                old = eligible & (h["register"] <= OLD) & (h["cancel"] > BASELINE)
                person = _pick_borrowers(rng, old, eligible, baseline)
                enterprise = np.full(n, -1)
                taken[person] = True
            keep = start < np.minimum(end, END + 1)
            start, end, baseline = start[keep], end[keep], baseline[keep]
            person, enterprise = person[keep], enterprise[keep]
        rel_parts.append(
            {
                "segment": np.full(len(start), seg.number),
                "start": start,
                "end": end,
                "baseline": baseline,
                "person": np.asarray(person, dtype=np.int64),
                "enterprise": np.asarray(enterprise, dtype=np.int64),
            }
        )
    rel = {k: np.concatenate([p[k] for p in rel_parts]) for k in rel_parts[0]}
    # a household head borrows only while the household is registered
    head = (rel["person"] >= 0) & (rel["person"] < n_households)
    hh = np.where(head, rel["person"], 0)
    register = np.where(head, h["register"][hh], 0)
    rel["baseline"] &= register <= OLD
    rel["start"] = np.where(rel["baseline"], rel["start"], np.maximum(rel["start"], register + 30))
    rel["end"] = np.minimum(rel["end"], np.where(head, h["cancel"][hh], NO_DATE))
    keep = rel["start"] < np.minimum(rel["end"], END + 1)
    rel = {k: v[keep] for k, v in rel.items()}
    # one customer per borrower: a person, or an enterprise for enterprise loans
    cust_key = np.where(rel["segment"] == 2, n_persons + rel["enterprise"], rel["person"])
    keys, rel_customer = np.unique(cust_key, return_inverse=True)
    loans, rel_amount = _loans(world, rel)
    customers = _customers(world, rel, rel_customer, len(keys), loans, rel_amount)
    loans["customer"] = rel_customer[loans["rel"]]
    seg_of_loan = rel["segment"][loans["rel"]]
    hh_of_person = np.where(rel["person"] >= 0, person_household[np.maximum(rel["person"], 0)], -1)
    loan_hh = hh_of_person[loans["rel"]]
    rural_person = (loan_hh >= 0) & ~hh_community[np.maximum(loan_hh, 0)]
    loan_village = np.where(
        rel["enterprise"][loans["rel"]] >= 0,
        ent_village[np.maximum(rel["enterprise"][loans["rel"]], 0)],
        hh_village[np.maximum(loan_hh, 0)],
    )
    rural_place = ~np.array([community[c] for c in loan_village])
    ent_of_loan = rel["enterprise"][loans["rel"]]
    agri_industry = (ent_of_loan >= 0) & np.asarray(ent["is_agricultural"])[
        np.maximum(ent_of_loan, 0)
    ]
    farm = (seg_of_loan == 0) | (seg_of_loan == 1)
    basis = np.where(
        farm & rural_person,
        AGRI_FARM,
        np.where(
            np.isin(seg_of_loan, (2, 3)) & rural_place,
            AGRI_RURAL_ORG,
            np.where(agri_industry & np.isin(seg_of_loan, (2, 3, 4)), AGRI_INDUSTRY, ""),
        ),
    )
    loans["agri_basis"] = basis
    listed_from = np.full(n_households, NO_DATE, dtype=np.int64)
    listed_to = np.full(n_households, NO_DATE, dtype=np.int64)
    listed_from[li_household] = li["listed_from"]
    listed_to[li_household] = li["listed_to"]
    head = np.maximum(loan_hh, 0)
    loans["low_income_at_disb"] = (
        (loan_hh >= 0)
        & (rel["person"][loans["rel"]] == loan_hh)  # the borrower is the household head
        & (listed_from[head] <= loans["disb"])
        & (loans["disb"] < listed_to[head])
    )
    loans["is_small_micro"] = np.isin(seg_of_loan, (2, 3, 4))
    loans["inclusive"] = loans["is_small_micro"] & (
        customers["credit_line"][loans["customer"]] <= INCLUSIVE_CAP
    )
    ratings = _ratings(world, hh_community)
    return LendingModel(customers, loans, ratings)


def _loans(world, rel: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every loan of every relationship, with its terms, sorted by disbursement."""
    parts = []
    rel_amount = np.zeros(len(rel["start"]), dtype=np.int64)
    for seg in SEGMENTS:
        rows = np.flatnonzero(rel["segment"] == seg.number)
        if not len(rows):
            continue
        rng = world.rng(STREAM_LOANS, seg.number)
        n = len(rows)
        term = rng.choice(seg.terms, size=n)
        instalment = rng.random(n) < seg.instalment_share
        if seg.name == "low_income":  # 扶贫小额信贷: 3-5万
            base = rng.integers(30, 51, n) * 1_000.0
        else:
            base = seg.median_amount * rng.lognormal(0.0, seg.sigma, n)
        chain = _chains(rng, rel["start"][rows], rel["end"][rows], rel["baseline"][rows], term)
        r = chain["rel"]
        m = len(r)
        year = _year(chain["disb"])
        amount = base[r] * (1 + seg.growth) ** (year - 2016)
        amount = np.maximum(np.round(amount / seg.rounding) * seg.rounding, 10_000)
        amount_fen = (amount * YUAN).astype(np.int64)
        c0, slope = seg.credit_p
        guarantee_u = rng.random(m)
        credit = guarantee_u < c0 + slope * (year - 2015)
        if seg.name == "farm":
            credit &= amount_fen <= 500_000 * YUAN
        secured = rng.random(m)
        guarantee = np.where(
            credit,
            CREDIT,
            np.where(secured < 0.55, GUARANTEED, np.where(secured < 0.95, MORTGAGE, PLEDGE)),
        )
        green = rng.random(m) < np.vectorize(GREEN_P.get)(np.clip(year, 2012, 2020))
        categories = GREEN_FARM if seg.borrower_class == FARM else GREEN_BUSINESS
        green_cat = np.where(green, rng.choice(categories, size=m), "")
        if seg.name == "farm":
            young = rng.random(m) < 0.12
            product = np.where(
                guarantee == MORTGAGE, np.where(young, "P01", "P06"), np.where(young, "P04", "P01")
            )
        elif seg.name == "low_income":
            product = np.full(m, "P05")
        elif seg.name == "individual_business":
            product = np.where(rng.random(m) < 0.6, "P02", "P03")
        elif seg.name == "consumer":
            product = np.full(m, "P02")
        else:
            product = np.full(m, "P03")
        purpose = np.full(m, CONSUMPTION if seg.name == "consumer" else BUSINESS)
        if seg.name == "farm":
            purpose = np.where(rng.random(m) < 0.15, CONSUMPTION, BUSINESS)
        base_rate = np.where(year >= 2020, 4.05, np.where(year >= 2016, 4.35, 5.10))
        markup = {"farm": 1.35, "low_income": 1.0, "enterprise": 1.3, "consumer": 1.4}.get(
            seg.name, 1.45
        )
        noise = 1 + 0.05 * rng.standard_normal(m)
        if seg.name == "low_income":  # the benchmark rate, no float (plus a fiscal subsidy)
            rate = np.round(base_rate, 4)
        else:
            rate = np.round(base_rate * markup * np.where(credit, 1.08, 1.0) * noise, 4)
        np.maximum.at(rel_amount, rows[r], amount_fen)
        parts.append(
            {
                "rel": rows[r],
                "disb": chain["disb"],
                "maturity": chain["maturity"],
                "settle": np.where(chain["settle"] > END, NO_DATE, chain["settle"]),
                "term": term[r],
                "instalment": instalment[r],
                "amount": amount_fen,
                "guarantee": guarantee,
                "green": green_cat,
                "product": product,
                "purpose": purpose,
                "rate": rate,
                "t_event": rng.integers(0, 9 * 3600, m),
                "u_channel": rng.random(m),
            }
        )
    loans = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((loans["rel"], loans["disb"]))
    loans = {k: v[order] for k, v in loans.items()}
    d = loans["disb"]
    loans["pay_dom"] = np.minimum(_day_of_month(d), 28)
    loans["ym"] = _year_month(d)
    loans["instalment_fen"] = np.where(loans["instalment"], loans["amount"] // loans["term"], 0)
    return loans, rel_amount


def _customers(
    world,
    rel: dict[str, np.ndarray],
    rel_customer: np.ndarray,
    nc: int,
    loans: dict[str, np.ndarray],
    rel_amount: np.ndarray,
) -> dict[str, np.ndarray]:
    """One row per borrower: who it is, its class, credit line and open date."""
    rng = world.rng(STREAM_CUSTOMERS)
    first_disb = np.full(nc, NO_DATE, dtype=np.int64)
    np.minimum.at(first_disb, rel_customer[loans["rel"]], loans["disb"])
    segment = np.zeros(nc, dtype=np.int64)
    person = np.full(nc, -1, dtype=np.int64)
    enterprise = np.full(nc, -1, dtype=np.int64)
    segment[rel_customer] = rel["segment"]
    person[rel_customer] = rel["person"]
    enterprise[rel_customer] = rel["enterprise"]
    line = np.zeros(nc, dtype=np.int64)
    np.add.at(line, rel_customer, rel_amount)
    farm = np.isin(segment, (0, 1))
    # 整村授信 lines: mostly 5-30万 with a long tail, never below what was lent
    village_line = (np.round(rng.lognormal(np.log(150_000), 0.55, nc) / 10_000) * 10_000).astype(
        np.int64
    )
    village_line = np.maximum(village_line, 50_000) * YUAN
    margin = (np.ceil(line * rng.uniform(1.0, 1.3, nc) / (10_000 * YUAN)) * 10_000 * YUAN).astype(
        np.int64
    )
    line = np.where(farm, np.maximum(village_line, margin), margin)
    early = first_disb <= BASELINE
    open_day = np.where(
        early,
        np.minimum(first_disb, BASELINE) - rng.integers(0, 3 * 365, nc),
        first_disb - rng.integers(0, 45, nc),
    )
    # nobody opens before coming of age or registering their household, no firm before it exists
    pop, register = world.population, world.county.households["register"]
    p = np.maximum(person, 0)
    adult = _add_months(np.asarray(pop.persons["birth"])[p], np.full(nc, 18 * 12))
    head_register = np.where(p < len(register), register[np.minimum(p, len(register) - 1)], adult)
    established = np.asarray(pop.enterprises["established"])[np.maximum(enterprise, 0)]
    earliest = np.where(person >= 0, np.maximum(adult, head_register), established)
    open_day = np.minimum(np.maximum(open_day, earliest), first_disb)
    return {
        "segment": segment,
        "person": person,
        "enterprise": enterprise,
        "credit_line": line,
        "open": open_day,
        "t_open": rng.integers(0, 9 * 3600, nc),
    }


def _ratings(world, hh_community: np.ndarray) -> dict[str, np.ndarray]:
    """Credit-household ratings (31 Dec of each year) and credit-village ratings (31 Jan).

    A rated household is an archived, agricultural household of an administrative village
    on the rating date. It is a 信用户 when its persistent creditworthiness (plus a little
    yearly noise) clears that year's share, shifted by its village's effect; a village is
    a 信用村 when its credit households reach ``CREDIT_VILLAGE_THRESHOLD`` of those rated.
    """
    rng = world.rng(STREAM_RATINGS)
    h = world.county.households
    villages = [v for v in world.county.villages if not v.is_community]
    code_index = {v.code: i for i, v in enumerate(villages)}
    n = len(h["index"])
    hh_vidx = np.array([code_index.get(c, -1) for c in h["village_code"]])
    v_effect = rng.normal(0.0, 0.10, len(villages))
    score = rng.random(n)
    agricultural = np.asarray(h["household_type"]) == "1"
    rows_out: dict[str, list[np.ndarray]] = {
        k: [] for k in ("kind", "obj", "year", "grade", "day", "share")
    }
    village_share: dict[int, np.ndarray] = {}
    for year in RATING_YEARS:
        day = day_number(dt.date(year, 12, 31))
        rated = (
            agricultural
            & ~hh_community
            & (h["archive"] <= day)
            & (h["revoke"] > day)
            & (h["cancel"] > day)
            & (h["register"] <= day)
        )
        idx = np.flatnonzero(rated)
        p = CREDIT_HOUSEHOLD_P[year] + v_effect[hh_vidx[idx]]
        s = score[idx] + 0.04 * rng.standard_normal(len(idx))
        credit = s < p
        grade = np.where(
            ~credit, "N", np.where(s < 0.3 * p, "AAA", np.where(s < 0.65 * p, "AA", "A"))
        )
        rows_out["kind"].append(np.full(len(idx), "1"))
        rows_out["obj"].append(idx)
        rows_out["year"].append(np.full(len(idx), year))
        rows_out["grade"].append(grade)
        rows_out["day"].append(np.full(len(idx), day))
        rows_out["share"].append(np.full(len(idx), -1.0))
        rated_count = np.bincount(hh_vidx[idx], minlength=len(villages))
        credit_count = np.bincount(hh_vidx[idx][credit], minlength=len(villages))
        village_share[year] = credit_count / np.maximum(rated_count, 1)
    for year, share in village_share.items():
        is_credit = share >= CREDIT_VILLAGE_THRESHOLD
        rows_out["kind"].append(np.full(len(villages), "2"))
        rows_out["obj"].append(np.arange(len(villages)))
        rows_out["year"].append(np.full(len(villages), year))
        rows_out["grade"].append(np.where(is_credit, "Y", "N"))
        rows_out["day"].append(np.full(len(villages), day_number(dt.date(year + 1, 1, 31))))
        rows_out["share"].append(share)
    out = {k: np.concatenate(v) for k, v in rows_out.items()}
    out["village_codes"] = np.array([v.code for v in villages])
    return out


# ---------------------------------------------------------------- per-day state


def balances_on(m: LendingModel, day_no: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the loans outstanding at the end of ``day_no``, and their balances (fen).

    Bullet loans keep their contract amount until settled; instalment loans repay
    ``amount // term`` on each monthly payment day, the last instalment at settlement.
    """
    loans = m.loans
    rows = np.flatnonzero((loans["disb"] <= day_no) & (loans["settle"] > day_no))
    d = np.array([day_no])
    ym, dom = int(_year_month(d)[0]), int(_day_of_month(d)[0])
    paid = (ym - loans["ym"][rows]) - (dom < loans["pay_dom"][rows])
    paid = np.clip(paid, 0, loans["term"][rows] - 1)
    balance = loans["amount"][rows] - paid * loans["instalment_fen"][rows]
    return rows, balance


def kpis_on(m: LendingModel, day_no: int) -> dict[str, float]:
    """The lending KPIs' values at the end of ``day_no`` (money in yuan)."""
    loans, cust = m.loans, m.customers
    rows, bal = balances_on(m, day_no)
    bal = bal / YUAN
    c = loans["customer"][rows]
    credit = loans["guarantee"][rows] == CREDIT
    small_credit = credit & (loans["amount"][rows] <= SMALL_CREDIT_CAP)
    seg = cust["segment"][c]
    farm = np.isin(seg, (0, 1))
    small_micro = loans["is_small_micro"][rows]
    agri = loans["agri_basis"][rows] != ""
    cumulative = (loans["disb"] >= START) & (loans["disb"] <= day_no) & loans["low_income_at_disb"]
    r = m.ratings
    hh = (r["kind"] == "1") & (r["day"] <= day_no)
    last_year = r["year"][hh].max() if hh.any() else None
    hh_year = hh & (r["year"] == last_year)
    vil = (r["kind"] == "2") & (r["day"] <= day_no)
    vil_year = vil & (r["year"] == (r["year"][vil].max() if vil.any() else -1))
    return {
        "total_balance": bal.sum(),
        "credit_balance": bal[credit].sum(),
        "K03_low_income_disbursed": loans["amount"][cumulative].sum() / YUAN,
        "K05_agri_or_small_micro": bal[agri | small_micro].sum(),
        "K08_green_share": bal[loans["green"][rows] != ""].sum() / max(bal.sum(), 1),
        "K13_small_credit_balance": bal[small_credit].sum(),
        "K13_small_credit_borrowers": len(np.unique(c[small_credit])),
        "K14_farm_balance": bal[farm].sum(),
        "K14_farm_borrowers": len(np.unique(c[farm])),
        "K15_small_micro_balance": bal[small_micro].sum(),
        "K15_small_micro_borrowers": len(np.unique(c[small_micro])),
        "K15_inclusive_balance": bal[loans["inclusive"][rows]].sum(),
        "K16_credit_village_share": float((r["grade"][vil_year] == "Y").mean())
        if vil_year.any()
        else 0.0,
        "K17_credit_household_share": float((r["grade"][hh_year] != "N").mean())
        if hh_year.any()
        else 0.0,
    }


def loan_status(m: LendingModel, rows: np.ndarray, day_no: int) -> np.ndarray:
    """Status code of loans on a day: 1 normal, 2 overdue, 3 settled."""
    loans = m.loans
    settled = loans["settle"][rows] <= day_no
    overdue = ~settled & (loans["maturity"][rows] < day_no)
    return np.where(settled, "3", np.where(overdue, "2", "1"))


# ---------------------------------------------------------------- file lines


def _money(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def customer_lines(world, m: LendingModel, day_no: int, initial: bool) -> list[str]:
    """CBS_CUSTOMER rows: customers opened that day (every customer so far if ``initial``)."""
    c = m.customers
    rows = np.flatnonzero(c["open"] <= day_no) if initial else np.flatnonzero(c["open"] == day_no)
    persons, ent = world.population.persons, world.population.enterprises
    hh_village = world.county.households["village_code"]
    lines = []
    for i in rows:
        seg, p, e = int(c["segment"][i]), int(c["person"][i]), int(c["enterprise"][i])
        is_person = seg != 2
        village = ent["village_code"][e] if e >= 0 else hh_village[persons["household"][p]]
        size = ("S" if ent["size"][e] == "small" else "T") if seg in (2, 3, 4) and e >= 0 else ""
        lines.append(
            "|".join(
                (
                    f"C{i + 1:09d}",
                    "1" if is_person else "2",
                    persons["id_no"][p] if is_person else "",
                    persons["name"][p] if is_person else ent["name"][e],
                    persons["mobile"][p] if is_person else "",
                    ent["uscc"][e] if e >= 0 else "",
                    ent["name"][e] if e >= 0 else "",
                    SEGMENTS[seg].borrower_class,
                    size,
                    "1" if seg == 3 else "0",
                    "1" if seg == 4 else "0",
                    village,
                    _money(int(c["credit_line"][i])),
                    _ymd(int(c["open"][i])),
                    _stamp(int(c["open"][i]), int(c["t_open"][i])),
                )
            )
        )
    return lines


def loan_lines(m: LendingModel, day_no: int, initial: bool) -> list[str]:
    """CBS_LOAN rows: contracts disbursed, first overdue or settled that day (all: ``initial``)."""
    loans = m.loans
    first_overdue = np.where(
        loans["settle"] > loans["maturity"] + 1, loans["maturity"] + 1, NO_DATE
    )
    if initial:
        rows = np.flatnonzero(loans["disb"] <= day_no)
    else:
        rows = np.flatnonzero(
            (loans["disb"] == day_no) | (loans["settle"] == day_no) | (first_overdue == day_no)
        )
    status = loan_status(m, rows, day_no)
    seg = m.customers["segment"][loans["customer"][rows]]
    lines = []
    for k, i in enumerate(rows):
        settled = status[k] == "3"
        last = int(loans["settle"][i]) if settled else int(loans["disb"][i])
        if status[k] == "2":
            last = int(first_overdue[i])
        lines.append(
            "|".join(
                (
                    f"L{i + 1:010d}",
                    f"C{loans['customer'][i] + 1:09d}",
                    str(loans["product"][i]),
                    PRODUCTS[str(loans["product"][i])],
                    SEGMENTS[int(seg[k])].borrower_class,
                    str(loans["guarantee"][i]),
                    str(loans["purpose"][i]),
                    "1" if loans["agri_basis"][i] else "0",
                    str(loans["agri_basis"][i]),
                    str(loans["green"][i]),
                    "1" if loans["inclusive"][i] else "0",
                    _money(int(loans["amount"][i])),
                    _ymd(int(loans["disb"][i])),
                    _ymd(int(loans["maturity"][i])),
                    str(int(loans["term"][i])),
                    "2" if loans["instalment"][i] else "1",
                    f"{loans['rate'][i]:.4f}",
                    str(status[k]),
                    _ymd(int(loans["settle"][i])) if settled else "",
                    _stamp(last, int(loans["t_event"][i])),
                )
            )
        )
    return lines


def balance_lines(m: LendingModel, day_no: int) -> list[str]:
    """CBS_LOAN_BALANCE rows: every loan outstanding at the end of the day."""
    rows, balance = balances_on(m, day_no)
    maturity = m.loans["maturity"][rows]
    overdue_days = np.maximum(day_no - maturity, 0)
    date = _ymd(day_no)
    return [
        f"L{i + 1:010d}|{date}|{_money(int(b))}|{int(o)}"
        for i, b, o in zip(rows.tolist(), balance.tolist(), overdue_days.tolist(), strict=True)
    ]


def txn_lines(m: LendingModel, day_no: int) -> list[str]:
    """Disbursements (01), instalments (02) and final or early repayments (03) of a day.

    Repayments are the day's falls in balance, so a loan's journal adds up to its
    contract amount and always agrees with ``CBS_LOAN_BALANCE``.
    """
    loans = m.loans
    date = _ymd(day_no)
    year = dt.date.fromordinal(day_no).year
    rows, balance = balances_on(m, day_no)
    prev_rows, prev_balance = balances_on(m, day_no - 1)
    _, i_now, i_prev = np.intersect1d(rows, prev_rows, assume_unique=True, return_indices=True)
    fall = prev_balance[i_prev] - balance[i_now]
    paid = fall > 0
    settled = np.isin(prev_rows, np.flatnonzero(loans["settle"] == day_no))
    disbursed = np.flatnonzero(loans["disb"] == day_no)
    events = sorted(
        [(int(i), "01", int(loans["amount"][i])) for i in disbursed]
        + [(int(i), "02", int(a)) for i, a in zip(rows[i_now][paid], fall[paid], strict=True)]
        + [
            (int(i), "03", int(a))
            for i, a in zip(prev_rows[settled], prev_balance[settled], strict=True)
        ]
    )
    mobile_p = min(0.08 + 0.12 * (year - 2016), 0.6)
    lines = []
    for seq, (i, kind, amount) in enumerate(events, start=1):
        u = float(loans["u_channel"][i])
        if kind == "01":
            channel = "ME" if u < mobile_p and loans["guarantee"][i] == CREDIT else "TE"
        else:
            channel = "SYS" if u < 0.75 else ("ME" if u < 0.75 + mobile_p / 3 else "TE")
        lines.append(f"LT{date}{seq:06d}|L{i + 1:010d}|{date}|{kind}|{_money(amount)}|{channel}")
    return lines


def rating_lines(world, m: LendingModel, day_no: int) -> list[str]:
    """CBS_CREDIT_RATING rows dated that day (households on 31 Dec, villages on 31 Jan)."""
    r = m.ratings
    rows = np.flatnonzero(r["day"] == day_no)
    hh_village = world.county.households["village_code"]
    date = _ymd(day_no)
    lines = []
    for i in rows:
        year, obj = int(r["year"][i]), int(r["obj"][i])
        if r["kind"][i] == "1":
            lines.append(
                f"R{year}1{obj + 1:09d}|1|H{obj + 1:09d}|{hh_village[obj]}|{year}"
                f"|{r['grade'][i]}||{date}"
            )
        else:
            code = r["village_codes"][obj]
            lines.append(
                f"R{year}2{obj + 1:09d}|2||{code}|{year}|{r['grade'][i]}|{r['share'][i]:.4f}|{date}"
            )
    return lines


def write_day(world, out: Path, day: dt.date, initial: bool) -> list[WrittenFile]:
    """The lending files of one business date (``initial``: the first unload)."""
    m = model(world)
    d = day_number(day)
    return [
        write_table(out, "CUSTOMER", day, customer_lines(world, m, d, initial)),
        write_table(out, "LOAN", day, loan_lines(m, d, initial)),
        write_table(out, "LOAN_BALANCE", day, balance_lines(m, d)),
        write_table(out, "LOAN_TXN", day, txn_lines(m, d)),
        write_table(out, "CREDIT_RATING", day, rating_lines(world, m, d)),
    ]
