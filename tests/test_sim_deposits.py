"""The deposit writer: accounts, 丰收卡 cards and the transaction journal (CBS files).

Small scales and a few dates keep each test well under a second or two.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook

from puhui import identifiers
from puhui.extract.files import read_control, verify
from puhui.simulate import agency, deposits
from puhui.simulate.county import day_number
from puhui.simulate.world import World

SCALE = 0.005
DAYS = (dt.date(2016, 1, 1), dt.date(2016, 6, 10), dt.date(2020, 6, 20))
COLUMNS = {"ACCOUNT": 10, "CARD": 9, "TXN": 14}


def _write(out: Path) -> list:
    world = World(seed=7, scale=SCALE)
    return [f for day in DAYS for f in deposits.write_day(world, out, day, initial=day == DAYS[0])]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("deposits")
    return out, _write(out)


def _rows(path: Path) -> list[list[str]]:
    return [line.split("|") for line in path.read_bytes().decode("gbk").splitlines()]


def _table(written, table: str) -> list[list[str]]:
    return [r for f in written[1] if f.table == table for r in _rows(f.path)]


def test_same_seed_gives_same_bytes(written, tmp_path):
    again = _write(tmp_path)
    assert [(f.table, f.md5) for f in again] == [(f.table, f.md5) for f in written[1]]


def test_control_files_match_and_gbk_round_trips(written):
    for f in written[1]:
        day = dt.datetime.strptime(f.path.name[-12:-4], "%Y%m%d").date()
        control = read_control(f.path.with_suffix(".ok"))
        data = verify(f.path, control, day)
        text = data.decode("gbk")
        assert text.encode("gbk") == data
        assert all(len(line.split("|")) == COLUMNS[f.table] for line in text.splitlines())
    assert any(re.search("[\u4e00-\u9fff]", r[13]) for r in _table(written, "TXN"))


def test_identifiers_are_valid(written):
    accounts = _table(written, "ACCOUNT")
    for r in accounts:
        if r[1] == "1":
            assert identifiers.is_valid_id(r[2]), r
        else:
            assert identifiers.is_valid_uscc(r[2]), r
    cards = _table(written, "CARD")
    assert cards
    for r in cards:
        assert len(r[0]) == 19 and r[0].startswith("622858") and identifiers.is_valid_luhn(r[0])
        assert identifiers.is_valid_id(r[1])
    for r in _table(written, "TXN"):
        assert r[4] == "" or identifiers.is_valid_luhn(r[4])


def test_accounts_and_cards_are_consistent(written):
    accounts = {r[0]: r for r in _table(written, "ACCOUNT")}
    cards = {r[0]: r for r in _table(written, "CARD")}
    for card in cards.values():
        account = accounts.get(card[2])
        if account is not None and card[5] == account[6]:
            assert account[2] == card[1]  # same holder
        assert card[6] in {"1", "2", "3"}
    for a in accounts.values():
        assert a[3] in {"01", "02", "11"} and re.fullmatch(r"00(0[1-9]|1[0-9]|2[0-4])", a[4])
        assert (a[8] == "1") == (a[7] != "") and (a[7] == "" or a[7] >= a[6])


def test_journal_rows_are_well_formed(written):
    model = deposits.model(World(seed=7, scale=SCALE))
    cards = dict(zip(model.card_no.tolist(), model.card_account.tolist(), strict=True))
    for f in written[1]:
        if f.table != "TXN":
            continue
        rows = _rows(f.path)
        ids = [r[0] for r in rows]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert [r[2] for r in rows] == sorted(r[2] for r in rows)
        for r in rows:
            assert r[5] in deposits.CHANNELS and r[6] in deposits.TXN_TYPES
            assert r[7] == deposits.TXN_TYPES[r[6]][1]
            assert re.fullmatch(r"[0-9]+\.[0-9]{2}", r[8]) and float(r[8]) > 0
            assert (r[10] == "1") == (r[9] == deposits.OWN_BANK_CODE)
            assert r[11] == "0" or r[5] == "TE"
            if r[4]:
                assert cards[r[4]] == r[3]  # the card's linked account
            if r[6] in {"07", "08", "09"}:
                assert r[5] == "BA"


def test_online_transactions_come_from_enrolled_holders():
    world = World(seed=7, scale=SCALE)
    model = deposits.model(world)
    day = dt.date(2019, 3, 5)
    j = deposits.day_journal(world, day)
    online = (j.card >= 0) & ((j.channel == "ME") | (j.channel == "IE"))
    assert online.any()
    assert (model.enrol[j.card[online]] < day.toordinal()).all()


def _kpis(world: World, days: list[dt.date]) -> tuple[float, float]:
    e = c = 0
    inside = total = 0.0
    for day in days:
        j = deposits.day_journal(world, day)
        x, y = deposits.channel_counts(j)
        p, q = deposits.card_outflows(j)
        e, c, inside, total = e + x, c + y, inside + p, total + q
    return e / (e + c), inside / total


def test_kpis_move_in_the_calibrated_direction():
    world = World(seed=3, scale=0.01)
    k07_2016, k18_2016 = _kpis(world, [dt.date(2016, m, 12) for m in range(1, 13)])
    k07_2020, k18_2020 = _kpis(world, [dt.date(2020, m, 12) for m in range(1, 13)])
    assert 0.66 < k07_2016 < 0.76 and 0.81 < k07_2020 < 0.88
    assert k07_2020 > k07_2016 + 0.08
    assert k18_2020 > k18_2016 + 0.03


def _agency_blocks(path: Path) -> tuple[list[str], list[str], list[list[str]]]:
    """(header names, header values, detail rows) of a header/detail partner file.

    CSV: UTF-8 with BOM or GBK (data dictionary: encoding per partner); xlsx: the two
    sheets 批次信息 and 发放明细, read with openpyxl.
    """
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        head = [list(r) for r in wb["批次信息"].iter_rows(values_only=True)]
        detail = [list(r) for r in wb["发放明细"].iter_rows(values_only=True)]
        return head[0], head[1], detail[1:]
    data = path.read_bytes()
    text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "gbk")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1], rows[3:]


def _agency_postings(folder: Path, day: dt.date) -> tuple[Counter, int]:
    """(card, amount, journal type) of the successful own-bank rows of a day's AGY files,
    and the number of rows left out (failed or paid to another bank)."""
    posted: Counter = Counter()
    left_out = 0
    for path in sorted(folder.glob("AGY_*")):
        name = path.name
        if name.startswith("AGY_SUBSIDY_RET_"):
            names, head, detail = _agency_blocks(path)
            kind = "09" if head[names.index("补贴项目代码")] == "MS01" else "08"
            for r in detail:  # ..., 卡号(账号), 开户行, 金额, 处理状态, 失败原因, 入账日期, 流水号
                if r[8] == "成功" and r[6] == agency.OWN_BANK_NAME:
                    assert r[10] == f"{day:%Y-%m-%d}" and r[5].startswith("622858")
                    posted[(r[5], r[7], kind)] += 1
                else:
                    left_out += 1
        elif name.startswith("AGY_WITHHOLD_"):
            for r in _agency_blocks(path)[2]:  # 扣款卡号 (a 丰收卡), 实扣金额, 状态
                if r[8] == "S":
                    posted[(r[2], r[7], "06")] += 1
                else:
                    left_out += 1
        elif name.startswith("AGY_PAYROLL_"):
            for r in _agency_blocks(path)[2]:  # 收款账号, 行别代码, 金额, 处理结果
                if r[8] == "成功" and r[4] == "314":
                    posted[(r[3], r[6], "07")] += 1
                else:
                    left_out += 1
    return posted, left_out


def test_batch_postings_are_the_agency_files_own_bank_rows(tmp_path):
    """BA rows of CBS_TXN = successful own-bank rows of that date's partner files."""
    world = World(seed=7, scale=0.01)
    model = deposits.model(world)
    batches = agency.model(world).batches
    farmland = next(b for b in batches if b.item == "NY01" and b.year == 2017)
    days = (
        dt.date.fromordinal(farmland.send),  # the farmland roster (xlsx)
        dt.date.fromordinal(farmland.pay),  # its return file
        dt.date(2018, 6, 10),  # 低保 pay date, electricity withholding, payroll
        dt.date(2019, 3, 18),  # pension pay date, water withholding
        dt.date(2020, 1, 25),  # year-end bonuses
    )
    kinds: Counter = Counter()
    left_out = 0
    for day in days:
        agency.write_day(world, tmp_path, day, initial=False)
        (txn,) = [f for f in deposits.write_day(world, tmp_path, day, False) if f.table == "TXN"]
        rows = [r for r in _rows(txn.path) if r[5] == "BA"]
        journal = Counter((r[4], r[8], r[6]) for r in rows)
        files, skipped = _agency_postings(tmp_path / f"{day:%Y%m%d}" / "AGY", day)
        assert journal == files, day
        kinds.update(k for _, _, k in files.elements())
        left_out += skipped
        d = day_number(day)
        row = {c: k for k, c in enumerate(model.card_no.tolist())}
        for r in rows:  # onto an active card and its account, in-bank, not reversed
            k = row[r[4]]
            assert model.card_issued[k] <= d < min(model.card_cancel[k], model.card_lost[k])
            assert r[3] == model.card_account[k] and r[9:12] == [deposits.OWN_BANK_CODE, "1", "0"]
    assert set(kinds) == {"06", "07", "08", "09"} and left_out > 0
    # the farmland return's rows come from the roster sent before (xlsx, numeric amounts)
    folder = tmp_path / f"{days[0]:%Y%m%d}" / "AGY"
    (roster,) = folder.glob(f"AGY_SUBSIDY_{farmland.batch_no}_*.xlsx")
    listed = {(r[5], f"{r[10]:.2f}") for r in _agency_blocks(roster)[2]}
    (ret,) = (tmp_path / f"{days[1]:%Y%m%d}" / "AGY").glob(f"*_RET_{farmland.batch_no}_*")
    paid = {(r[5], r[7]) for r in _agency_blocks(ret)[2] if r[8] == "成功"}
    assert paid and paid <= listed
