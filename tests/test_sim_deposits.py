"""The deposit writer: accounts, 丰收卡 cards and the transaction journal (CBS files).

Small scales and a few dates keep each test well under a second or two.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from puhui import identifiers
from puhui.extract.files import read_control, verify
from puhui.simulate import deposits
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
