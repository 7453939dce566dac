"""The 丰收互联 e-banking OLTP database: SQLite by default, MariaDB where reachable.

A small world and one week keep each test fast; the MariaDB test writes under a table
prefix of its own and drops its tables afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket

import numpy as np
import pytest
import sqlalchemy as sa

from puhui import identifiers
from puhui.simulate import deposits, ebanking
from puhui.simulate.world import World

SCALE = 0.005
START, END = dt.date(2020, 12, 24), dt.date(2020, 12, 31)
END_OF_RUN = dt.datetime(2021, 1, 1)
TABLES = ("eb_user", "eb_login", "eb_transaction")


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory) -> sa.Engine:
    out = tmp_path_factory.mktemp("ebanking")
    ebanking.finish(World(seed=11, scale=SCALE), out, START, END)
    engine = sa.create_engine(f"sqlite:///{ebanking.database_path(out)}")
    yield engine
    engine.dispose()


def _all(engine: sa.Engine, sql: str) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).all()


def _counts(engine: sa.Engine, prefix: str = "") -> dict[str, int]:
    return {t: _all(engine, f"select count(*) from {prefix}{t}")[0][0] for t in TABLES}


def test_sqlite_database_builds(sqlite_db):
    counts = _counts(sqlite_db)
    assert all(n > 0 for n in counts.values()), counts


def test_rows_are_updated_after_creation_but_not_after_the_run(sqlite_db):
    for table in TABLES:
        (latest,) = _all(sqlite_db, f"select max(updated_at) from {table}")[0]
        assert dt.datetime.fromisoformat(latest) < END_OF_RUN
        bad = _all(sqlite_db, f"select count(*) from {table} where updated_at < created_at")
        assert bad[0][0] == 0
    total, later, next_day = _all(
        sqlite_db,
        "select count(*), sum(updated_at > created_at),"
        " sum(date(updated_at) > date(created_at)) from eb_transaction",
    )[0]
    assert 0.05 < later / total < 0.6 and next_day > 0  # late confirmations cross midnight
    users, changed = _all(sqlite_db, "select count(*), sum(updated_at > created_at) from eb_user")[
        0
    ]
    assert 0.1 < changed / users < 0.6
    statuses = {s for (s,) in _all(sqlite_db, "select distinct status from eb_transaction")}
    assert {"SUCCESS", "FAILED"} <= statuses <= {"SUCCESS", "FAILED", "PENDING"}


def test_personal_data_is_valid(sqlite_db):
    for id_no, mobile, card in _all(sqlite_db, "select id_no, mobile, card_no from eb_user"):
        assert identifiers.is_valid_id(id_no)
        assert re.fullmatch(r"1[3-9][0-9]{9}", mobile)
        assert identifiers.is_valid_luhn(card) and card.startswith("622858")


def test_successful_transactions_are_journal_rows(sqlite_db):
    world = World(seed=11, scale=SCALE)
    day = END
    journal = deposits.day_journal(world, day)
    ids = deposits.txn_id(day, np.arange(len(journal)))
    by_id = {ids[k]: k for k in range(len(journal))}
    model = deposits.model(world)
    rows = _all(
        sqlite_db,
        "select t.cbs_txn_id, t.card_no, t.amount, t.channel, u.card_no from eb_transaction t"
        " join eb_user u on u.user_id = t.user_id"
        f" where t.status = 'SUCCESS' and t.cbs_txn_id like '{day:%Y%m%d}%'",
    )
    assert rows
    for cbs_id, card, amount, channel, user_card in rows:
        k = by_id[cbs_id]
        assert model.card_no[journal.card[k]] == card == user_card
        assert float(journal.amount[k]) == pytest.approx(float(amount))
        assert journal.channel[k] == {"MOBILE": "ME", "INTERNET": "IE"}[channel]


def test_same_world_gives_same_rows(sqlite_db, tmp_path):
    ebanking.finish(World(seed=11, scale=SCALE), tmp_path, START, END)
    again = sa.create_engine(f"sqlite:///{ebanking.database_path(tmp_path)}")
    for table in TABLES:
        order = _all(again, f"select * from {table} order by 1")
        assert order == _all(sqlite_db, f"select * from {table} order by 1")
    again.dispose()


def test_enrolments_grow_as_calibrated():
    world = World(seed=3, scale=0.01)
    counts = [ebanking.enrolled_count(world, dt.date(y, 12, 31)) for y in range(2015, 2021)]
    assert counts == sorted(counts)
    assert 300 <= counts[0] <= 500 and counts[-1] > 1500  # 3-5万 -> >15万 at scale 1.0


def test_mariadb_holds_the_same_rows():
    try:
        socket.create_connection(("127.0.0.1", 3306), 2).close()
    except OSError as exc:
        message = f"MariaDB is not reachable on 127.0.0.1:3306 ({exc})"
        if os.environ.get("PUHUI_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; PUHUI_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(message)
    world = World(seed=11, scale=SCALE)
    start, end = dt.date(2020, 12, 30), END
    prefix = f"t{os.getpid()}_"
    url = "mysql+pymysql://root@127.0.0.1:3306/test"
    mariadb = ebanking.write_ebanking_db(world, url, start, end, prefix=prefix)
    engine = sa.create_engine(url)
    try:
        assert _counts(engine, prefix) == {t: mariadb[prefix + t] for t in TABLES}
        sqlite = ebanking.write_ebanking_db(world, "sqlite://", start, end)
        assert list(mariadb.values()) == list(sqlite.values())
        late = _all(
            engine, f"select count(*) from {prefix}eb_transaction where updated_at > created_at"
        )
        assert late[0][0] > 0
    finally:
        ebanking.tables(prefix)[0].drop_all(engine)
        engine.dispose()


def test_postgresql_holds_the_same_rows(warehouse):
    """The same database on PostgreSQL (the test session's warehouse server)."""
    from puhui import db

    world = World(seed=11, scale=SCALE)
    start, end = dt.date(2020, 12, 30), END
    admin = warehouse.with_db("postgres")
    db.create_database(admin, "puhui_ebanking_source")
    url = warehouse.with_db("puhui_ebanking_source").sqlalchemy_url
    try:
        postgres = ebanking.write_ebanking_db(world, url, start, end)
        engine = sa.create_engine(url)
        try:
            assert _counts(engine) == {t: postgres[t] for t in TABLES}
            assert list(postgres.values()) == list(
                ebanking.write_ebanking_db(world, "sqlite://", start, end).values()
            )
        finally:
            engine.dispose()
    finally:
        db.drop_database(admin, "puhui_ebanking_source")
