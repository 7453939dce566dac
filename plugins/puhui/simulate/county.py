"""The synthetic county: villages, households and their information archives.

Everything is drawn once from ``(seed, scale)`` over the plan period, so any date range
asked of the simulator sees the same county. Event dates (registration, cancellation,
archiving, revocation) are stored per row; a day's change file is the set of rows with an
event on that day. Calibration figures marked "assumption" are synthetic, not published.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from puhui.simulate.people import make_people
from puhui.simulate.regions import Village, build_villages

HOUSEHOLDS_AT_SCALE_1 = 290_000  # registered households of Shangyu (assumption, see docs)
PERIOD_START = dt.date(2016, 1, 1)
PERIOD_END = dt.date(2020, 12, 31)
NO_DATE = np.iinfo(np.int32).max  # "never" as a day number

# Calibration of the information archive (K09), all assumptions:
BASELINE_ARCHIVED_VILLAGE = 0.70  # share of village households archived by 2015-12-31
BASELINE_ARCHIVED_COMMUNITY = 0.55  # share of community households archived by 2015-12-31
LATER_ARCHIVED = 0.75  # of the rest, share archived during 2016-2020
NEW_HOUSEHOLD_ARCHIVED = 0.80  # new households archived within ~1 year of registration
NEW_HOUSEHOLD_SHARE = 0.10  # households first registered during 2016-2020
CANCELLED_SHARE = 0.06  # households cancelled (moved away, merged) during 2016-2020
RANDOM_REVOCATION = 0.005  # archives revoked for other reasons


def day_number(d: dt.date) -> int:
    return d.toordinal()


def from_day_number(n: int) -> dt.date:
    return dt.date.fromordinal(int(n))


def _uniform_days(rng, lo: dt.date, hi: dt.date, size: int) -> np.ndarray:
    return rng.integers(day_number(lo), day_number(hi) + 1, size=size)


@dataclass
class County:
    seed: int
    scale: float

    @cached_property
    def _rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, 2016])

    @cached_property
    def villages(self) -> list[Village]:
        return build_villages(np.random.default_rng([self.seed, 1]))

    @cached_property
    def households(self) -> dict[str, np.ndarray | list]:
        """Columns of every household that exists at some point in 2016-2020."""
        rng = np.random.default_rng([self.seed, 2])
        n = max(1, round(HOUSEHOLDS_AT_SCALE_1 * self.scale))
        weights = np.array([v.weight for v in self.villages])
        village_idx = rng.choice(len(self.villages), size=n, p=weights / weights.sum())
        is_community = np.array([self.villages[i].is_community for i in village_idx])

        new = rng.random(n) < NEW_HOUSEHOLD_SHARE
        register = np.where(
            new,
            _uniform_days(rng, PERIOD_START, PERIOD_END, n),
            _uniform_days(rng, dt.date(1985, 1, 1), dt.date(2015, 12, 31), n),
        )
        cancel_from = np.maximum(register + 1, day_number(PERIOD_START))
        cancelled = (rng.random(n) < CANCELLED_SHARE) & (cancel_from <= day_number(PERIOD_END))
        cancel_span = np.maximum(day_number(PERIOD_END) - cancel_from + 1, 1)
        cancel = np.where(
            cancelled, cancel_from + (rng.random(n) * cancel_span).astype(int), NO_DATE
        )

        agricultural = rng.random(n) < np.where(is_community, 0.20, 0.85)
        members = np.minimum(1 + rng.poisson(1.7, size=n), 8)
        birth_years = np.where(new, rng.integers(1960, 1996, n), rng.integers(1935, 1991, n))
        # a household head registers a household no earlier than the year they turn 18
        adult_from = np.array([day_number(dt.date(int(y) + 18, 7, 1)) for y in birth_years])
        register = np.maximum(register, adult_from)
        people = make_people(n, rng, birth_years)

        # the information archive
        base_p = np.where(is_community, BASELINE_ARCHIVED_COMMUNITY, BASELINE_ARCHIVED_VILLAGE)
        u = rng.random(n)
        at_baseline = ~new & (u < base_p)
        later = ~new & ~at_baseline & (rng.random(n) < LATER_ARCHIVED)
        new_archived = new & (rng.random(n) < NEW_HOUSEHOLD_ARCHIVED)
        baseline_date = np.maximum(
            _uniform_days(rng, dt.date(2013, 6, 1), dt.date(2015, 12, 31), n), register
        )
        period_days = day_number(PERIOD_END) - day_number(PERIOD_START)
        later_date = day_number(PERIOD_START) + (rng.beta(1.3, 2.0, n) * period_days).astype(int)
        new_date = register + rng.integers(30, 400, n)
        archive = np.full(n, NO_DATE)
        archive = np.where(at_baseline, baseline_date, archive)
        archive = np.where(later, later_date, archive)
        archive = np.where(new_archived, new_date, archive)
        archive = np.where(archive >= cancel, NO_DATE, archive)  # none after the household left
        archive = np.where(archive > day_number(PERIOD_END), NO_DATE, archive)

        revoke = np.where((archive < NO_DATE) & (cancel < NO_DATE), cancel, NO_DATE)
        random_revoke = (
            (archive < NO_DATE) & (revoke == NO_DATE) & (rng.random(n) < RANDOM_REVOCATION)
        )
        revoke_from = np.maximum(archive + 1, day_number(PERIOD_START))
        revoke_span = np.maximum(day_number(PERIOD_END) - revoke_from + 1, 1)
        revoke = np.where(
            random_revoke & (revoke_from <= day_number(PERIOD_END)),
            revoke_from + (rng.random(n) * revoke_span).astype(int),
            revoke,
        )

        income = np.round(rng.lognormal(np.log(60_000), 0.55, n), 2)
        village_codes = [self.villages[i].code for i in village_idx]
        managers = [f"M{(int(i) // 4) + 1:05d}" for i in village_idx]
        return {
            "index": np.arange(n),
            "village_code": village_codes,
            "head_id_no": people["id_no"],
            "head_name": people["name"],
            "mobile": people["mobile"],
            "member_count": members,
            "household_type": np.where(agricultural, "1", "2"),
            "register": register,
            "cancel": cancel,
            "archive": archive,
            "revoke": revoke,
            "manager_no": managers,
            "annual_income": income,
            # seconds after 08:00 at which each kind of event happened on its day
            "t_create": rng.integers(0, 10 * 3600, n),
            "t_change": rng.integers(0, 10 * 3600, n),
        }

    @cached_property
    def household_village_index(self) -> np.ndarray:
        """Position in :attr:`villages` of each household's village."""
        position = {v.code: i for i, v in enumerate(self.villages)}
        return np.array([position[c] for c in self.households["village_code"]], dtype=np.int64)

    def village_population(self, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """Registered households and residents per village-level unit on ``day``.

        Households registered and not cancelled on that day; residents are the sum of their
        ``member_count``. The division register (agency) and K02's "villages with >= 200
        residents" (bank network) both use this one definition.
        """
        h = self.households
        d = day_number(day)
        live = (h["register"] <= d) & (h["cancel"] > d)
        n = len(self.villages)
        index = self.household_village_index[live]
        households = np.bincount(index, minlength=n)
        residents = np.bincount(index, weights=np.asarray(h["member_count"])[live], minlength=n)
        return households, residents.astype(np.int64)
