"""Synthetic people: resident ID numbers, names and mobile numbers that look real.

ID address prefixes follow the registration history of Shangyu (330622 上虞县 before 1992,
330682 上虞市 1992-2013, 330604 上虞区 from 2014) plus a share of migrants with other
prefixes (an assumption: 8 %).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from puhui.identifiers import id_check_char

SURNAMES = list("陈王张徐李钱杜丁朱金俞胡章沈罗杨周吴赵孙马何严范夏顾任谢袁宋韩冯潘蒋")
GIVEN_CHARS = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国春梅兰根林海波红玉珍荣飞斌")
MIGRANT_PREFIXES = ["330681", "330683", "330624", "341222", "512529", "522121", "430524", "362330"]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "198",
    "199",
]
MIGRANT_SHARE = 0.08  # assumption


def id_prefix(birth_year: int, migrant: bool, rng: np.random.Generator) -> str:
    if migrant:
        return MIGRANT_PREFIXES[int(rng.integers(len(MIGRANT_PREFIXES)))]
    if birth_year < 1992:
        return "330622"
    if birth_year <= 2013:
        return "330682"
    return "330604"


def make_people(
    n: int, rng: np.random.Generator, birth_years: np.ndarray, taken: set[str] | None = None
) -> dict[str, list]:
    """``n`` people: ID number, gender (M/F), name, mobile ("" for none), birth (ordinal).

    ``taken`` holds the first 17 characters of IDs already issued; it is updated, so
    successive calls never issue the same ID number twice.
    """
    migrants = rng.random(n) < MIGRANT_SHARE
    genders = rng.random(n) < 0.5
    doy = rng.integers(0, 365, size=n)
    seqs = rng.integers(0, 500, size=n)
    surname_idx = rng.integers(0, len(SURNAMES), size=n)
    given_len = np.where(rng.random(n) < 0.7, 2, 1)
    given_idx = rng.integers(0, len(GIVEN_CHARS), size=(n, 2))
    has_mobile = rng.random(n) < 0.9
    mobile_prefix = rng.integers(0, len(MOBILE_PREFIXES), size=n)
    mobile_rest = rng.integers(0, 100_000_000, size=n)

    ids, gender_out, names, mobiles = [], [], [], []
    taken = set() if taken is None else taken
    births = []
    for i in range(n):
        year = int(birth_years[i])
        born = dt.date(year, 1, 1) + dt.timedelta(days=int(doy[i]))
        male = bool(genders[i])
        seq = int(seqs[i]) * 2 + (1 if male else 0)  # odd = male, even = female
        prefix = f"{id_prefix(year, bool(migrants[i]), rng)}{born:%Y%m%d}"
        while f"{prefix}{seq:03d}" in taken:  # an ID number is unique: next free sequence
            seq = (seq + 2) % 1000
        first17 = f"{prefix}{seq:03d}"
        taken.add(first17)
        births.append(born.toordinal())
        ids.append(first17 + id_check_char(first17))
        gender_out.append("M" if male else "F")
        given = "".join(GIVEN_CHARS[j] for j in given_idx[i, : given_len[i]])
        names.append(SURNAMES[surname_idx[i]] + given)
        mobiles.append(
            f"{MOBILE_PREFIXES[mobile_prefix[i]]}{int(mobile_rest[i]):08d}" if has_mobile[i] else ""
        )
    return {"id_no": ids, "gender": gender_out, "name": names, "mobile": mobiles, "birth": births}
