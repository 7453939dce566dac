"""The simulated agency and government partners' files (``puhui.simulate.agency``).

Small scales and a handful of dates keep each test well under a second or two.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from puhui import identifiers
from puhui.simulate import agency
from puhui.simulate.county import day_number
from puhui.simulate.world import World

SCALE = 0.005
SEED = 11
# dates that between them produce every kind of file: the first day (division, register,
# event backfill), pay days, a farmland roster season day, the bonus day, a reorganisation
DAYS = (
    dt.date(2017, 1, 3),
    dt.date(2017, 1, 5),
    dt.date(2017, 1, 8),
    dt.date(2017, 1, 10),
    dt.date(2017, 1, 15),
    dt.date(2017, 1, 18),
    dt.date(2017, 1, 22),
    dt.date(2017, 1, 25),
)
BOM = b"\xef\xbb\xbf"


def _run(out: Path, days=DAYS, scale=SCALE, seed=SEED) -> list:
    world = World(seed=seed, scale=scale)
    written = []
    for day in days:
        written += agency.write_day(world, out, day, initial=(day == days[0]))
    return written


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("agy")
    roster_days = sorted(
        {
            dt.date.fromordinal(b.send)
            for b in agency.model(World(SEED, SCALE)).batches
            if b.year == 2017 and b.item == "NY01"
        }
    )[:2]
    return out, _run(out, days=DAYS + tuple(roster_days) + (dt.date(2017, 9, 1),))


def _encoding(path: Path) -> str:
    return "utf-8-sig" if path.read_bytes().startswith(BOM) else "gbk"


def _rows(path: Path) -> list[list[str]]:
    """Rows of a CSV, or of every sheet of an xlsx in order."""
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        return [
            ["" if c is None else str(c) for c in row]
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
        ]
    return list(csv.reader(io.StringIO(path.read_text(encoding=_encoding(path)))))


def _header_detail(path: Path) -> tuple[dict, list[dict]]:
    rows = _rows(path)
    head = dict(zip(rows[0], rows[1], strict=True))
    details = [dict(zip(rows[2], r, strict=True)) for r in rows[3:]]
    return head, details


def _files(landed, prefix: str) -> list[Path]:
    return [w.path for w in landed[1] if w.path.name.startswith(prefix)]


def test_every_kind_of_file_is_written(landed):
    tables = {w.table for w in landed[1]}
    assert tables == {
        "DIVISION",
        "LOWINCOME",
        "SUBSIDY",
        "SUBSIDY_RET",
        "WITHHOLD",
        "PAYROLL",
        "FINLIT",
    }
    assert any(p.suffix == ".xlsx" for p in _files(landed, "AGY_SUBSIDY_NY01"))
    assert all(w.path.parent.name == "AGY" for w in landed[1])


def test_same_inputs_same_bytes(tmp_path):
    days = (dt.date(2018, 1, 1), dt.date(2018, 1, 10), dt.date(2018, 1, 15))
    a = _run(tmp_path / "a", days)
    b = _run(tmp_path / "b", days)
    assert [w.md5 for w in a] == [w.md5 for w in b]
    assert [w.path.name for w in a] == [w.path.name for w in b]
    c = _run(tmp_path / "c", days, seed=SEED + 1)
    assert [w.md5 for w in a] != [w.md5 for w in c]


def test_xlsx_carries_no_wall_clock(tmp_path):
    rows = [("a", "b"), (1, "上虞")]
    day = dt.date(2019, 11, 1)
    first = agency.write_xlsx(tmp_path / "1.xlsx", "T", [("s", rows)], day)
    second = agency.write_xlsx(tmp_path / "2.xlsx", "T", [("s", rows)], day)
    assert first.path.read_bytes() == second.path.read_bytes()
    with zipfile.ZipFile(first.path) as z:
        assert {i.date_time for i in z.infolist()} == {(2019, 11, 1, 8, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2019-11-01T08:00:00Z") == 2


def test_encodings_are_as_documented(landed):
    bom = ("AGY_SUBSIDY_MS01", "AGY_PAYROLL_", "AGY_FINLIT_", "AGY_WITHHOLD_02", "AGY_WITHHOLD_03")
    gbk = ("AGY_SUBSIDY_RET_", "AGY_LOWINCOME_", "AGY_WITHHOLD_01")
    for w in landed[1]:
        if w.path.suffix == ".xlsx":
            assert zipfile.is_zipfile(w.path)
            continue
        data = w.path.read_bytes()
        assert data.endswith(b"\r\n")
        if w.path.name.startswith(bom):
            assert data.startswith(BOM), w.path.name
            data.decode("utf-8-sig")
        else:
            assert w.path.name.startswith(gbk), w.path.name
            assert not data.startswith(BOM)
            text = data.decode("gbk")
            assert text.encode("gbk") == data  # GBK round-trip
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")


def test_header_totals_reconcile_with_details(landed):
    checked = 0
    for w in landed[1]:
        if w.table not in ("SUBSIDY", "SUBSIDY_RET", "WITHHOLD", "PAYROLL"):
            continue
        head, details = _header_detail(w.path)
        assert int(head["总笔数"]) == len(details) == w.records
        amount_column = {"WITHHOLD": "应扣金额"}.get(w.table, "金额")
        total_column = {"WITHHOLD": "应扣总金额"}.get(w.table, "总金额")
        assert Decimal(head[total_column]) == sum(Decimal(d[amount_column]) for d in details)
        if w.table != "SUBSIDY":
            ok_status = {"WITHHOLD": "S"}.get(w.table, "成功")
            status_column = {"WITHHOLD": "状态", "PAYROLL": "处理结果"}.get(w.table, "处理状态")
            ok = [d for d in details if d[status_column] == ok_status]
            assert int(head["成功笔数"]) == len(ok)
            assert int(head["失败笔数"]) == len(details) - len(ok)
            paid_column = {"WITHHOLD": "实扣金额"}.get(w.table, "金额")
            assert Decimal(head["成功金额"]) == sum(Decimal(d[paid_column]) for d in ok)
            failed = [d for d in details if d[status_column] != ok_status]
            assert all(d["失败原因"] for d in failed) and not any(d["失败原因"] for d in ok)
        checked += 1
    assert checked > 10


def test_return_file_matches_its_roster(landed):
    out = landed[0]
    for ret in _files(landed, "AGY_SUBSIDY_RET_"):
        batch_no = ret.name.split("_")[3]
        rosters = list(out.glob(f"*/AGY/AGY_SUBSIDY_{batch_no}_*"))
        if not rosters:  # the roster was sent before the first simulated date
            continue
        head, details = _header_detail(rosters[0])
        ret_head, ret_details = _header_detail(ret)
        assert Decimal(head["总金额"]) == Decimal(ret_head["总金额"])
        assert [d["身份证号码"] for d in details] == [d["身份证号码"] for d in ret_details]


def test_every_id_card_and_credit_code_is_valid(landed):
    ids = cards = codes = 0
    for w in landed[1]:
        rows = _rows(w.path)
        header_rows = [i for i, r in enumerate(rows) if r and r[0] in ("序号", "批次号")]
        columns = rows[header_rows[-1]] if header_rows else rows[0]
        for r in rows[header_rows[-1] + 1 if header_rows else 1 :]:
            record = dict(zip(columns, r, strict=True))
            for name, value in record.items():
                if "身份证号码" in name:
                    assert identifiers.is_valid_id(value), value
                    ids += 1
                if name in ("卡号(账号)", "扣款卡号", "收款账号"):
                    assert len(value) == 19 and identifiers.is_valid_luhn(value), value
                    cards += 1
        if w.table == "PAYROLL":
            head, _ = _header_detail(w.path)
            assert identifiers.is_valid_uscc(head["统一社会信用代码"])
            codes += 1
    assert ids > 100 and cards > 100 and codes > 0


def test_own_cards_are_the_persons_feng_shou_cards(landed):
    world = World(SEED, SCALE)
    p, c = world.population.persons, world.population.cards
    card_of = {p["id_no"][person]: no for person, no in zip(c["person"], c["card_no"], strict=True)}
    for path in _files(landed, "AGY_PAYROLL_"):
        _, details = _header_detail(path)
        for d in details:
            if d["收款行行别代码"] == agency.OWN_BANK_CODE:
                assert card_of[d["身份证号码"]] == d["收款账号"]
            else:
                assert not d["收款账号"].startswith("622858")


def test_register_residents_equal_household_member_sums(landed):
    world = World(SEED, SCALE)
    h = world.county.households
    path = next(p for p in _files(landed, "AGY_DIVISION_"))
    day = dt.datetime.strptime(path.stem.split("_")[-1], "%Y%m%d").date()
    d = day_number(day)
    expected: dict[str, list[int]] = {v.code: [0, 0] for v in world.county.villages}
    for code, reg, cancel, members in zip(
        h["village_code"], h["register"], h["cancel"], h["member_count"], strict=True
    ):
        if reg <= d < cancel:
            expected[code][0] += 1
            expected[code][1] += int(members)
    rows = _rows(path)
    assert len(rows) - 1 == 440
    got = {r[0]: [int(r[7]), int(r[8])] for r in rows[1:]}
    assert got == expected
    assert sum(1 for r in rows[1:] if r[2] == "社区") == 87


def test_division_register_shows_the_2019_reorganisation(tmp_path):
    world = World(SEED, SCALE)
    before = agency._write_division(world, tmp_path, dt.date(2019, 1, 1), False)[0].path
    after = agency._write_division(world, tmp_path, dt.date(2019, 11, 1), False)[0].path
    towns_before = {r[5] for r in _rows(before)[1:]}
    towns_after = {r[5] for r in _rows(after)[1:]}
    assert "崧厦镇" in towns_before and "崧厦街道" in towns_after
    assert "崧厦街道" not in towns_before


def test_low_income_register_matches_the_population(landed):
    world = World(SEED, SCALE)
    li, h = world.population.low_income, world.county.households
    path = _files(landed, "AGY_LOWINCOME_FULL_")[0]
    d = day_number(dt.datetime.strptime(path.stem.split("_")[-1], "%Y%m%d").date())
    on = (li["listed_from"] <= d) & (li["listed_to"] > d)
    expected = sorted(h["head_id_no"][i] for i in li["household"][on])
    rows = _rows(path)
    assert sorted(r[1] for r in rows[1:]) == expected
    assert {r[7] for r in rows[1:]} <= set(agency.LOW_INCOME_CATEGORIES)


def test_kpis_move_in_the_calibrated_direction():
    world = World(SEED, SCALE)
    assert agency.k10(world, dt.date(2015, 12, 31)) == 0
    k10_2020 = agency.k10(world, dt.date(2020, 12, 31))
    assert 2500 < k10_2020 < 3000  # scale-independent; calibrated to just miss 3000
    first, last = agency.k19(world, 2016), agency.k19(world, 2020)
    assert last["amount"] > first["amount"] > 0
    assert last["own_card_share"] > first["own_card_share"]
    agri = agency.k19(world, 2020, agricultural_only=True)
    assert 0 < agri["amount"] < last["amount"]


def test_other_bank_cards_are_unique_and_valid():
    numbers = [agency.other_bank_card(i)[0] for i in range(0, 800_000, 997)]
    assert len(set(numbers)) == len(numbers)
    assert all(identifiers.is_valid_luhn(n) and len(n) == 19 for n in numbers)
    assert not any(n.startswith("622858") for n in numbers)


def test_withholding_only_from_signed_card_holders(landed):
    world = World(SEED, SCALE)
    m = agency.model(world)
    for path in _files(landed, "AGY_WITHHOLD_"):
        code = path.name.split("_")[2]
        day = dt.datetime.strptime(path.stem.split("_")[-1], "%Y%m%d").date()
        _, details = _header_detail(path)
        households = np.array([int(d["缴费号"][2:]) - 1 for d in details])
        assert (m.utility_sign[code][households] <= day_number(day)).all()
        assert all(d["扣款卡号"].startswith("622858") for d in details)


def test_register_uses_the_bank_networks_resident_definition():
    bank_network = pytest.importorskip("puhui.simulate.bank_network")
    county = World(SEED, SCALE).county
    day = dt.date(2019, 11, 1)
    _, residents = agency.village_population(county, day)
    assert np.array_equal(residents, bank_network.village_residents(county, day).astype(np.int64))
