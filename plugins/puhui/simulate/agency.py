"""Agency business and government partners' files, as the partners send them.

Everything lands in ``<out>/<YYYYMMDD>/AGY/`` on the date the partner delivers it. These
are not core-banking unloads: no control files, spreadsheet-style CSV with a Chinese header
row (UTF-8 with BOM or GBK, chosen per partner) and ``.xlsx`` rosters. The partners are:

- the finance bureau / departments: 惠民惠农 subsidy rosters (xlsx, header sheet + detail
  sheet) and the bank's return files (GBK CSV, per-row result);
- the social-security centre: the monthly 城乡居民养老金 roster (UTF-8-BOM CSV, same layout);
- the power, water and gas companies: monthly withholding (代扣) result files;
- employers: payroll (代发工资) result files;
- the civil-affairs office: the low-income household register (GBK CSV);
- the statistics office: the administrative-division register with population (xlsx);
- the bank's own inclusive-finance office: the financial-literacy event log (UTF-8-BOM CSV).

The whole period's entities are modelled once per world (:func:`model`); a batch's rows are
drawn from a generator keyed by the batch, so any day can be written on its own.
Figures marked "assumption" are synthetic calibration, not published statistics.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from openpyxl import Workbook

from puhui.identifiers import luhn_check_digit
from puhui.simulate.core_banking import WrittenFile
from puhui.simulate.county import NO_DATE, PERIOD_END, PERIOD_START, day_number
from puhui.simulate.regions import TOWNS, Town

SOURCE_DIR = "AGY"
BOM_UTF8 = "utf-8-sig"
GBK = "gbk"

# stream numbers (block 500-599, world.STREAMS["agency"])
S_MODEL, S_SUBSIDY, S_UTILITY, S_PAYROLL, S_EVENTS = 500, 510, 520, 530, 540

# --- calibration (all assumptions) -------------------------------------------------------
YEARS = (2016, 2017, 2018, 2019, 2020)
FARMLAND_SHARE = 0.70  # agricultural households with contracted farmland (耕地地力保护补贴)
FARMLAND_STANDARD = (76.0, 76.0, 80.0, 80.0, 82.0)  # 元/亩 by year
FOREST_SHARE = 0.55  # agricultural households in mountain towns holding public-welfare forest
FOREST_STANDARD = (31.0, 33.0, 35.0, 40.0, 40.0)  # 元/亩 by year
PENSION_COVERED = 0.80  # rural residents aged >= 60 drawing 城乡居民基本养老金
PENSION_STANDARD = (200.0, 215.0, 230.0, 255.0, 280.0)  # 元/人/月 by year
DIBAO_STANDARD = (700.0, 760.0, 820.0, 880.0, 950.0)  # 低保标准 元/人/月 by year
LOW_INCOME_CATEGORIES = ("低保", "低保边缘", "低收入农户")
LOW_INCOME_CATEGORY_P = (0.20, 0.10, 0.70)
SUBSIDY_FAIL_OWN, SUBSIDY_FAIL_OTHER = 0.008, 0.025  # per-row failure rates
SUBSIDY_FAIL_REASONS = ("账户不存在", "户名不符", "账户已销户", "账户冻结", "证件号码不符")
PAYROLL_SHARE = 0.35  # enterprises/cooperatives paying wages through the bank
PAYROLL_FAIL = 0.005
SALARY_MEDIAN_2016 = 4200.0  # 元/月
SALARY_GROWTH = 0.07  # per year
# withholding: (code, partner name, day of month, sign-up share of card-holding households
# in villages, in communities, encoding)
UTILITIES = (
    ("01", "国网浙江省电力有限公司绍兴市上虞区供电分公司", 10, 0.70, 0.75, GBK),
    ("02", "绍兴市上虞区水务集团有限公司", 18, 0.45, 0.60, BOM_UTF8),
    ("03", "绍兴市上虞区天然气有限公司", 22, 0.05, 0.55, BOM_UTF8),
)
UTILITY_NAMES = {"01": "电费", "02": "水费", "03": "燃气费"}
UTILITY_PRICE = {"01": 0.538, "02": 3.20, "03": 3.00}  # 元 per kWh / m3 (assumption)
UTILITY_USAGE = {"01": 210.0, "02": 12.0, "03": 18.0}  # median monthly usage (assumption)
WITHHOLD_UNPAID, WITHHOLD_PENDING = 0.02, 0.003  # 余额不足 (U), 超时待确认 (T)
# financial-literacy events per year across the district (scale-independent; assumption)
EVENTS_PER_YEAR = (430, 520, 600, 680, 640)
EVENT_TOPICS = (
    "防范非法集资",
    "反假货币",
    "金融消费者权益保护",
    "移动支付安全",
    "征信知识普及",
    "惠农政策宣传",
    "防范电信网络诈骗",
    "普惠金融产品介绍",
)

# other banks' debit BINs and their CNAPS bank-type codes (general knowledge)
OTHER_BANKS = (
    ("622848", "103", "中国农业银行"),
    ("621700", "105", "中国建设银行"),
    ("621226", "102", "中国工商银行"),
    ("621661", "104", "中国银行"),
    ("623595", "403", "中国邮政储蓄银行"),
)
OWN_BANK_CODE, OWN_BANK_NAME = "314", "浙江上虞农村商业银行"


# --- identifiers and formatting ----------------------------------------------------------
def other_bank_card(person: int) -> tuple[str, str, str]:
    """Another bank's 19-digit debit card of ``person`` (Luhn-valid, unique per person).

    Derived arithmetically from the person's index so it needs no storage or randomness.
    """
    bin_, code, name = OTHER_BANKS[(person * 7919) % len(OTHER_BANKS)]
    partial = f"{bin_}{3371 + person % 7:04d}{person:08d}"[:18]
    return partial + luhn_check_digit(partial), code, name


def _date(n: int) -> str:
    return "" if n >= NO_DATE else dt.date.fromordinal(int(n)).strftime("%Y-%m-%d")


def _money(x: float) -> str:
    return f"{x:.2f}"


# --- the model ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SubsidyItem:
    code: str
    name: str
    category: str  # 农业 (agricultural) or 民生 (welfare)
    department: str
    per_household: bool
    fmt: str  # roster format: xlsx or csv
    unit: str  # unit of the basis quantity


SUBSIDY_ITEMS = {
    "NY01": SubsidyItem("NY01", "耕地地力保护补贴", "农业", "上虞区农业农村局", True, "xlsx", "亩"),
    "NY02": SubsidyItem("NY02", "生态公益林补偿", "农业", "上虞区林业局", True, "xlsx", "亩"),
    "MS01": SubsidyItem(
        "MS01", "城乡居民基本养老保险待遇", "民生", "上虞区社会保险事业管理中心", False, "csv", "月"
    ),
    "MS02": SubsidyItem("MS02", "最低生活保障金", "民生", "上虞区民政局", True, "xlsx", "人"),
}


@dataclass(frozen=True)
class SubsidyBatch:
    """One roster: the partner sends it on ``send``; the bank credits and returns on ``pay``."""

    batch_no: str
    item: str
    year: int
    month: int
    send: int  # day number
    pay: int
    town: int  # index into TOWNS, -1 for district-wide


@dataclass
class Model:
    """The period's agency entities, as numpy arrays indexed by person/household."""

    person_card: np.ndarray  # card row per person, -1 if none
    person_age_day: np.ndarray  # day the person turns 60
    household_town: np.ndarray
    household_head: np.ndarray  # person index of each household's head
    farmland: np.ndarray  # 亩 per household (0 = none)
    forest: np.ndarray  # 亩 per household (0 = none)
    pension_covered: np.ndarray  # per person
    low_income_category: np.ndarray  # per register row, index into LOW_INCOME_CATEGORIES
    batches: list[SubsidyBatch]
    utility_sign: dict[str, np.ndarray]  # per household sign-up day (NO_DATE = never)
    utility_usage: dict[str, np.ndarray]  # per household median monthly usage
    payroll_sign: np.ndarray  # per enterprise
    payroll_day: np.ndarray  # day of month
    payroll_bonus: np.ndarray  # pays a year-end bonus in January
    employee_ptr: np.ndarray  # CSR pointers into employee_person
    employee_person: np.ndarray
    employee_salary: np.ndarray  # 2016 monthly base salary per employee
    events: dict[str, np.ndarray]  # the financial-literacy event log


def _town_index() -> dict[str, int]:
    return {t.code_2016: i for i, t in enumerate(TOWNS)}


def _subsidy_batches(rng: np.random.Generator) -> list[SubsidyBatch]:
    """Every roster of 2016-2020: (item, send date, pay date, town) numbered per year."""
    mountain = [i for i, t in enumerate(TOWNS) if t.mountainous]
    plan: list[tuple[int, str, dt.date, int]] = []  # (year, item, send date, town)
    for year in YEARS:
        for town in range(len(TOWNS)):  # farmland: each town's roster in late May-June
            send = dt.date(year, 5, 20) + dt.timedelta(days=int(rng.integers(0, 40)))
            plan.append((year, "NY01", send, town))
        for town in mountain:  # forest compensation: September
            send = dt.date(year, 9, 1) + dt.timedelta(days=int(rng.integers(0, 25)))
            plan.append((year, "NY02", send, town))
        for month in range(1, 13):
            plan.append((year, "MS01", dt.date(year, month, 15), -1))
            plan.append((year, "MS02", dt.date(year, month, 8), -1))
    batches, seq = [], dict.fromkeys(YEARS, 0)
    for year, item, send, town in plan:
        seq[year] += 1
        pay = send + dt.timedelta(days=2 if item == "MS02" else 3)
        batches.append(
            SubsidyBatch(
                f"{item}{year}{seq[year]:04d}",
                item,
                year,
                send.month,
                day_number(send),
                day_number(pay),
                town,
            )
        )
    return batches


def _build(world) -> Model:
    county, pop = world.county, world.population
    rng = world.rng(S_MODEL)
    h, p, cards = county.households, pop.persons, pop.cards
    n_h, n_p = len(h["index"]), len(p["person_no"])
    tidx = _town_index()
    vtown = {v.code: tidx[v.town.code_2016] for v in county.villages}
    vcommunity = {v.code: v.is_community for v in county.villages}
    household_town = np.array([vtown[c] for c in h["village_code"]], dtype=np.int16)
    household_community = np.array([vcommunity[c] for c in h["village_code"]])
    mountain = np.array([t.mountainous for t in TOWNS])
    agricultural = np.asarray(h["household_type"]) == "1"

    person_card = np.full(n_p, -1, dtype=np.int64)
    person_card[cards["person"]] = np.arange(len(cards["person"]))
    household_head = np.arange(n_h)  # persons list the household heads first
    person_household = np.asarray(p["household"])
    rural_person = agricultural[person_household]

    farmland = np.where(
        agricultural & (rng.random(n_h) < FARMLAND_SHARE),
        np.round(np.clip(rng.lognormal(np.log(2.5), 0.6, n_h), 0.3, 50.0), 1),
        0.0,
    )
    forest = np.where(
        agricultural & mountain[household_town] & (rng.random(n_h) < FOREST_SHARE),
        np.round(np.clip(rng.lognormal(np.log(12.0), 0.8, n_h), 1.0, 300.0), 1),
        0.0,
    )
    pension_covered = rural_person & (rng.random(n_p) < PENSION_COVERED)
    low_income_category = rng.choice(
        len(LOW_INCOME_CATEGORIES), size=len(pop.low_income["household"]), p=LOW_INCOME_CATEGORY_P
    )

    # withholding sign-ups: the head must hold a 丰收卡; signed on or after card issue
    head_card = person_card[household_head]
    head_issued = np.where(head_card >= 0, cards["issued"][np.maximum(head_card, 0)], NO_DATE)
    utility_sign, utility_usage = {}, {}
    for code, _, _, p_village, p_community, _ in UTILITIES:
        share = np.where(household_community, p_community, p_village)
        signs = (head_card >= 0) & (rng.random(n_h) < share)
        early = rng.random(n_h) < 0.45
        from_day = np.maximum(
            np.maximum(head_issued, h["register"]), day_number(dt.date(2010, 1, 1))
        )
        later = day_number(PERIOD_START) + (rng.random(n_h) * 1826).astype(np.int64)
        sign = np.where(early, from_day, np.maximum(from_day, later))
        utility_sign[code] = np.where(signs & (sign < h["cancel"]), sign, NO_DATE)
        members = np.asarray(h["member_count"])
        utility_usage[code] = np.round(
            UTILITY_USAGE[code] * (0.5 + 0.25 * members) * rng.lognormal(0, 0.4, n_h), 0
        )

    # payroll: enterprises and cooperatives with staff; employees drawn once, without overlap
    ent = pop.enterprises
    n_e = len(ent["uscc"])
    kind, size = np.asarray(ent["kind"]), np.asarray(ent["size"])
    payer = (kind != "individual") & (rng.random(n_e) < PAYROLL_SHARE)
    staff = np.where(
        kind == "cooperative",
        rng.integers(3, 11, n_e),
        np.where(size == "small", rng.integers(20, 81, n_e), rng.integers(3, 21, n_e)),
    )
    staff = np.where(payer, staff, 0)
    births = p["birth"]
    workers = np.flatnonzero(
        (births >= day_number(dt.date(1958, 1, 1))) & (births <= day_number(dt.date(1997, 12, 31)))
    )
    workers = rng.permutation(workers)
    total = int(staff.sum())
    if total > len(workers):  # tiny scales: fewer staff than the population can supply
        staff = np.floor(staff * len(workers) / total).astype(np.int64)
        total = int(staff.sum())
    employee_ptr = np.r_[0, np.cumsum(staff)]
    employee_person = workers[:total]
    employee_salary = np.round(rng.lognormal(np.log(SALARY_MEDIAN_2016), 0.35, total), -1)
    est = np.asarray(ent["established"])
    payroll_sign = np.where(
        rng.random(n_e) < 0.6,
        np.maximum(est, day_number(dt.date(2012, 1, 1))),
        np.maximum(est, day_number(PERIOD_START) + (rng.random(n_e) * 1826).astype(np.int64)),
    )
    payroll_sign = np.where(payer & (staff > 0), payroll_sign, NO_DATE)

    return Model(
        person_card=person_card,
        person_age_day=births + 60 * 36525 // 100,
        household_town=household_town,
        household_head=household_head,
        farmland=farmland,
        forest=forest,
        pension_covered=pension_covered,
        low_income_category=low_income_category,
        batches=_subsidy_batches(rng),
        utility_sign=utility_sign,
        utility_usage=utility_usage,
        payroll_sign=payroll_sign,
        payroll_day=rng.integers(5, 16, n_e),
        payroll_bonus=rng.random(n_e) < 0.5,
        employee_ptr=employee_ptr,
        employee_person=employee_person,
        employee_salary=employee_salary,
        events=_events(world),
    )


def _events(world) -> dict[str, np.ndarray]:
    """Financial-literacy events (K10): a fixed yearly count across the 440 village units."""
    rng = world.rng(S_EVENTS)
    villages = world.county.villages
    weight = np.array([0.5 if v.is_community else 1.0 for v in villages])
    days, village = [], []
    for k, year in enumerate(YEARS):
        n = int(rng.poisson(EVENTS_PER_YEAR[k]))
        if year == 2020:  # the COVID-19 pause: no village gatherings in February-March
            lo = day_number(dt.date(2020, 4, 1))
        else:
            lo = day_number(dt.date(year, 1, 1))
        days.append(rng.integers(lo, day_number(dt.date(year, 12, 31)) + 1, n))
        village.append(rng.choice(len(villages), size=n, p=weight / weight.sum()))
    d = np.concatenate(days)
    v = np.concatenate(village)
    order = np.lexsort((v, d))
    d, v = d[order], v[order]
    return {
        "day": d,
        "village": v,
        "topic": rng.integers(0, len(EVENT_TOPICS), len(d)),
        "participants": rng.integers(18, 121, len(d)),
    }


_MODELS: dict[tuple[int, float], Model] = {}


def model(world) -> Model:
    """The agency model of ``world``, built once per (seed, scale)."""
    key = (world.seed, world.scale)
    if key not in _MODELS:
        _MODELS.clear()  # keep one model in memory
        _MODELS[key] = _build(world)
    return _MODELS[key]


# --- subsidies ---------------------------------------------------------------------------
@dataclass
class SubsidyRows:
    person: np.ndarray
    household: np.ndarray
    quantity: np.ndarray
    standard: float
    amount: np.ndarray
    own_card: np.ndarray  # credited to a 丰收卡
    failed: np.ndarray
    reason: np.ndarray  # index into SUBSIDY_FAIL_REASONS (-1 = none)


def subsidy_rows(world, batch: SubsidyBatch) -> SubsidyRows:
    """The detail rows of one roster and their results, drawn from the batch's own generator."""
    m, h, cards = model(world), world.county.households, world.population.cards
    rng = world.rng(S_SUBSIDY, batch.year, int(batch.batch_no[-4:]))
    k = batch.year - YEARS[0]
    live = (h["register"] <= batch.send) & (h["cancel"] > batch.pay)
    if batch.town >= 0:
        live &= m.household_town == batch.town
    if batch.item == "NY01":
        hh = np.flatnonzero(live & (m.farmland > 0))
        qty, std = m.farmland[hh], FARMLAND_STANDARD[k]
    elif batch.item == "NY02":
        hh = np.flatnonzero(live & (m.forest > 0))
        qty, std = m.forest[hh], FOREST_STANDARD[k]
    elif batch.item == "MS02":
        li = world.population.low_income
        on = (li["listed_from"] <= batch.send) & (li["listed_to"] > batch.send)
        on &= m.low_income_category == 0
        hh = li["household"][on]
        hh = hh[live[hh]]
        qty = np.asarray(h["member_count"])[hh].astype(float)
        std = DIBAO_STANDARD[k]
    else:  # MS01: per person, rural residents aged 60 and over
        persons = np.flatnonzero(m.pension_covered & (m.person_age_day <= batch.send))
        hh = np.asarray(world.population.persons["household"])[persons]
        keep = live[hh]
        persons, hh = persons[keep], hh[keep]
        qty, std = np.ones(len(hh)), PENSION_STANDARD[k]
    persons = m.household_head[hh] if batch.item != "MS01" else persons
    if batch.item == "MS02":  # the top-up covers part of the gap to the standard
        amount = np.round(qty * std * (0.3 + 0.4 * (hh % 97) / 96.0), 2)
    else:
        amount = np.round(qty * std, 2)
    card = m.person_card[persons]
    own = (card >= 0) & (cards["issued"][np.maximum(card, 0)] <= batch.send)
    failed = rng.random(len(hh)) < np.where(own, SUBSIDY_FAIL_OWN, SUBSIDY_FAIL_OTHER)
    reason = np.where(failed, rng.integers(0, len(SUBSIDY_FAIL_REASONS), len(hh)), -1)
    return SubsidyRows(persons, hh, qty, std, amount, own, failed, reason)


def _account(world, person: int, own: bool) -> tuple[str, str, str]:
    m, cards = model(world), world.population.cards
    if own:
        return cards["card_no"][m.person_card[person]], OWN_BANK_CODE, OWN_BANK_NAME
    return other_bank_card(int(person))


SUBSIDY_HEADER = (
    "批次号",
    "补贴项目代码",
    "补贴项目名称",
    "资金年度",
    "主管部门",
    "拨款文号",
    "总笔数",
    "总金额",
    "发放日期",
)
SUBSIDY_DETAIL = (
    "序号",
    "乡镇(街道)代码",
    "行政村代码",
    "补贴对象姓名",
    "身份证号码",
    "卡号(账号)",
    "开户行",
    "补贴依据数量",
    "计量单位",
    "补贴标准",
    "金额",
    "备注",
)
SUBSIDY_RETURN = SUBSIDY_DETAIL[:7] + ("金额", "处理状态", "失败原因", "入账日期", "银行流水号")


def _numbers(row: tuple, ints: tuple[int, ...], decimals: tuple[int, ...]) -> tuple:
    """A row for a spreadsheet: counts and amounts as numbers, codes and IDs stay text."""
    return tuple(
        int(v) if i in ints else float(v) if i in decimals else v for i, v in enumerate(row)
    )


def _subsidy_tables(world, batch: SubsidyBatch, rows: SubsidyRows):
    """Header values, detail rows and return rows of one batch (as lists of strings)."""
    item = SUBSIDY_ITEMS[batch.item]
    p, h = world.population.persons, world.county.households
    town_day = dt.date.fromordinal(batch.send)
    village_codes = h["village_code"]
    head = (
        batch.batch_no,
        item.code,
        item.name,
        str(batch.year),
        item.department,
        f"虞财农〔{batch.year}〕{int(batch.batch_no[-4:])}号",
        str(len(rows.amount)),
        _money(float(rows.amount.sum())),
        _date(batch.pay),
    )
    details, returns = [], []
    for k in range(len(rows.amount)):
        person, hh = int(rows.person[k]), int(rows.household[k])
        vcode = village_codes[hh]
        town = TOWNS[int(model(world).household_town[hh])].version_on(town_day)
        account, bank_code, bank_name = _account(world, person, bool(rows.own_card[k]))
        d = (
            str(k + 1),
            town.code,
            vcode,
            p["name"][person],
            p["id_no"][person],
            account,
            bank_name,
            f"{rows.quantity[k]:g}",
            SUBSIDY_ITEMS[batch.item].unit,
            _money(rows.standard),
            _money(float(rows.amount[k])),
            "户主代领" if item.per_household else "",
        )
        details.append(d)
        ok = not rows.failed[k]
        returns.append(
            d[:7]
            + (
                d[10],
                "成功" if ok else "失败",
                "" if ok else SUBSIDY_FAIL_REASONS[int(rows.reason[k])],
                _date(batch.pay) if ok else "",
                f"{dt.date.fromordinal(batch.pay):%Y%m%d}{batch.batch_no[-8:]}{k + 1:06d}"
                if ok
                else "",
            )
        )
    return head, details, returns


# --- writing -----------------------------------------------------------------------------
def _folder(out: Path, day: dt.date) -> Path:
    folder = out / f"{day:%Y%m%d}" / SOURCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _finish(path: Path, data: bytes, records: int, table: str) -> WrittenFile:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return WrittenFile(table, path, records, len(data), hashlib.md5(data).hexdigest())


def write_csv(path: Path, table: str, blocks: list[list[tuple]], encoding: str) -> WrittenFile:
    """A spreadsheet-exported CSV: blocks of rows (header names first), CRLF line ends."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    for block in blocks:
        writer.writerows(block)
    records = len(blocks[-1]) - 1
    return _finish(path, text.getvalue().encode(encoding), records, table)


_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def write_xlsx(
    path: Path, table: str, sheets: list[tuple[str, list[tuple]]], day: dt.date
) -> WrittenFile:
    """An .xlsx workbook, byte-identical across runs.

    openpyxl stamps the save time into docProps/core.xml and the zip entries; both are
    replaced by the business date (08:00) so the file depends only on its content.
    """
    wb = Workbook(write_only=True)
    stamp = dt.datetime.combine(day, dt.time(8))
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = "上虞区政府部门"
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    raw = io.BytesIO()
    wb.save(raw)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIMES.sub(rb"\g<1>" + iso + rb"\g<3>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, data)
    records = len(sheets[-1][1]) - 1
    return _finish(path, buf.getvalue(), records, table)


def _write_subsidies(world, out: Path, day: dt.date) -> list[WrittenFile]:
    d = day_number(day)
    written = []
    for batch in model(world).batches:
        if batch.send != d and batch.pay != d:
            continue
        rows = subsidy_rows(world, batch)
        head, details, returns = _subsidy_tables(world, batch, rows)
        item = SUBSIDY_ITEMS[batch.item]
        if batch.send == d:
            name = f"AGY_SUBSIDY_{batch.batch_no}_{day:%Y%m%d}"
            if item.fmt == "xlsx":
                sheets = [
                    ("批次信息", [SUBSIDY_HEADER, _numbers(head, (6,), (7,))]),
                    (
                        "发放明细",
                        [SUBSIDY_DETAIL, *(_numbers(r, (0,), (7, 9, 10)) for r in details)],
                    ),
                ]
                written.append(
                    write_xlsx(_folder(out, day) / f"{name}.xlsx", "SUBSIDY", sheets, day)
                )
            else:
                blocks = [[SUBSIDY_HEADER, head], [SUBSIDY_DETAIL, *details]]
                written.append(
                    write_csv(_folder(out, day) / f"{name}.csv", "SUBSIDY", blocks, BOM_UTF8)
                )
        if batch.pay == d:
            ok = ~rows.failed
            ret_head = SUBSIDY_HEADER + ("成功笔数", "成功金额", "失败笔数", "失败金额")
            ret_values = head + (
                str(int(ok.sum())),
                _money(float(rows.amount[ok].sum())),
                str(int((~ok).sum())),
                _money(float(rows.amount[~ok].sum())),
            )
            name = f"AGY_SUBSIDY_RET_{batch.batch_no}_{day:%Y%m%d}.csv"
            blocks = [[ret_head, ret_values], [SUBSIDY_RETURN, *returns]]
            written.append(write_csv(_folder(out, day) / name, "SUBSIDY_RET", blocks, GBK))
    return written


UTILITY_HEADER = (
    "批次号",
    "收费单位",
    "费项代码",
    "费项名称",
    "账期",
    "扣款日期",
    "总笔数",
    "应扣总金额",
    "成功笔数",
    "成功金额",
    "失败笔数",
    "失败金额",
)
UTILITY_DETAIL = (
    "序号",
    "缴费号",
    "扣款卡号",
    "户名",
    "账期",
    "用量",
    "应扣金额",
    "实扣金额",
    "状态",
    "失败原因",
)


@dataclass
class WithholdRows:
    """The detail rows of one utility's withholding batch (file order)."""

    household: np.ndarray
    bill: str  # bill month YYYYMM (the month before the debit date)
    due: np.ndarray
    usage: np.ndarray
    status: np.ndarray  # S withheld, U unpaid, T awaiting confirmation
    paid: np.ndarray  # = due when S, else 0


def withhold_rows(world, code: str, day: dt.date) -> WithholdRows:
    """Utility ``code``'s batch debited on ``day`` (the utility's day of the month).

    Households signed up and not cancelled on ``day``; each debits the household head's
    丰收卡. Drawn from the batch's own generator, so the result is the same whoever asks.
    """
    m, h = model(world), world.county.households
    d = day_number(day)
    bill = (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y%m")
    season = {1: 1.25, 2: 1.2, 7: 1.35, 8: 1.4, 9: 1.1, 12: 1.15}.get(int(bill[4:]), 1.0)
    rows = np.flatnonzero((m.utility_sign[code] <= d) & (h["cancel"] > d))
    rng = world.rng(S_UTILITY, int(code), day.year * 100 + day.month)
    due = np.round(
        m.utility_usage[code][rows]
        * (season if code != "02" else 1.0)
        * rng.lognormal(0, 0.15, len(rows))
        * UTILITY_PRICE[code],
        2,
    )
    due = np.maximum(due, 1.0)
    usage = np.round(due / UTILITY_PRICE[code], 0)
    u = rng.random(len(rows))
    status = np.where(
        u < WITHHOLD_UNPAID, "U", np.where(u < WITHHOLD_UNPAID + WITHHOLD_PENDING, "T", "S")
    )
    paid = np.where(status == "S", due, 0.0)
    return WithholdRows(rows, bill, due, usage, status, paid)


def _write_utilities(world, out: Path, day: dt.date) -> list[WrittenFile]:
    m, p, cards = model(world), world.population.persons, world.population.cards
    written = []
    for code, partner, dom, _, _, encoding in UTILITIES:
        if day.day != dom:
            continue
        w = withhold_rows(world, code, day)
        rows, bill, due, usage, status, paid = w.household, w.bill, w.due, w.usage, w.status, w.paid
        batch_no = f"DK{code}{day:%Y%m%d}"
        head = (
            batch_no,
            partner,
            code,
            UTILITY_NAMES[code],
            bill,
            f"{day:%Y-%m-%d}",
            str(len(rows)),
            _money(float(due.sum())),
            str(int((status == "S").sum())),
            _money(float(paid.sum())),
            str(int((status != "S").sum())),
            _money(float(due.sum() - paid.sum())),
        )
        details = []
        prefix = {"01": "33", "02": "SY", "03": "RQ"}[code]
        for k, hh in enumerate(rows):
            head_person = int(m.household_head[hh])
            details.append(
                (
                    str(k + 1),
                    f"{prefix}{hh + 1:08d}",
                    cards["card_no"][m.person_card[head_person]],
                    p["name"][head_person],
                    bill,
                    f"{usage[k]:.0f}",
                    _money(due[k]),
                    _money(paid[k]),
                    status[k],
                    {"S": "", "U": "余额不足", "T": "超时待确认"}[status[k]],
                )
            )
        name = f"AGY_WITHHOLD_{code}_{bill}_{day:%Y%m%d}.csv"
        blocks = [[UTILITY_HEADER, head], [UTILITY_DETAIL, *details]]
        written.append(write_csv(_folder(out, day) / name, "WITHHOLD", blocks, encoding))
    return written


PAYROLL_HEADER = (
    "批次号",
    "代发单位名称",
    "统一社会信用代码",
    "代发类型",
    "所属期间",
    "代发日期",
    "总笔数",
    "总金额",
    "成功笔数",
    "成功金额",
    "失败笔数",
    "失败金额",
)
PAYROLL_DETAIL = (
    "序号",
    "姓名",
    "身份证号码",
    "收款账号",
    "收款行行别代码",
    "收款行名称",
    "金额",
    "摘要",
    "处理结果",
    "失败原因",
)


def payroll_rows(
    world, e: int, day: dt.date, bonus: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Employees, amounts and failure flags of one enterprise's payroll batch on ``day``."""
    m = model(world)
    lo, hi = m.employee_ptr[e], m.employee_ptr[e + 1]
    rng = world.rng(S_PAYROLL, e, day.year * 100 + day.month, int(bonus))
    base = m.employee_salary[lo:hi] * (1 + SALARY_GROWTH) ** (day.year - YEARS[0])
    months = rng.uniform(1.0, 3.0) if bonus else 1.0
    amount = np.round(base * months * rng.uniform(0.92, 1.08, hi - lo), 2)
    failed = rng.random(hi - lo) < PAYROLL_FAIL
    return m.employee_person[lo:hi], amount, failed


def payroll_runs(world, day: dt.date) -> list[tuple[int, bool]]:
    """(enterprise, bonus) of every payroll batch paid on ``day``, in file order."""
    m = model(world)
    d = day_number(day)
    monthly = np.flatnonzero((m.payroll_sign <= d) & (m.payroll_day == day.day))
    runs = [(int(e), False) for e in monthly]
    if day.month == 1 and day.day == 25:  # year-end bonuses before the Spring Festival
        runs += [(int(e), True) for e in np.flatnonzero((m.payroll_sign <= d) & m.payroll_bonus)]
    return runs


def _write_payroll(world, out: Path, day: dt.date) -> list[WrittenFile]:
    m, p, cards, ent = (
        model(world),
        world.population.persons,
        world.population.cards,
        world.population.enterprises,
    )
    d = day_number(day)
    written = []
    for e, bonus in payroll_runs(world, day):
        persons, amount, failed = payroll_rows(world, e, day, bonus)
        if len(persons) == 0:
            continue
        period = f"{day.year - 1}" if bonus else f"{day:%Y%m}"
        kind = "奖金" if bonus else "工资"
        batch_no = f"DF{day:%Y%m%d}{e + 1:06d}{int(bonus)}"
        ok = ~failed
        head = (
            batch_no,
            ent["name"][e],
            ent["uscc"][e],
            kind,
            period,
            f"{day:%Y-%m-%d}",
            str(len(amount)),
            _money(float(amount.sum())),
            str(int(ok.sum())),
            _money(float(amount[ok].sum())),
            str(int(failed.sum())),
            _money(float(amount[failed].sum())),
        )
        details = []
        for k, person in enumerate(persons):
            c = m.person_card[person]
            own = c >= 0 and cards["issued"][c] <= d
            account, bank_code, bank_name = _account(world, int(person), bool(own))
            details.append(
                (
                    str(k + 1),
                    p["name"][person],
                    p["id_no"][person],
                    account,
                    bank_code,
                    bank_name,
                    _money(amount[k]),
                    f"{period}{kind}",
                    "失败" if failed[k] else "成功",
                    "户名不符" if failed[k] and k % 2 else ("账户不存在" if failed[k] else ""),
                )
            )
        name = f"AGY_PAYROLL_{ent['uscc'][e]}_{batch_no}_{day:%Y%m%d}.csv"
        blocks = [[PAYROLL_HEADER, head], [PAYROLL_DETAIL, *details]]
        written.append(write_csv(_folder(out, day) / name, "PAYROLL", blocks, BOM_UTF8))
    return written


LOW_INCOME_COLUMNS = (
    "序号",
    "户主身份证号码",
    "户主姓名",
    "乡镇(街道)代码",
    "乡镇(街道)名称",
    "行政村代码",
    "认定年度",
    "认定类别",
    "家庭人口",
    "纳入日期",
    "退出日期",
    "变动类型",
)


def _write_low_income(world, out: Path, day: dt.date, initial: bool) -> list[WrittenFile]:
    """The full register each 10 January (and on a run's first day); monthly changes on the 5th."""
    li, h, m = world.population.low_income, world.county.households, model(world)
    d = day_number(day)
    frm, to = li["listed_from"], li["listed_to"]
    files = []
    if initial or (day.month == 1 and day.day == 10):
        rows = np.flatnonzero((frm <= d) & (to > d))
        files.append(("FULL", rows, np.full(len(rows), "在册")))
    if day.day == 5:
        previous_last = day.replace(day=1) - dt.timedelta(days=1)
        first, last = day_number(previous_last.replace(day=1)), day_number(previous_last)
        added = (frm >= first) & (frm <= last)
        removed = (to >= first) & (to <= last)
        rows = np.flatnonzero(added | removed)
        files.append(("CHANGE", rows, np.where(removed[rows], "退出", "新增")))
    written = []
    for kind, rows, change in files:
        lines = [LOW_INCOME_COLUMNS]
        for k, r in enumerate(rows):
            hh = int(li["household"][r])
            town = TOWNS[int(m.household_town[hh])].version_on(day)
            lines.append(
                (
                    str(k + 1),
                    h["head_id_no"][hh],
                    h["head_name"][hh],
                    town.code,
                    town.name,
                    h["village_code"][hh],
                    str(day.year),
                    LOW_INCOME_CATEGORIES[int(m.low_income_category[r])],
                    str(int(h["member_count"][hh])),
                    _date(frm[r]),
                    _date(to[r]) if to[r] <= d else "",
                    change[k],
                )
            )
        name = f"AGY_LOWINCOME_{kind}_{day:%Y%m%d}.csv"
        written.append(write_csv(_folder(out, day) / name, "LOWINCOME", [lines], GBK))
    return written


DIVISION_COLUMNS = (
    "统计用区划代码",
    "名称",
    "类型",
    "城乡分类代码",
    "乡镇(街道)代码",
    "乡镇(街道)名称",
    "乡镇类型",
    "户籍户数",
    "户籍人口",
    "统计日期",
)
DIVISION_DATES = tuple(dt.date(y, 1, 1) for y in (*YEARS, 2021)) + (
    dt.date(2017, 9, 1),
    dt.date(2019, 11, 1),
)


def village_population(county, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Households and residents per village unit on ``day`` (see County.village_population)."""
    return county.village_population(day)


def _write_division(world, out: Path, day: dt.date, initial: bool) -> list[WrittenFile]:
    if not (initial or day in DIVISION_DATES):
        return []
    county = world.county
    households, residents = village_population(county, day)
    rows = [DIVISION_COLUMNS]
    for i, v in enumerate(county.villages):
        town = v.town.version_on(day)
        rows.append(
            (
                v.code,
                v.name,
                "社区" if v.is_community else "行政村",
                v.urban_rural_code,
                town.code,
                town.name,
                {"1": "街道", "2": "镇", "3": "乡"}[town.type],
                int(households[i]),
                int(residents[i]),
                f"{day:%Y-%m-%d}",
            )
        )
    path = _folder(out, day) / f"AGY_DIVISION_{day:%Y%m%d}.xlsx"
    return [write_xlsx(path, "DIVISION", [("行政区划及人口", rows)], day)]


EVENT_COLUMNS = (
    "活动编号",
    "活动日期",
    "乡镇(街道)代码",
    "行政村代码",
    "行政村名称",
    "活动主题",
    "主办单位",
    "参加人数",
)


def _town_short(town: Town, day: dt.date) -> str:
    return re.sub("(街道|镇|乡)$", "", town.version_on(day).name)


def _write_events(world, out: Path, day: dt.date, initial: bool) -> list[WrittenFile]:
    """The bank's monthly event log on the 3rd (the previous month); a backfill on day one."""
    ev = model(world).events
    month_start = day_number(day.replace(day=1))
    lo = None
    if day.day == 3:
        lo = day_number((day.replace(day=1) - dt.timedelta(days=1)).replace(day=1))
    if initial:
        lo = day_number(PERIOD_START)
    if lo is None:
        return []
    hi = (
        month_start
        if day.day >= 3
        else day_number((day.replace(day=1) - dt.timedelta(days=1)).replace(day=1))
    )
    rows = np.flatnonzero((ev["day"] >= lo) & (ev["day"] < hi))
    if initial and day.day != 3 and len(rows) == 0:
        return []
    villages = world.county.villages
    lines = [EVENT_COLUMNS]
    for r in rows:
        v = villages[int(ev["village"][r])]
        when = dt.date.fromordinal(int(ev["day"][r]))
        lines.append(
            (
                f"JR{when:%Y%m%d}{r + 1:05d}",
                f"{when:%Y-%m-%d}",
                v.town.version_on(when).code,
                v.code,
                v.name,
                EVENT_TOPICS[int(ev["topic"][r])],
                f"上虞农商银行{_town_short(v.town, when)}支行",
                str(int(ev["participants"][r])),
            )
        )
    path = _folder(out, day) / f"AGY_FINLIT_{day:%Y%m%d}.csv"
    return [write_csv(path, "FINLIT", [lines], BOM_UTF8)]


def delivers(day: dt.date) -> bool:
    """Whether the partners send files on ``day``: the plan period and the January after it."""
    return PERIOD_START <= day <= PERIOD_END + dt.timedelta(days=31)


POSTING_KINDS = ("payroll", "subsidy", "pension", "withholding")


@dataclass
class CardPostings:
    """Rows of one date's partner files that the bank posted onto its own 丰收卡 cards."""

    card: np.ndarray  # row of world.population.cards
    amount: np.ndarray  # yuan, as in the file
    kind: np.ndarray  # index into POSTING_KINDS


def own_card_postings(world, day: dt.date) -> CardPostings:
    """The successful own-bank rows of the files delivered on ``day``, in file order.

    Subsidy and pension (MS01) rows credited per the bank's return files (pay date), payroll
    rows paid onto a 丰收卡, withholding rows with status S (always a 丰收卡). Rows paid to
    other banks' cards and failed rows are left out. This is what the core-banking journal
    posts on ``day`` as batch agency (``BA``) entries.
    """
    parts: list[tuple[np.ndarray, np.ndarray, int]] = []
    if delivers(day):
        m, issued = model(world), world.population.cards["issued"]
        d = day_number(day)
        for batch in m.batches:
            if batch.pay == d:
                rows = subsidy_rows(world, batch)
                ok = rows.own_card & ~rows.failed
                kind = POSTING_KINDS.index("pension" if batch.item == "MS01" else "subsidy")
                parts.append((m.person_card[rows.person[ok]], rows.amount[ok], kind))
        for code, _, dom, _, _, _ in UTILITIES:
            if day.day == dom:
                w = withhold_rows(world, code, day)
                ok = w.status == "S"
                card = m.person_card[m.household_head[w.household[ok]]]
                parts.append((card, w.paid[ok], POSTING_KINDS.index("withholding")))
        for e, bonus in payroll_runs(world, day):
            persons, amount, failed = payroll_rows(world, e, day, bonus)
            card = m.person_card[persons]
            ok = ~failed & (card >= 0)
            ok[ok] = issued[card[ok]] <= d
            parts.append((card[ok], amount[ok], POSTING_KINDS.index("payroll")))
    if not parts:
        return CardPostings(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    return CardPostings(
        np.concatenate([c for c, _, _ in parts]).astype(np.int64),
        np.concatenate([a for _, a, _ in parts]).astype(float),
        np.concatenate([np.full(len(c), k, np.int64) for c, _, k in parts]),
    )


def write_day(world, out: Path, day: dt.date, initial: bool) -> list[WrittenFile]:
    """All partner files delivered on business date ``day``."""
    if not delivers(day):
        return []
    return [
        *_write_division(world, out, day, initial),
        *_write_low_income(world, out, day, initial),
        *_write_subsidies(world, out, day),
        *_write_utilities(world, out, day),
        *_write_payroll(world, out, day),
        *_write_events(world, out, day, initial),
    ]


# --- KPIs from the model ------------------------------------------------------------------
def k19(world, year: int, agricultural_only: bool = False) -> dict[str, float]:
    """Subsidies credited in ``year``: amount, distinct recipients, 丰收卡 share of the amount."""
    amount = own = 0.0
    recipients: set[int] = set()
    for batch in model(world).batches:
        if batch.year != year:
            continue
        if agricultural_only and SUBSIDY_ITEMS[batch.item].category != "农业":
            continue
        rows = subsidy_rows(world, batch)
        ok = ~rows.failed
        amount += float(rows.amount[ok].sum())
        own += float(rows.amount[ok & rows.own_card].sum())
        recipients.update(rows.person[ok].tolist())
    return {
        "amount": amount,
        "recipients": len(recipients),
        "own_card_share": own / amount if amount else 0.0,
    }


def k10(world, day: dt.date) -> int:
    """Financial-literacy events held from 2016-01-01 up to ``day``."""
    return int((model(world).events["day"] <= day_number(day)).sum())
