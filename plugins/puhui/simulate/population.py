"""Everyone the simulated bank can serve: people, enterprises, low-income households, cards.

Built once from ``(seed, scale)`` on top of :class:`County`; every source writer reads
these arrays, so a person's ID number, card number and household agree across the core
banking files, the e-banking database and the partners' files. Figures marked
"assumption" are synthetic calibration, not published statistics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from puhui.identifiers import USCC_ALPHABET, luhn_check_digit, org_code_check_char, uscc_check_char
from puhui.simulate.county import (
    NO_DATE,
    PERIOD_END,
    PERIOD_START,
    County,
    _uniform_days,
    day_number,
)
from puhui.simulate.people import make_people

# assumptions, at scale 1.0
ENTERPRISES_AT_SCALE_1 = 12_000  # small and micro enterprises (小微企业)
INDIVIDUAL_BUSINESSES_AT_SCALE_1 = 30_000  # individual businesses (个体工商户)
COOPERATIVES_AT_SCALE_1 = 800  # farmers' cooperatives (农民专业合作社)
BANK_CUSTOMER_SHARE = 0.78  # adults holding a 丰收卡 by 2020
CARD_BEFORE_2016_SHARE = 0.80  # of card holders, share whose card predates the plan
LOW_INCOME_SHARE_RURAL = 0.035  # agricultural households on the low-income register
CARD_BIN = "622858"  # 丰收卡 (Zhejiang rural credit union debit card), 19 digits

RELATION_HEAD, RELATION_SPOUSE, RELATION_CHILD, RELATION_PARENT = "01", "02", "03", "04"

# GB/T 4754 sections used for enterprises (A agriculture ... ), with weights (assumption)
INDUSTRIES = {
    "A": ("农林牧渔", 0.12),
    "C": ("制造", 0.30),
    "E": ("建筑", 0.08),
    "F": ("批发零售", 0.28),
    "G": ("交通运输", 0.05),
    "H": ("住宿餐饮", 0.10),
    "O": ("居民服务", 0.07),
}
_TRADE_WORDS = "伞业纺织机电化工建材五金食品农业茶叶竹木电器服饰塑料包装"


@dataclass
class Population:
    county: County

    @property
    def seed(self) -> int:
        return self.county.seed

    @property
    def scale(self) -> float:
        return self.county.scale

    @cached_property
    def persons(self) -> dict[str, np.ndarray | list]:
        """Every registered person: household heads first (same IDs as the household file)."""
        h = self.county.households
        rng = np.random.default_rng([self.seed, 3])
        n_households = len(h["index"])
        heads_birth = np.array(
            [
                dt.date(int(i[6:10]), int(i[10:12]), int(i[12:14])).toordinal()
                for i in h["head_id_no"]
            ]
        )
        taken = {i[:17] for i in h["head_id_no"]}
        others_per_household = np.asarray(h["member_count"]) - 1
        owner = np.repeat(np.arange(n_households), others_per_household)
        m = len(owner)
        head_year = np.array([dt.date.fromordinal(int(b)).year for b in heads_birth])[owner]
        u = rng.random(m)
        # the first other member is a spouse (when old enough), later ones children or a parent
        first = np.r_[True, owner[1:] != owner[:-1]] if m else np.array([], dtype=bool)
        relation = np.where(
            first & (u < 0.8),
            RELATION_SPOUSE,
            np.where(u < 0.93, RELATION_CHILD, RELATION_PARENT),
        )
        birth_year = np.where(
            relation == RELATION_SPOUSE,
            head_year + rng.integers(-4, 5, m),
            np.where(
                relation == RELATION_CHILD,
                head_year + rng.integers(22, 36, m),
                head_year - rng.integers(22, 32, m),
            ),
        )
        birth_year = np.clip(birth_year, 1920, 2020)
        people = make_people(m, rng, birth_year, taken=taken)
        names = people["name"]
        head_names = h["head_name"]
        for k in range(m):  # children carry the head's surname
            if relation[k] == RELATION_CHILD:
                names[k] = head_names[owner[k]][0] + names[k][1:]
        births = np.array(people["birth"], dtype=np.int64)
        minor_2016 = births > day_number(dt.date(2000, 1, 1))
        mobiles = [("" if minor_2016[k] else people["mobile"][k]) for k in range(m)]

        head_gender = ["M" if int(i[16]) % 2 else "F" for i in h["head_id_no"]]
        return {
            "person_no": [f"P{k + 1:010d}" for k in range(n_households + m)],
            "household": np.r_[np.arange(n_households), owner],
            "relation": np.r_[np.full(n_households, RELATION_HEAD), relation],
            "id_no": list(h["head_id_no"]) + people["id_no"],
            "name": list(head_names) + names,
            "gender": head_gender + people["gender"],
            "birth": np.r_[heads_birth, births],
            "mobile": list(h["mobile"]) + mobiles,
        }

    @cached_property
    def cards(self) -> dict[str, np.ndarray | list]:
        """Each adult bank customer's primary 丰收卡 (IC card) and its issue date.

        Card numbers: BIN 622858 + 4-digit branch + 8-digit serial + Luhn digit (19 digits),
        unique by construction.
        """
        p = self.persons
        rng = np.random.default_rng([self.seed, 4])
        n = len(p["person_no"])
        adult_2020 = p["birth"] <= day_number(dt.date(2002, 12, 31))
        holder = adult_2020 & (rng.random(n) < BANK_CUSTOMER_SHARE)
        owners = np.flatnonzero(holder)
        early = rng.random(len(owners)) < CARD_BEFORE_2016_SHARE
        adult_from = p["birth"][owners] + 18 * 365
        issued = np.where(
            early,
            _uniform_days(rng, dt.date(2005, 1, 1), dt.date(2015, 12, 31), len(owners)),
            _uniform_days(rng, PERIOD_START, PERIOD_END, len(owners)),
        )
        issued = np.maximum(issued, adult_from)
        branch = rng.integers(1, 25, len(owners))
        numbers = []
        for serial, b in enumerate(branch, start=1):
            partial = f"{CARD_BIN}{int(b):04d}{serial:08d}"
            numbers.append(partial + luhn_check_digit(partial))
        return {"person": owners, "card_no": numbers, "issued": issued, "branch": branch}

    @cached_property
    def low_income(self) -> dict[str, np.ndarray]:
        """Households on the district's low-income register, and the dates they were on it."""
        h = self.county.households
        rng = np.random.default_rng([self.seed, 5])
        n = len(h["index"])
        agricultural = np.asarray(h["household_type"]) == "1"
        villages = self.county.villages
        weights = {v.code: (1.8 if v.town.mountainous else 1.0) for v in villages}
        p = LOW_INCOME_SHARE_RURAL * np.array([weights[c] for c in h["village_code"]])
        listed = agricultural & (rng.random(n) < p)
        rows = np.flatnonzero(listed)
        listed_from = np.where(
            rng.random(len(rows)) < 0.7,
            day_number(dt.date(2015, 12, 31)),
            _uniform_days(rng, dt.date(2016, 1, 1), dt.date(2019, 12, 31), len(rows)),
        )
        leaves = rng.random(len(rows)) < 0.25  # lifted out of the register
        span = np.maximum(day_number(PERIOD_END) - listed_from, 1)
        listed_to = np.where(
            leaves, listed_from + 365 + (rng.random(len(rows)) * span).astype(int), NO_DATE
        )
        listed_to = np.where(listed_to > day_number(PERIOD_END), NO_DATE, listed_to)
        return {"household": rows, "listed_from": listed_from, "listed_to": listed_to}

    @cached_property
    def enterprises(self) -> dict[str, np.ndarray | list]:
        """Small and micro enterprises, individual businesses and cooperatives, with USCCs."""
        rng = np.random.default_rng([self.seed, 6])
        counts = {
            "enterprise": max(1, round(ENTERPRISES_AT_SCALE_1 * self.scale)),
            "individual": max(1, round(INDIVIDUAL_BUSINESSES_AT_SCALE_1 * self.scale)),
            "cooperative": max(1, round(COOPERATIVES_AT_SCALE_1 * self.scale)),
        }
        kinds = np.concatenate([np.full(c, k, dtype=object) for k, c in counts.items()])
        n = len(kinds)
        codes = list(INDUSTRIES)
        weights = np.array([w for _, w in INDUSTRIES.values()])
        industry = np.where(
            kinds == "cooperative", "A", rng.choice(codes, size=n, p=weights / weights.sum())
        )
        # enterprise size: micro most common (assumption), individual businesses are micro
        size = np.where(
            kinds == "enterprise",
            rng.choice(["small", "micro"], size=n, p=[0.3, 0.7]),
            "micro",
        )
        persons = self.persons
        adults = np.flatnonzero(persons["birth"] <= day_number(dt.date(1995, 12, 31)))
        owner = (
            rng.choice(adults, size=n, replace=False)
            if len(adults) >= n
            else rng.choice(adults, size=n)
        )
        village = [self.county.households["village_code"][persons["household"][o]] for o in owner]
        established = np.where(
            rng.random(n) < 0.85,
            _uniform_days(rng, dt.date(1995, 1, 1), dt.date(2015, 12, 31), n),
            _uniform_days(rng, PERIOD_START, PERIOD_END, n),
        )
        alphabet = [c for c in USCC_ALPHABET if c.isdigit()] * 3 + list(USCC_ALPHABET[10:])
        kind_prefix = {"enterprise": "91", "individual": "92", "cooperative": "93"}
        codes_out, names, used = [], [], set()
        trade = [_TRADE_WORDS[i : i + 2] for i in range(0, len(_TRADE_WORDS), 2)]
        for k in range(n):
            region = "330604" if established[k] >= day_number(dt.date(2013, 10, 18)) else "330682"
            while True:
                body = "".join(rng.choice(alphabet, size=8))
                org = body + org_code_check_char(body)
                first17 = kind_prefix[kinds[k]] + region + org
                code = first17 + uscc_check_char(first17)
                if code not in used:
                    used.add(code)
                    break
            word = trade[int(rng.integers(len(trade)))]
            owner_name = persons["name"][owner[k]]
            if kinds[k] == "enterprise":
                names.append(f"绍兴市上虞{owner_name[:1]}氏{word}有限公司")
            elif kinds[k] == "individual":
                names.append(f"上虞区{owner_name}{word}店")
            else:
                names.append(f"上虞区{owner_name[:1]}家{word}专业合作社")
            codes_out.append(code)
        return {
            "enterprise_no": [f"E{k + 1:08d}" for k in range(n)],
            "uscc": codes_out,
            "name": names,
            "kind": kinds,
            "size": size,
            "industry": industry,
            "is_agricultural": industry == "A",
            "owner": owner,
            "village_code": village,
            "established": established,
        }
