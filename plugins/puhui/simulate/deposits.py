"""Deposit accounts, 丰收卡 IC cards and the transaction journal of the core banking system.

Writes three core-banking files per business date (source CBS, see ``write_table``'s
layout): ``CBS_ACCOUNT`` and ``CBS_CARD`` (changed rows, 增变量) and ``CBS_TXN`` (the
journal, 增量). Accounts, cards and e-banking enrolment dates are modelled once per world;
a day's customer transactions are drawn from ``world.rng(301, day)`` alone, so any day can
be generated without simulating the days before it.

The batch agency postings (channel ``BA``: payroll, pensions, subsidies, utility
withholding) are not drawn here: they are the successful own-bank rows of the partner files
the agency writer delivers on the same date (``agency.own_card_postings``), so the journal
and the partners' files agree row by row. Cards those files post onto are never cancelled
or reported lost while they do (see :func:`_agency_until`).

Calibration (all figures labelled "assumption" are synthetic): the counter (TE) share of
non-batch financial transactions falls from 30 % (end-2015) to about 15 % (end-2020),
which drives K07 (e-banking substitution); the in-bank share of card outflows (K18) rises
as own-bank merchants, in-bank transfers and mobile payments grow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puhui.simulate import agency, core_banking
from puhui.simulate.core_banking import WrittenFile
from puhui.simulate.county import NO_DATE, PERIOD_END, PERIOD_START, _uniform_days, day_number

STREAM_ACCOUNTS = 300  # accounts, time deposits, enterprise accounts
STREAM_CARDS = 302  # card events, activity weights, batch sign-ups
STREAM_ENROL = 303  # 丰收互联 enrolment dates (read by the e-banking writer too)
STREAM_DAY = 301  # one business date's journal: world.rng(301, day ordinal)

TABLES = ("ACCOUNT", "CARD", "TXN")
BASELINE_DAY = day_number(dt.date(2015, 12, 31))
TARGET_DAY = day_number(PERIOD_END)

OWN_BANK_CODE = "314337100011"  # Shangyu RCB CNAPS-like bank code (assumption)
OTHER_BANK_CODES = np.array(
    [
        "102337100017",  # ICBC (assumptions: 12-digit codes shaped like CNAPS)
        "103337100015",  # ABC
        "104337100013",  # BOC
        "105337100011",  # CCB
        "403337100016",  # PSBC
        "402331000007",  # another Zhejiang rural credit institution
        "313337100012",  # city commercial bank
    ]
)
THIRD_PARTY_CODES = {"IB": "Z2004944000010", "ND": "Z2000133000019", "PT": "Z2000533000011"}

# channel codes (domain reference §3.1); BA marks batch agency postings (代发/代扣 batches)
COUNTER = "TE"
BATCH = "BA"
ELECTRONIC = ("ME", "IE", "AT", "CA", "UP", "IP", "ST", "IB", "ND", "PT")
CHANNELS = (COUNTER, *ELECTRONIC, BATCH)
# mix of electronic channels at end-2015 and end-2020 (assumption), interpolated in between
E_MIX_2015 = np.array([0.14, 0.13, 0.10, 0.29, 0.15, 0.05, 0.05, 0.05, 0.02, 0.02])
E_MIX_2020 = np.array([0.40, 0.05, 0.06, 0.12, 0.10, 0.05, 0.07, 0.08, 0.04, 0.03])
COUNTER_SHARE_2015 = 0.300  # counter share of non-batch financial transactions (assumption)
COUNTER_SHARE_2020 = 0.138  # (assumption) K07 for the year 2020 ≈ 84.7 %, just under 85 %
REVERSAL_RATE = 0.005  # counter entries later reversed (抹账) (assumption)

# transaction types: code -> (name, direction I in / O out)
TXN_TYPES = {
    "01": ("现金存款", "I"),
    "02": ("现金取款", "O"),
    "03": ("转账转入", "I"),
    "04": ("转账转出", "O"),
    "05": ("POS消费", "O"),
    "06": ("代扣缴费", "O"),
    "07": ("代发工资", "I"),
    "08": ("惠农补贴", "I"),
    "09": ("养老金", "I"),
    "10": ("贷款还款", "O"),
    "11": ("理财申购", "O"),
    "12": ("快捷支付", "O"),
}
TYPE_CODES = np.array(list(TXN_TYPES))
TYPE_NAMES = np.array([v[0] for v in TXN_TYPES.values()])
TYPE_DIRECTION = np.array([v[1] for v in TXN_TYPES.values()])
# median amount (yuan) and log-sd per customer-initiated type (assumption); the batch
# types 07-09 (and batch 06) take their amounts from the agency files
TYPE_AMOUNT = {
    "01": (2000, 1.0),
    "02": (800, 0.8),
    "03": (1800, 1.1),
    "04": (1500, 1.1),
    "05": (180, 1.0),
    "06": (110, 0.6),
    "10": (2500, 0.8),
    "11": (20000, 0.9),
    "12": (90, 1.0),
}
# type mix per personal non-batch channel (assumption; rows are normalised)
_T = {code: k for k, code in enumerate(TXN_TYPES)}
CHANNEL_TYPES = {
    "TE": {"01": 0.30, "02": 0.30, "03": 0.08, "04": 0.15, "06": 0.05, "10": 0.07, "11": 0.05},
    "ME": {"03": 0.22, "04": 0.50, "06": 0.12, "10": 0.04, "11": 0.04, "05": 0.08},
    "IE": {"03": 0.25, "04": 0.55, "06": 0.08, "10": 0.04, "11": 0.08},
    "AT": {"01": 0.30, "02": 0.10, "04": 0.35, "06": 0.25},
    "CA": {"02": 0.88, "01": 0.05, "04": 0.07},
    "UP": {"05": 1.0},
    "IP": {"05": 1.0},
    "ST": {"02": 0.50, "01": 0.15, "06": 0.20, "04": 0.15},
    "IB": {"12": 1.0},
    "ND": {"12": 1.0},
    "PT": {"12": 1.0},
}
# share of counterparties inside the bank, end-2015 -> end-2020 (assumption)
OWN_TRANSFER_OUT = (0.30, 0.48)
OWN_TRANSFER_IN = (0.40, 0.50)
OWN_POS_MERCHANT = (0.20, 0.45)  # POS acquired by the bank's own (丰收) merchants; ME scan-pay

PERSONAL_RATE = (0.34, 0.46)  # non-batch transactions per active card per day (assumption)
ENTERPRISE_RATE = 1.2  # non-batch transactions per enterprise account per day (assumption)
WEEKEND_FACTOR = 0.85
TIME_DEPOSIT_SHARE = 0.25  # card holders with a time-deposit account (assumption)
CARD_CANCEL_SHARE = 0.07  # cards cancelled during 2016-2020 (assumption)
CARD_LOST_SHARE = 0.03  # cards reported lost during 2016-2020 (assumption)
ENTERPRISE_CLOSE_SHARE = 0.05
# journal type of each agency posting kind (agency.POSTING_KINDS)
POSTING_TYPES = {"payroll": "07", "subsidy": "08", "pension": "09", "withholding": "06"}
# 丰收互联 enrolments at scale 1.0 (assumption): by end-2015, then new ones per year
ENROLLED_BY_2015 = 38_000
ENROLLED_PER_YEAR = {2016: 22_000, 2017: 26_000, 2018: 29_000, 2019: 30_000, 2020: 32_000}
USER_CLOSE_SHARE = 0.03  # enrolments closed by the user during 2016-2020 (assumption)

# seconds of day: electronic channels by hour (assumption)
_HOURLY = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.5, 2, 4, 6, 7, 7, 7, 6, 5, 6, 6, 6, 6, 6, 6, 6, 5, 4, 2], float
)
_HHMMSS = np.array([f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}" for s in range(86400)])


def _zfill(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal strings of integers (also for empty arrays)."""
    if len(values) == 0:
        return np.zeros(0, dtype=f"<U{width}")
    return np.char.zfill(values, width)


def _frac(d: int) -> float:
    """How far ``d`` lies from end-2015 (0) to end-2020 (1), clipped."""
    return float(np.clip((d - BASELINE_DAY) / (TARGET_DAY - BASELINE_DAY), 0.0, 1.0))


def _lerp(pair: tuple[float, float], f: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * f


def counter_share(d: int) -> float:
    """Counter share of non-batch financial transactions on day ``d`` (drives K07)."""
    return _lerp((COUNTER_SHARE_2015, COUNTER_SHARE_2020), _frac(d) ** 0.85)


@dataclass
class DepositModel:
    """Every account, card and recurring posting of the plan period, as column arrays."""

    # cards: one per card holder of population.cards, each linked to a demand account
    card_no: np.ndarray
    card_person: np.ndarray
    card_id_no: np.ndarray
    card_account: np.ndarray
    card_branch: np.ndarray
    card_issued: np.ndarray
    card_lost: np.ndarray
    card_cancel: np.ndarray
    card_weight: np.ndarray
    card_t: np.ndarray
    enrol: np.ndarray  # 丰收互联 enrolment day of the card holder (NO_DATE: never)
    unenrol: np.ndarray  # day the enrolment was closed (NO_DATE: never)
    # accounts (personal demand = card accounts, personal time, enterprise demand)
    acct_no: np.ndarray
    acct_customer_type: np.ndarray
    acct_id_no: np.ndarray
    acct_type: np.ndarray
    acct_branch: np.ndarray
    acct_open: np.ndarray
    acct_close: np.ndarray
    acct_t: np.ndarray
    ent_account_rows: np.ndarray  # rows of the account arrays holding enterprise accounts


_MODELS: dict[tuple[int, float], DepositModel] = {}


def model(world) -> DepositModel:
    """The deposit model of ``world``, built once per (seed, scale)."""
    key = (world.seed, world.scale)
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = _build(world)
    return _MODELS[key]


def _enrolments(
    world, issued: np.ndarray, cancel: np.ndarray, birth: np.ndarray, has_mobile: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """丰收互联 enrolment and closing days per card holder: younger holders first.

    Enrolment never precedes the card; it closes when the card is cancelled or, for a few
    users (assumption: 3 %), on its own.
    """
    rng = world.rng(STREAM_ENROL)
    n = len(issued)
    wanted = {0: ENROLLED_BY_2015, **ENROLLED_PER_YEAR}
    total = int(round(sum(wanted.values()) * world.scale))
    age_2016 = (day_number(PERIOD_START) - birth) / 365.25
    weight = np.where(age_2016 < 45, 1.0, np.where(age_2016 < 60, 0.45, 0.12)) * has_mobile
    weight = weight * rng.random(n) ** 0.5
    if weight.sum() == 0 or total == 0:
        return np.full(n, NO_DATE, dtype=np.int64), np.full(n, NO_DATE, dtype=np.int64)
    keys = rng.random(n) ** (1.0 / np.maximum(weight, 1e-12))  # weighted sample w/o replacement
    chosen = np.argsort(-keys, kind="stable")[: min(total, int((weight > 0).sum()))]
    parts = []
    for year, count in wanted.items():
        m = int(round(count * world.scale))
        lo, hi = (
            (dt.date(2014, 3, 1), dt.date(2015, 12, 31))
            if year == 0
            else (dt.date(year, 1, 1), dt.date(year, 12, 31))
        )
        parts.append(_uniform_days(rng, lo, hi, m))
    dates = np.sort(np.concatenate(parts))[: len(chosen)]
    chosen = chosen[: len(dates)]
    # the earliest enrolment dates go to the longest-held cards, so few wait for their card
    chosen = chosen[np.lexsort((chosen, issued[chosen]))]
    enrol = np.full(n, NO_DATE, dtype=np.int64)
    enrol[chosen] = dates
    late = enrol < issued  # enrol a few days after the card when the card came later
    enrol = np.where(late, issued + rng.integers(1, 30, n), enrol)
    enrol = np.where((enrol > TARGET_DAY) | (enrol >= cancel), NO_DATE, enrol)
    close_from = np.maximum(enrol + 30, day_number(PERIOD_START))
    own_close = (enrol < NO_DATE) & (rng.random(n) < USER_CLOSE_SHARE) & (close_from <= TARGET_DAY)
    close = np.where(
        own_close,
        close_from + (rng.random(n) * np.maximum(TARGET_DAY - close_from + 1, 1)).astype(np.int64),
        NO_DATE,
    )
    close = np.where(enrol < NO_DATE, np.minimum(close, cancel), NO_DATE)
    return enrol, close


def _agency_until(world) -> np.ndarray:
    """Per card, the first day the partners' files can no longer post onto it.

    The agency model has no card events, so a card it credits or debits must stay active:
    household heads with a withholding agreement or a farmland, forest or 低保 entitlement
    and pension-covered persons until their household is cancelled (the rosters and
    withholding batches drop cancelled households), employees of payroll employers for
    ever (NO_DATE). Other cards: from the start (0).
    """
    m, h, p = agency.model(world), world.county.households, world.population.persons
    signed = (m.farmland > 0) | (m.forest > 0)
    for sign in m.utility_sign.values():
        signed |= sign < NO_DATE
    signed[world.population.low_income["household"][m.low_income_category == 0]] = True
    linked = m.pension_covered.copy()
    linked[m.household_head[signed]] = True
    until = np.where(linked, np.asarray(h["cancel"])[np.asarray(p["household"])], 0)
    paid = np.repeat(m.payroll_sign < NO_DATE, np.diff(m.employee_ptr))
    until[m.employee_person[paid]] = NO_DATE
    return until[np.asarray(world.population.cards["person"])].astype(np.int64)


def _build(world) -> DepositModel:
    pop = world.population
    persons, cards, ents = pop.persons, pop.cards, pop.enterprises
    rng = world.rng(STREAM_CARDS)
    person = np.asarray(cards["person"])
    n = len(person)
    issued = np.asarray(cards["issued"], dtype=np.int64)
    branch = np.asarray(cards["branch"])
    birth = np.asarray(persons["birth"], dtype=np.int64)[person]
    id_all = np.asarray(persons["id_no"])
    mobile = np.asarray(persons["mobile"])[person]

    # card events (one at most): cancelled (account closed too) or lost; none while the
    # partners' files still post onto the card, the shares kept over all cards
    start = np.maximum(np.maximum(issued + 1, day_number(PERIOD_START)), _agency_until(world))
    span = np.maximum(TARGET_DAY - start + 1, 1)
    event_day = start + (rng.random(n) * span).astype(np.int64)
    u = rng.random(n)
    possible = start <= TARGET_DAY
    boost = min(n / max(int(possible.sum()), 1), 1.0 / (CARD_CANCEL_SHARE + CARD_LOST_SHARE))
    cancel_share, lost_share = CARD_CANCEL_SHARE * boost, CARD_LOST_SHARE * boost
    cancel = np.where(possible & (u < cancel_share), event_day, NO_DATE)
    lost = np.where(
        possible & (u >= cancel_share) & (u < cancel_share + lost_share), event_day, NO_DATE
    )
    weight = rng.lognormal(0.0, 0.9, n)
    card_t = rng.integers(0, 9 * 3600, n)

    enrol, unenrol = _enrolments(world, issued, cancel, birth, mobile != "")

    # accounts
    arng = world.rng(STREAM_ACCOUNTS)
    serial = np.arange(1, n + 1)
    card_account = np.char.add(
        np.char.add(_zfill(branch.astype(str), 4), "01"),
        _zfill(serial.astype(str), 10),
    )
    time_rows = np.flatnonzero(arng.random(n) < TIME_DEPOSIT_SHARE)
    m = len(time_rows)
    t_open = np.maximum(_uniform_days(arng, dt.date(2012, 1, 1), PERIOD_END, m), issued[time_rows])
    term = arng.choice([365, 730, 1095], m)
    matured = (arng.random(m) < 0.6) & (t_open + term <= TARGET_DAY)
    t_close = np.where(matured, t_open + term, NO_DATE)
    t_close = np.where(t_close >= cancel[time_rows], cancel[time_rows], t_close)
    t_open_ok = t_open < np.minimum(cancel[time_rows], NO_DATE)
    time_rows, t_open, t_close = time_rows[t_open_ok], t_open[t_open_ok], t_close[t_open_ok]
    m = len(time_rows)
    time_no = np.char.add(
        np.char.add(_zfill(branch[time_rows].astype(str), 4), "02"),
        _zfill((time_rows + 1).astype(str), 10),
    )
    k = len(ents["uscc"])
    e_branch = arng.integers(1, 25, k)
    e_open = np.maximum(
        np.asarray(ents["established"], dtype=np.int64) + arng.integers(3, 60, k),
        day_number(dt.date(2005, 1, 1)),
    )
    e_start = np.maximum(e_open + 1, day_number(PERIOD_START))
    e_close = np.where(
        (arng.random(k) < ENTERPRISE_CLOSE_SHARE) & (e_start <= TARGET_DAY),
        e_start + (arng.random(k) * np.maximum(TARGET_DAY - e_start + 1, 1)).astype(np.int64),
        NO_DATE,
    )
    e_open = np.where(e_open > TARGET_DAY, NO_DATE, e_open)
    e_no = np.char.add(
        np.char.add(_zfill(e_branch.astype(str), 4), "11"),
        _zfill(np.arange(1, k + 1).astype(str), 10),
    )

    card_id = id_all[person]
    return DepositModel(
        card_no=np.asarray(cards["card_no"]),
        card_person=person,
        card_id_no=card_id,
        card_account=card_account,
        card_branch=branch,
        card_issued=issued,
        card_lost=lost,
        card_cancel=cancel,
        card_weight=weight,
        card_t=card_t,
        enrol=enrol,
        unenrol=unenrol,
        acct_no=np.concatenate([card_account, time_no, e_no]),
        acct_customer_type=np.concatenate([np.full(n + m, "1"), np.full(k, "2")]),
        acct_id_no=np.concatenate([card_id, card_id[time_rows], np.asarray(ents["uscc"])]),
        acct_type=np.concatenate([np.full(n, "01"), np.full(m, "02"), np.full(k, "11")]),
        acct_branch=np.concatenate([branch, branch[time_rows], e_branch]),
        acct_open=np.concatenate([issued, t_open, e_open]),
        acct_close=np.concatenate([cancel, t_close, e_close]),
        acct_t=np.concatenate([card_t, arng.integers(0, 9 * 3600, m + k)]),
        ent_account_rows=np.arange(n + m, n + m + k),
    )


@dataclass
class DayJournal:
    """One business date's journal as column arrays (row order = txn id order)."""

    card: np.ndarray  # card row (-1: enterprise account)
    account_no: np.ndarray
    channel: np.ndarray
    type_idx: np.ndarray
    amount: np.ndarray
    counterparty: np.ndarray
    internal: np.ndarray
    reversed: np.ndarray
    branch: np.ndarray
    seconds: np.ndarray

    def __len__(self) -> int:
        return len(self.channel)


_POSTING_TYPE_IDX = np.array([_T[POSTING_TYPES[k]] for k in agency.POSTING_KINDS])


def _pick(rng, weight: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices drawn with probability proportional to ``weight``."""
    if size == 0 or weight.sum() <= 0:
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(weight)
    return np.minimum(np.searchsorted(cum, rng.random(size) * cum[-1], side="right"), len(cum) - 1)


def _amounts(rng, type_idx: np.ndarray) -> np.ndarray:
    """Lognormal amounts of customer transactions of the given types (cash in 100s)."""
    med = np.array([TYPE_AMOUNT.get(c, (np.nan, 0.0))[0] for c in TXN_TYPES])[type_idx]
    sd = np.array([TYPE_AMOUNT.get(c, (np.nan, 0.0))[1] for c in TXN_TYPES])[type_idx]
    amount = np.exp(np.log(med) + sd * rng.standard_normal(len(type_idx)))
    cash = (type_idx == _T["02"]) | (type_idx == _T["01"])
    amount = np.where(cash, np.maximum(np.round(amount / 100) * 100, 100), amount)
    return np.round(np.maximum(amount, 1.0), 2)


def day_journal(world, day: dt.date) -> DayJournal:
    """Draw the journal of ``day`` from the model and ``world.rng(STREAM_DAY, day)`` only."""
    mdl = model(world)
    d = day_number(day)
    f = _frac(d)
    rng = world.rng(STREAM_DAY, d)
    active = (mdl.card_issued <= d) & (mdl.card_cancel > d) & (mdl.card_lost > d)
    weekend = WEEKEND_FACTOR if day.weekday() >= 5 else 1.0

    # personal non-batch transactions: channel first (counter or electronic), then type
    n_p = rng.poisson(_lerp(PERSONAL_RATE, f) * active.sum() * weekend)
    is_counter = rng.random(n_p) < counter_share(d)
    e_mix = E_MIX_2015 + (E_MIX_2020 - E_MIX_2015) * f
    e_channel = rng.choice(len(ELECTRONIC), size=n_p, p=e_mix / e_mix.sum())
    channel = np.where(is_counter, COUNTER, np.asarray(ELECTRONIC)[e_channel])
    enrolled = active & (mdl.enrol < d) & (mdl.unenrol > d)
    online = np.isin(channel, ("ME", "IE"))
    if not enrolled.any():  # nobody enrolled (tiny worlds): online payments go to terminals
        channel = np.where(online, "AT", channel)
        online[:] = False
    card = np.empty(n_p, dtype=np.int64)
    card[online] = _pick(rng, mdl.card_weight * enrolled, int(online.sum()))
    card[~online] = _pick(rng, mdl.card_weight * active, int((~online).sum()))
    type_idx = np.empty(n_p, dtype=np.int64)
    for ch, mix in CHANNEL_TYPES.items():
        rows = np.flatnonzero(channel == ch)
        codes = list(mix)
        p = np.array([mix[c] for c in codes])
        type_idx[rows] = np.array([_T[c] for c in codes])[
            rng.choice(len(codes), len(rows), p=p / p.sum())
        ]

    # enterprise non-batch transactions (counter, internet or mobile; transfers and cash)
    ent_rows = mdl.ent_account_rows
    ent_active = (mdl.acct_open[ent_rows] <= d) & (mdl.acct_close[ent_rows] > d)
    n_e = rng.poisson(ENTERPRISE_RATE * ent_active.sum() * weekend)
    e_counter = rng.random(n_e) < counter_share(d)
    e_ch = np.where(e_counter, COUNTER, np.where(rng.random(n_e) < 0.75, "IE", "ME"))
    e_type = np.where(
        e_counter,
        rng.choice([_T["01"], _T["02"], _T["03"], _T["04"]], n_e, p=[0.3, 0.15, 0.2, 0.35]),
        rng.choice([_T["03"], _T["04"]], n_e, p=[0.45, 0.55]),
    )
    e_acct = ent_rows[_pick(rng, ent_active.astype(float), n_e)]

    # batch agency postings (BA): the own-bank rows of the day's partner files
    posted = agency.own_card_postings(world, day)
    b_card, b_amount = posted.card, posted.amount
    b_type = _POSTING_TYPE_IDX[posted.kind]

    # assemble: personal non-batch, enterprise, batch
    all_card = np.concatenate([card, np.full(n_e, -1), b_card])
    all_channel = np.concatenate([channel, e_ch, np.full(len(b_card), BATCH)])
    all_type = np.concatenate([type_idx, e_type, b_type])
    amount = np.concatenate([_amounts(rng, type_idx), _amounts(rng, e_type) * 5, b_amount])
    n = len(all_card)
    account = np.where(all_card >= 0, mdl.card_account[np.maximum(all_card, 0)], "")
    account[n_p : n_p + n_e] = mdl.acct_no[e_acct]
    branch = np.where(all_card >= 0, mdl.card_branch[np.maximum(all_card, 0)], 0)
    branch[n_p : n_p + n_e] = mdl.acct_branch[e_acct]
    # outlets where counters/terminals are used: the holder's branch mostly, elsewhere sometimes
    elsewhere = rng.random(n) < 0.2
    branch = np.where(elsewhere, rng.integers(1, 25, n), branch)

    # counterparty bank and the in-bank flag
    code = TYPE_CODES[all_type]
    u = rng.random(n)
    own = np.zeros(n, dtype=bool)
    own |= (code == "04") & (u < _lerp(OWN_TRANSFER_OUT, f))
    own |= (code == "03") & (u < _lerp(OWN_TRANSFER_IN, f))
    own |= (code == "05") & ((u < _lerp(OWN_POS_MERCHANT, f)) | (all_channel == "ME"))
    own |= np.isin(code, ("06", "07", "08", "09", "10", "11"))
    other = rng.choice(OTHER_BANK_CODES, n)
    third = np.select(
        [all_channel == k for k in THIRD_PARTY_CODES], list(THIRD_PARTY_CODES.values()), ""
    )
    counterparty = np.where(own, OWN_BANK_CODE, np.where(code == "12", third, other))
    counterparty = np.where(np.isin(code, ("01", "02")), "", counterparty)

    reversed_ = (all_channel == COUNTER) & (rng.random(n) < REVERSAL_RATE)
    seconds = np.where(
        all_channel == COUNTER,
        rng.integers(8 * 3600 + 1800, 17 * 3600, n),
        np.where(
            all_channel == BATCH,
            rng.integers(1800, 6 * 3600, n),
            rng.choice(24, n, p=_HOURLY / _HOURLY.sum()) * 3600 + rng.integers(0, 3600, n),
        ),
    )
    order = np.argsort(seconds, kind="stable")
    return DayJournal(
        card=all_card[order],
        account_no=account[order],
        channel=all_channel[order],
        type_idx=all_type[order],
        amount=amount[order],
        counterparty=counterparty[order],
        internal=own[order],
        reversed=reversed_[order],
        branch=branch[order],
        seconds=seconds[order],
    )


def txn_id(day: dt.date, seq: np.ndarray) -> np.ndarray:
    """Journal numbers: business date + 9-digit sequence (unique per date)."""
    return np.char.add(f"{day:%Y%m%d}", _zfill((seq + 1).astype(str), 9))


def txn_lines(world, day: dt.date) -> list[str]:
    j = day_journal(world, day)
    mdl = model(world)
    n = len(j)
    ymd = f"{day:%Y%m%d}"
    ids = txn_id(day, np.arange(n)).tolist()
    cards = np.where(j.card >= 0, mdl.card_no[np.maximum(j.card, 0)], "").tolist()
    times = _HHMMSS[j.seconds].tolist()
    types = TYPE_CODES[j.type_idx].tolist()
    dirs = TYPE_DIRECTION[j.type_idx].tolist()
    memos = TYPE_NAMES[j.type_idx].tolist()
    amounts = [f"{a:.2f}" for a in j.amount.tolist()]
    internal = np.where(j.internal, "1", "0").tolist()
    rev = np.where(j.reversed, "1", "0").tolist()
    branches = _zfill(j.branch.astype(str), 4).tolist()
    return [
        f"{ids[k]}|{ymd}|{times[k]}|{a}|{cards[k]}|{c}|{types[k]}|{dirs[k]}|{amounts[k]}|{cp}|{internal[k]}|{rev[k]}|{branches[k]}|{memos[k]}"
        for k, (a, c, cp) in enumerate(
            zip(j.account_no.tolist(), j.channel.tolist(), j.counterparty.tolist(), strict=True)
        )
    ]


_DATE_BASE = day_number(dt.date(1900, 1, 1))
_DATES = np.array(
    [
        dt.date.fromordinal(_DATE_BASE + k).strftime("%Y%m%d")
        for k in range(day_number(dt.date(2031, 1, 1)) - _DATE_BASE)
    ]
    + [""]
)


def _ymd(values: np.ndarray, upto: int) -> np.ndarray:
    """YYYYMMDD strings of day ordinals; empty for NO_DATE or days after ``upto``."""
    idx = np.where((values >= NO_DATE) | (values > upto), len(_DATES) - 1, values - _DATE_BASE)
    return _DATES[idx]


def _stamp(day_no: np.ndarray, seconds: np.ndarray) -> list[str]:
    """YYYYMMDDHHMMSS change times: ``seconds`` after 08:00 on ``day_no``."""
    return np.char.add(_DATES[day_no - _DATE_BASE], _HHMMSS[8 * 3600 + seconds]).tolist()


def account_lines(world, day: dt.date, initial: bool) -> list[str]:
    mdl = model(world)
    d = day_number(day)
    o, c = mdl.acct_open, mdl.acct_close
    rows = np.flatnonzero(o <= d) if initial else np.flatnonzero((o == d) | (c == d))
    closed = c[rows] <= d
    status = np.where(closed, "1", "0").tolist()
    stamps = _stamp(np.where(closed, c[rows], o[rows]), mdl.acct_t[rows])
    opens, closes = _ymd(o[rows], d).tolist(), _ymd(c[rows], d).tolist()
    cols = zip(
        mdl.acct_no[rows].tolist(),
        mdl.acct_customer_type[rows].tolist(),
        mdl.acct_id_no[rows].tolist(),
        mdl.acct_type[rows].tolist(),
        _zfill(mdl.acct_branch[rows].astype(str), 4).tolist(),
        strict=True,
    )
    return [
        f"{a}|{ct}|{i}|{t}|{b}|CNY|{opens[k]}|{closes[k]}|{status[k]}|{stamps[k]}"
        for k, (a, ct, i, t, b) in enumerate(cols)
    ]


def card_lines(world, day: dt.date, initial: bool) -> list[str]:
    mdl = model(world)
    d = day_number(day)
    iss, lost, cancel = mdl.card_issued, mdl.card_lost, mdl.card_cancel
    if initial:
        rows = np.flatnonzero(iss <= d)
    else:
        rows = np.flatnonzero((iss == d) | (lost == d) | (cancel == d))
    status = np.where(cancel[rows] <= d, "3", np.where(lost[rows] <= d, "2", "1"))
    status_day = np.where(
        status == "3", cancel[rows], np.where(status == "2", lost[rows], iss[rows])
    )
    stamps = _stamp(status_day, mdl.card_t[rows])
    status_dates = _ymd(status_day, d).tolist()
    issues = _ymd(iss[rows], d).tolist()
    cols = zip(
        mdl.card_no[rows].tolist(),
        mdl.card_id_no[rows].tolist(),
        mdl.card_account[rows].tolist(),
        _zfill(mdl.card_branch[rows].astype(str), 4).tolist(),
        status.tolist(),
        strict=True,
    )
    return [
        f"{c}|{i}|{a}|01|{b}|{issues[k]}|{s}|{status_dates[k]}|{stamps[k]}"
        for k, (c, i, a, b, s) in enumerate(cols)
    ]


def write_day(world, out: Path, day: dt.date, initial: bool) -> list[WrittenFile]:
    """The deposit files of one business date (``initial``: accounts and cards in full)."""
    return [
        core_banking.write_table(out, "ACCOUNT", day, account_lines(world, day, initial)),
        core_banking.write_table(out, "CARD", day, card_lines(world, day, initial)),
        core_banking.write_table(out, "TXN", day, txn_lines(world, day)),
    ]


def channel_counts(j: DayJournal) -> tuple[int, int]:
    """K07 parts of a journal: (electronic, counter) financial transactions.

    Reversed (抹账) entries and batch agency postings (channel BA) are excluded, as the
    domain reference §3.1 recommends.
    """
    kept = ~j.reversed & (j.channel != BATCH)
    counter = int((kept & (j.channel == COUNTER)).sum())
    return int(kept.sum()) - counter, counter


def card_outflows(j: DayJournal) -> tuple[float, float]:
    """K18 parts of a journal: (in-bank, total) outflow amount from personal IC cards.

    In-bank: own-bank POS merchants, withholding, in-bank transfers, loan repayment,
    wealth purchases and station payments (``is_internal`` outflows); the rest is cash
    withdrawn, transfers to other banks and third-party quick pay.
    """
    out = (j.card >= 0) & (TYPE_DIRECTION[j.type_idx] == "O") & ~j.reversed
    return float(j.amount[out & j.internal].sum()), float(j.amount[out].sum())
