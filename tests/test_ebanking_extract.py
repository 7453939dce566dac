"""E-banking incremental extraction against a real PostgreSQL, from SQLite and MariaDB.

The platform database is written by the simulator (``write_ebanking_db``) as of the end of
2016-01-03; nights 2016-01-01.. are extracted from it. Upserts from different tests would
collide on the natural keys, so every test gets a warehouse database of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import uuid

import pytest

from puhui import db
from puhui.config import load_settings
from puhui.extract import ebanking as eb
from puhui.simulate.ebanking import write_ebanking_db
from puhui.simulate.world import World

START, END = dt.date(2016, 1, 1), dt.date(2016, 1, 3)
NIGHT1, NIGHT2 = dt.date(2016, 1, 1), dt.date(2016, 1, 2)
ENTITIES = ("users", "logins", "transactions")
SEED, SCALE = 11, 0.002
PII_COLUMNS = {
    "eb_user": ("id_no", "name", "mobile", "card_no"),
    "eb_transaction": ("card_no", "account_no"),
}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """The simulated platform database, written once; tests work on copies."""
    path = tmp_path_factory.mktemp("ebanking") / "ebanking.sqlite"
    write_ebanking_db(World(seed=SEED, scale=SCALE), f"sqlite:///{path}", START, END)
    return path


@pytest.fixture
def source(pristine, tmp_path):
    """A copy of the platform database this test may edit."""
    path = tmp_path / "landing" / "ebanking" / "ebanking.sqlite"
    path.parent.mkdir(parents=True)
    shutil.copy(pristine, path)
    return path


def _settings(tmp_path, dbname: str):
    return load_settings(
        {
            **os.environ,
            "PUHUI_LANDING_DIR": str(tmp_path / "landing"),
            "PUHUI_WAREHOUSE_DB": dbname,
        }
    )


@pytest.fixture
def make_settings(warehouse, tmp_path):
    """Settings on a fresh warehouse database (dropped afterwards); landing = tmp_path."""
    created = []

    def make():
        name = f"puhui_eb_{uuid.uuid4().hex[:10]}"
        created.append(name)
        return _settings(tmp_path, name)

    yield make
    for name in created:
        db.drop_database(warehouse.with_db("postgres"), name)


@pytest.fixture
def settings_(make_settings, source):
    return make_settings()


def _extract_night(settings, night: dt.date, **kwargs) -> dict:
    return {e: eb.extract_ebanking(e, night, settings, **kwargs) for e in ENTITIES}


def _source_count(path, table: str, night: dt.date) -> int:
    end = f"{night + dt.timedelta(days=1):%Y-%m-%d} 00:00:00"
    with sqlite3.connect(path) as conn:
        return conn.execute(
            f"select count(*) from {table} where updated_at < ?", (end,)
        ).fetchone()[0]


def _raw(settings, entity: str, exclude=("_loaded_at",)) -> list[tuple]:
    with db.connect(settings) as conn:
        cur = conn.execute(f"select * from raw.ebanking__{entity} order by 1")
        names = [d.name for d in cur.description]
        keep = [i for i, n in enumerate(names) if n not in exclude]
        return [tuple(row[i] for i in keep) for row in cur.fetchall()]


def _audit(settings, entity: str, night: dt.date):
    with db.connect(settings) as conn:
        return conn.execute(
            "select status, rows_read, rows_loaded, rows_quarantined from ops.load_audit"
            " where source_system = 'ebanking' and table_name = %s and business_date = %s",
            (entity, night),
        ).fetchone()


def _night1_frame(path, entity: str):
    spec = eb.TABLES[entity]
    return eb.read_source(f"sqlite:///{path}", spec, eb.Window(None, dt.datetime(2016, 1, 2), None))


@pytest.mark.parametrize(
    ("entity", "column", "value", "rule"),
    [
        ("users", "id_no", "33062219660420831", "id_format_gb11643"),
        ("users", "mobile", "12345678901", "valid_mobile_cn"),
        ("users", "card_no", "6228580013000009840", "card_checksum_luhn"),
        ("users", "status", "FROZEN", "isin"),
        ("users", "user_id", "<duplicate>", "unique"),
        ("logins", "device", "WATCH", "isin"),
        ("logins", "updated_at", dt.datetime(2015, 1, 1), "not_before_created_at"),
        ("transactions", "amount", -1, "non_negative_amount"),
        ("transactions", "account_no", "12345", "str_matches"),
        ("transactions", "cbs_txn_id", None, "status_outcome_consistent"),
        ("transactions", "fail_reason", "原因不明", "isin"),
    ],
)
def test_schema_rejects_each_defect_with_its_rule(pristine, entity, column, value, rule):
    import polars as pl

    from puhui.validate import split_valid
    from schemas.ebanking import schema_for

    frame = _night1_frame(pristine, entity)
    if entity == "transactions" and column == "cbs_txn_id":
        frame = frame.sort(pl.col("status") != "SUCCESS")  # row 1: a SUCCESS row
    if column == "fail_reason":  # row 1 a consistent FAILED row, then an unknown reason
        frame = frame.with_columns(
            status=pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("FAILED")).otherwise("status"),
            cbs_txn_id=pl.when(pl.int_range(pl.len()) != 1).then("cbs_txn_id"),
        )
    if value == "<duplicate>":
        value = frame[column][0]
    dtype = frame.schema[column]
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit(value, dtype=dtype))
        .otherwise(pl.col(column))
        .alias(column)
    )
    checked = split_valid(frame, schema_for(entity))
    assert checked.rejects.select("row_index", "rule", "column_name").rows() == [
        (1, rule, column if rule != "status_outcome_consistent" else "status")
    ]
    assert checked.valid.height == frame.height - 1


def test_clean_night_loads_completely(settings_, source):
    results = _extract_night(settings_, NIGHT1)
    for entity, table in (
        ("users", "eb_user"),
        ("logins", "eb_login"),
        ("transactions", "eb_transaction"),
    ):
        expected = _source_count(source, table, NIGHT1)
        result = results[entity]
        assert expected > 0
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (
            expected,
            expected,
            0,
        )
        assert len(_raw(settings_, entity)) == expected
        assert _audit(settings_, entity, NIGHT1) == ("loaded", expected, expected, 0)
    with db.connect(settings_) as conn:
        watermark, start, end = conn.execute(
            "select watermark, window_start, window_end from ops.extract_watermark"
            " where table_name = 'transactions' and business_date = %s",
            (NIGHT1,),
        ).fetchone()
    assert start is None and end == dt.datetime(2016, 1, 2)
    assert dt.datetime(2016, 1, 1) < watermark < dt.datetime(2016, 1, 2)


def test_row_updated_after_extraction_replaces_its_earlier_version(settings_, source):
    _extract_night(settings_, NIGHT1)
    with sqlite3.connect(source) as conn:
        txn_id = conn.execute(
            "select txn_id from eb_transaction where status = 'SUCCESS'"
            " and updated_at < '2016-01-02' order by txn_id limit 1"
        ).fetchone()[0]
        conn.execute(
            "update eb_transaction set status = 'FAILED', fail_reason = '系统超时',"
            " cbs_txn_id = null, updated_at = '2016-01-02 09:30:00.000000' where txn_id = ?",
            (txn_id,),
        )
        conn.execute(
            "update eb_user set status = 'LOCKED', updated_at = '2016-01-02 10:00:00.000000'"
            " where user_id = 1"
        )
    before = {r[0]: r for r in _raw(settings_, "transactions")}
    assert before[txn_id][11] == "SUCCESS"

    results = _extract_night(settings_, NIGHT2)
    txns = {r[0]: r for r in _raw(settings_, "transactions")}
    users = {r[0]: r for r in _raw(settings_, "users")}
    # one row per key, the new version, written by night 2's batch
    assert len(txns) == len(_raw(settings_, "transactions"))
    assert txns[txn_id][11:14] == ("FAILED", "系统超时", None)
    assert txns[txn_id][-3:-1] == ("ebanking.transactions.20160102", NIGHT2)
    assert users[1][14] == "LOCKED" and users[1][-2] == NIGHT2
    # night 2 re-read the overlap (night 1's rows) yet stored each key once
    assert results["transactions"].rows_read == _source_count(source, "eb_transaction", NIGHT2)
    assert len(txns) == _source_count(source, "eb_transaction", NIGHT2)
    # untouched rows of night 1 keep night 1's batch
    untouched = next(k for k, r in before.items() if k != txn_id)
    assert txns[untouched][-2] == NIGHT1


def test_rerunning_a_night_gives_identical_raw_tables(settings_):
    _extract_night(settings_, NIGHT1)
    _extract_night(settings_, NIGHT2)
    first = {e: _raw(settings_, e, exclude=()) for e in ENTITIES}
    _extract_night(settings_, NIGHT2)
    _extract_night(settings_, NIGHT1)  # an earlier night rerun after a later one
    assert {e: _raw(settings_, e, exclude=()) for e in ENTITIES} == first
    with db.connect(settings_) as conn:
        audits = conn.execute(
            "select count(*) from ops.load_audit where source_system = 'ebanking'"
        ).fetchone()[0]
    assert audits == 2 * len(ENTITIES)


def test_bad_rows_are_quarantined_with_their_rule_and_counts_add_up(settings_, source):
    with sqlite3.connect(source) as conn:
        user_id, id_no = conn.execute(
            "select user_id, id_no from eb_user where updated_at < '2016-01-02'"
            " order by user_id limit 1"
        ).fetchone()
        broken_id = id_no[:-1] + ("0" if id_no[-1] != "0" else "1")
        conn.execute("update eb_user set id_no = ? where user_id = ?", (broken_id, user_id))
        txn_id = conn.execute(
            "select min(txn_id) from eb_transaction where updated_at < '2016-01-02'"
        ).fetchone()[0]
        conn.execute("update eb_transaction set amount = -12.5 where txn_id = ?", (txn_id,))
    results = _extract_night(settings_, NIGHT1)
    for entity, key in (("users", user_id), ("transactions", txn_id)):
        result = results[entity]
        assert result.rows_quarantined == 1
        assert result.rows_read == result.rows_loaded + result.rows_quarantined
        assert _audit(settings_, entity, NIGHT1) == (
            "loaded",
            result.rows_read,
            result.rows_loaded,
            1,
        )
        assert key not in {r[0] for r in _raw(settings_, entity)}
    with db.connect(settings_) as conn:
        rows = conn.execute(
            "select table_name, line_number, rule, column_name, detail, raw_line, source_file"
            " from quarantine.rejected_rows where source_system = 'ebanking' order by 1"
        ).fetchall()
    assert [r[:4] for r in rows] == [
        ("transactions", txn_id, "non_negative_amount", "amount"),
        ("users", user_id, "id_checksum_gb11643", "id_no"),
    ]
    assert "-12.50" in rows[0][4]
    assert broken_id not in rows[1][4], "personal values are redacted in the detail"
    assert json.loads(rows[1][5])["id_no"] == broken_id  # the restricted raw row
    assert rows[1][6].endswith("ebanking.sqlite#eb_user")


def test_too_many_rejects_hold_the_night_back(settings_, source):
    from puhui.load.loader import RejectThresholdExceeded

    with sqlite3.connect(source) as conn:
        conn.execute("update eb_transaction set amount = -amount")
    with pytest.raises(
        RejectThresholdExceeded,
        match=r"eb_transaction: (\d+) of \1 rows rejected.*non_negative_amount on amount",
    ):
        eb.extract_ebanking("transactions", NIGHT1, settings_)
    assert _raw(settings_, "transactions") == []
    status, read, loaded, quarantined = _audit(settings_, "transactions", NIGHT1)
    assert (status, loaded) == ("rejected", 0) and quarantined == read > 0
    with db.connect(settings_) as conn:
        assert conn.execute("select count(*) from ops.extract_watermark").fetchone()[0] == 0


def test_interrupted_load_leaves_nothing_and_succeeds_on_retry(settings_, monkeypatch):
    real_copy = eb._copy

    def copy_then_die(cur, table, frame):
        real_copy(cur, table, frame)
        if "_stage_" in table.as_string(cur):
            raise ConnectionError("connection lost mid-load")

    monkeypatch.setattr(eb, "_copy", copy_then_die)
    with pytest.raises(ConnectionError):
        eb.extract_ebanking("transactions", NIGHT1, settings_)
    assert _raw(settings_, "transactions") == []
    with db.connect(settings_) as conn:
        for table in ("ops.extract_watermark", "quarantine.rejected_rows"):
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == 0
    assert _audit(settings_, "transactions", NIGHT1) == ("failed", None, None, None)
    monkeypatch.setattr(eb, "_copy", real_copy)
    result = eb.extract_ebanking("transactions", NIGHT1, settings_)
    assert len(_raw(settings_, "transactions")) == result.rows_loaded == result.rows_read > 0
    assert _audit(settings_, "transactions", NIGHT1)[0] == "loaded"


def test_missing_source_database_fails_and_is_audited(make_settings):
    settings = make_settings()  # no source fixture: the landing folder is empty
    with pytest.raises(FileNotFoundError, match="ebanking.sqlite does not exist"):
        eb.extract_ebanking("users", NIGHT1, settings)
    assert not (settings.landing_dir / "ebanking" / "ebanking.sqlite").exists()
    assert _audit(settings, "users", NIGHT1) == ("failed", None, None, None)


def _pii_values(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {
            value
            for table, columns in PII_COLUMNS.items()
            for column in columns
            for (value,) in conn.execute(f"select distinct {column} from {table}")
        }


def test_no_raw_personal_value_lands_in_raw(settings_, source):
    _extract_night(settings_, NIGHT1)
    _extract_night(settings_, NIGHT2)
    personal = _pii_values(source)
    with db.connect(settings_) as conn:
        for entity in ENTITIES:
            for (row,) in conn.execute(f"select row_to_json(t) from raw.ebanking__{entity} t"):
                values = {str(v) for v in row.values()}
                assert not values & personal, f"personal data in raw.ebanking__{entity}"


def test_mariadb_source_gives_the_same_raw_rows(make_settings, source, tmp_path):
    import sqlalchemy as sa
    from conftest import require_service

    require_service("MariaDB", "127.0.0.1", 3306)
    name = f"puhui_eb_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/test?charset=utf8mb4")
    with admin.begin() as conn:
        conn.execute(sa.text(f"create database {name} character set utf8mb4"))
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    try:
        write_ebanking_db(World(seed=SEED, scale=SCALE), url, START, END)
        from_sqlite, from_mariadb = make_settings(), make_settings()
        for night in (NIGHT1, NIGHT2):
            _extract_night(from_sqlite, night)
            _extract_night(from_mariadb, night, url=url)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"drop database if exists {name}"))
        admin.dispose()
    for entity in ENTITIES:
        skip = ("_loaded_at", "_source_file")
        assert _raw(from_mariadb, entity, skip) == _raw(from_sqlite, entity, skip)
        assert _raw(from_mariadb, entity, skip)
