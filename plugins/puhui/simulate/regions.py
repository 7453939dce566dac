"""Shangyu's township units (乡镇/街道) with their 2016-2020 history, and its villages.

Township codes and names are the NBS statistical division codes (330604 + 3 digits,
001-099 街道, 100-199 镇, 200-299 乡). Two reorganisations turned towns into
sub-districts: 道墟/梁湖/小越 in 2017 and 崧厦/沥海 in 2019. A village keeps its identity
(its 12-digit code under the 2016 division) while its town's code, name and type change.

The effective dates of the two changes are assumptions: NBS only shows them in its
2017-10-31 and 2019-10-31 snapshots; the district announced the 2019 change in November.
Village names are synthetic; the per-town village/community counts are assumptions that
add up to the 2018 totals (353 administrative villages, 87 communities).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

DISTRICT_CODE = "330604"
DISTRICT_NAME = "上虞区"
REORG_2017 = dt.date(2017, 9, 1)  # assumption
REORG_2019 = dt.date(2019, 11, 1)  # assumption

# town type codes in the bank's region table
SUBDISTRICT, TOWN, TOWNSHIP = "1", "2", "3"


@dataclass(frozen=True)
class TownVersion:
    code: str  # 9 digits
    name: str
    type: str
    valid_from: dt.date
    valid_to: dt.date | None  # exclusive


@dataclass(frozen=True)
class Town:
    """A township unit as the 2016 division knew it, with its later versions."""

    code_2016: str
    villages: int  # administrative villages (行政村), assumption
    communities: int  # communities (社区/居委会), assumption
    mountainous: bool
    versions: tuple[TownVersion, ...]

    def version_on(self, day: dt.date) -> TownVersion:
        for v in self.versions:
            if v.valid_from <= day and (v.valid_to is None or day < v.valid_to):
                return v
        return self.versions[0]  # days before the first version: the 2016 form


_EPOCH = dt.date(1990, 1, 1)


def _town(suffix, name, ttype, villages, communities, mountainous=False, changes=()):
    code = DISTRICT_CODE + suffix
    versions = []
    start, cur = _EPOCH, (code, name, ttype)
    for when, new_suffix, new_name, new_type in changes:
        versions.append(TownVersion(cur[0], cur[1], cur[2], start, when))
        start, cur = when, (DISTRICT_CODE + new_suffix, new_name, new_type)
    versions.append(TownVersion(cur[0], cur[1], cur[2], start, None))
    return Town(code, villages, communities, mountainous, tuple(versions))


TOWNS: tuple[Town, ...] = (
    _town("001", "百官街道", SUBDISTRICT, 20, 22),
    _town("002", "曹娥街道", SUBDISTRICT, 15, 12),
    _town("003", "东关街道", SUBDISTRICT, 20, 6),
    _town("100", "道墟镇", TOWN, 22, 4, changes=[(REORG_2017, "004", "道墟街道", SUBDISTRICT)]),
    _town("101", "长塘镇", TOWN, 12, 2),
    _town("102", "上浦镇", TOWN, 13, 2, mountainous=True),
    _town("103", "汤浦镇", TOWN, 16, 2, mountainous=True),
    _town("104", "章镇镇", TOWN, 35, 3, mountainous=True),
    _town("105", "下管镇", TOWN, 20, 2, mountainous=True),
    _town("106", "丰惠镇", TOWN, 22, 4),
    _town("107", "永和镇", TOWN, 15, 2, mountainous=True),
    _town("108", "梁湖镇", TOWN, 18, 7, changes=[(REORG_2017, "005", "梁湖街道", SUBDISTRICT)]),
    _town("109", "驿亭镇", TOWN, 16, 3),
    _town("110", "小越镇", TOWN, 18, 3, changes=[(REORG_2017, "006", "小越街道", SUBDISTRICT)]),
    _town("111", "谢塘镇", TOWN, 14, 2),
    _town("112", "盖北镇", TOWN, 10, 2),
    _town("113", "崧厦镇", TOWN, 28, 5, changes=[(REORG_2019, "007", "崧厦街道", SUBDISTRICT)]),
    _town("114", "沥海镇", TOWN, 10, 3, changes=[(REORG_2019, "008", "沥海街道", SUBDISTRICT)]),
    _town("200", "岭南乡", TOWNSHIP, 10, 0, mountainous=True),
    _town("201", "陈溪乡", TOWNSHIP, 8, 0, mountainous=True),
    _town("202", "丁宅乡", TOWNSHIP, 11, 1, mountainous=True),
)

_URBAN_CORE = {"330604001", "330604002"}

# Syllables for synthetic village names (all GBK-encodable).
_NAME_CHARS = (
    "东西南北上下前后大小新老中山水塘湖江河溪桥坝岙岭峰林竹梅桃李杏松柏"
    "金银丰华光明安康宁和兴隆福寿永长方圆石田家庄湾头墩浦港口沙泾"
)


@dataclass(frozen=True)
class Village:
    code: str  # stable 12-digit code under the 2016 division
    name: str
    is_community: bool
    town: Town
    urban_rural_code: str
    weight: float  # relative number of households
    tiny: bool  # a small mountain village (< 200 residents)

    @property
    def village_type(self) -> str:
        return "1" if self.is_community else "2"


def build_villages(rng: np.random.Generator) -> list[Village]:
    """All 440 village-level units; the count does not depend on scale."""
    villages: list[Village] = []
    used: set[str] = set()
    for town in TOWNS:
        for i in range(town.communities + town.villages):
            is_community = i < town.communities
            seq = (i + 1) if is_community else (200 + i - town.communities + 1)
            code = f"{town.code_2016}{seq:03d}"
            while True:
                name = "".join(rng.choice(list(_NAME_CHARS), size=2))
                if name not in used:
                    used.add(name)
                    break
            name += "社区" if is_community else "村"
            if is_community:
                urc = "111" if town.code_2016 in _URBAN_CORE else "121"
                weight = float(rng.lognormal(np.log(5.0), 0.35))
                tiny = False
            else:
                urc = (
                    "112"
                    if town.code_2016 in _URBAN_CORE
                    else ("210" if i == town.communities else "220")
                )
                tiny = town.mountainous and rng.random() < 0.06
                weight = 0.15 if tiny else float(rng.lognormal(0.0, 0.45))
            villages.append(Village(code, name, is_community, town, urc, weight, tiny))
    return villages
