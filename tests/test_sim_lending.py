"""The lending writer: valid identifiers, consistent balances and journal, KPI directions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from puhui.extract.files import read_control, verify
from puhui.identifiers import is_valid_id, is_valid_uscc
from puhui.simulate import core_banking, lending
from puhui.simulate.county import day_number
from puhui.simulate.world import World

SCALE, SEED = 0.005, 11
FIRST = dt.date(2018, 12, 29)
DAYS = [FIRST + dt.timedelta(days=k) for k in range(4)]  # crosses the 31 Dec rating day
LENDING_TABLES = ("CUSTOMER", "LOAN", "LOAN_BALANCE", "LOAN_TXN", "CREDIT_RATING")


@pytest.fixture(autouse=True)
def _registered_tables(monkeypatch):
    """write_table times each control file by the table's place in core_banking.TABLES."""
    missing = tuple(t for t in LENDING_TABLES if t not in core_banking.TABLES)
    monkeypatch.setattr(core_banking, "TABLES", core_banking.TABLES + missing)


def _write(out: Path) -> dict[tuple[str, dt.date], Path]:
    world = World(seed=SEED, scale=SCALE)
    files = {}
    for day in DAYS:
        for f in lending.write_day(world, out, day, initial=(day == FIRST)):
            files[(f.table, day)] = f.path
    return files


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[tuple[str, dt.date], Path]:
    with pytest.MonkeyPatch.context() as mp:
        missing = tuple(t for t in LENDING_TABLES if t not in core_banking.TABLES)
        mp.setattr(core_banking, "TABLES", core_banking.TABLES + missing)
        return _write(tmp_path_factory.mktemp("lending"))


def _rows(path: Path) -> list[list[str]]:
    return [line.split("|") for line in path.read_bytes().decode("gbk").splitlines()]


def test_same_seed_same_bytes(written, tmp_path):
    again = _write(tmp_path)
    assert again.keys() == written.keys()
    for key, path in written.items():
        assert path.read_bytes() == again[key].read_bytes(), key


def test_control_files_match_and_gbk_round_trips(written):
    for (_, day), path in written.items():
        control = read_control(path.with_suffix(".ok"))
        data = verify(path, control, day)
        assert data.decode("gbk").encode("gbk") == data


def test_customers_carry_valid_ids_and_codes(written):
    rows = _rows(written[("CUSTOMER", FIRST)])
    assert rows and all(len(r) == 15 for r in rows)
    for r in rows:
        if r[1] == "1":
            assert is_valid_id(r[2]) and r[3], r
        else:
            assert r[2] == "" and r[4] == "" and is_valid_uscc(r[5]), r
        if r[5]:
            assert is_valid_uscc(r[5])
        assert r[7] in {"1", "2", "3", "4"}
        assert float(r[12]) > 0


def test_balance_file_equals_loans_outstanding(written):
    loans = {r[0]: r for r in _rows(written[("LOAN", FIRST)])}
    balances = _rows(written[("LOAN_BALANCE", FIRST)])
    outstanding = {no for no, r in loans.items() if r[17] != "3"}
    assert {b[0] for b in balances} == outstanding
    for b in balances:
        loan = loans[b[0]]
        assert 0 < float(b[2]) <= float(loan[11])
        assert (int(b[3]) > 0) == (loan[17] == "2")


def test_balance_never_exceeds_contract_and_is_zero_after_settlement():
    m = lending.model(World(seed=SEED, scale=SCALE))
    loans = m.loans
    for day in range(day_number(dt.date(2016, 1, 1)), day_number(dt.date(2020, 12, 31)), 97):
        rows, balance = lending.balances_on(m, day)
        assert (balance > 0).all() and (balance <= loans["amount"][rows]).all()
        assert (loans["settle"][rows] > day).all() and (loans["disb"][rows] <= day).all()
        settled = np.flatnonzero(loans["settle"] <= day)
        assert not np.isin(settled, rows).any()


def test_journal_explains_each_change_of_balance(written):
    def balances(day):
        return {r[0]: round(float(r[2]) * 100) for r in _rows(written[("LOAN_BALANCE", day)])}

    for before, day in zip(DAYS, DAYS[1:], strict=False):
        prev, now = balances(before), balances(day)
        moved: dict[str, int] = {}
        for t in _rows(written[("LOAN_TXN", day)]):
            sign = 1 if t[3] == "01" else -1
            moved[t[1]] = moved.get(t[1], 0) + sign * round(float(t[4]) * 100)
        for loan in prev.keys() | now.keys():
            assert now.get(loan, 0) - prev.get(loan, 0) == moved.get(loan, 0), (day, loan)


def test_ratings_on_their_days(written):
    households = _rows(written[("CREDIT_RATING", dt.date(2018, 12, 31))])
    assert households and {r[1] for r in households} == {"1"}
    assert {r[5] for r in households} <= {"AAA", "AA", "A", "N"}
    assert all(r[4] == "2018" and r[7] == "20181231" for r in households)
    assert _rows(written[("CREDIT_RATING", FIRST)]) == []
    world = World(seed=SEED, scale=SCALE)
    m = lending.model(world)
    villages = lending.rating_lines(world, m, day_number(dt.date(2019, 1, 31)))
    assert len(villages) == sum(not v.is_community for v in world.county.villages)


def test_kpis_move_in_the_calibrated_direction():
    m = lending.model(World(seed=SEED, scale=0.01))
    k15 = lending.kpis_on(m, day_number(dt.date(2015, 12, 31)))
    k20 = lending.kpis_on(m, day_number(dt.date(2020, 12, 31)))
    for name in (
        "total_balance",
        "credit_balance",
        "K05_agri_or_small_micro",
        "K08_green_share",
        "K13_small_credit_balance",
        "K14_farm_balance",
        "K15_small_micro_balance",
        "K16_credit_village_share",
        "K17_credit_household_share",
    ):
        assert k20[name] > k15[name], name
    assert k15["K03_low_income_disbursed"] == 0 < k20["K03_low_income_disbursed"]
    assert k20["K17_credit_household_share"] < 0.8  # the calibrated miss


def test_borrowers_exist_when_they_borrow():
    world = World(seed=SEED, scale=SCALE)
    m = lending.model(world)
    loans, cust = m.loans, m.customers
    first = np.full(len(cust["open"]), np.iinfo(np.int64).max)
    np.minimum.at(first, loans["customer"], loans["disb"])
    assert (cust["open"] <= first).all()
    person = cust["person"][loans["customer"]]
    register = world.county.households["register"]
    head = (person >= 0) & (person < len(register))
    assert (loans["disb"][head] >= register[person[head]]).all()
    low_income = loans["product"] == "P05"
    assert (loans["amount"][low_income] <= 50_000 * lending.YUAN).all()
    assert loans["low_income_at_disb"][low_income & (loans["disb"] >= lending.START)].all()
