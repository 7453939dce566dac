"""The 丰收互联 e-banking platform's OLTP database: users, logins and electronic transactions.

``finish`` writes it once per run (default a SQLite file ``<out>/ebanking/ebanking.sqlite``);
``write_ebanking_db`` takes any SQLAlchemy URL (SQLite, MariaDB/MySQL, PostgreSQL) and
creates the tables with SQLAlchemy Core, so the DDL is portable.

The database holds the state as of the end of the run, like a production OLTP database
read the morning after: users enrolled up to then (including before the run), logins and
transactions of the run's days. Rows change after they are inserted (transactions confirmed
late, users updating their profile, being locked or closing their enrolment), so
``updated_at`` is later than ``created_at`` for part of the rows, but never after the end
of the run. Timestamps are local time (UTC+8) without a zone, as the platform stores them.

Enrolment dates come from the deposit model (deposits.py), and the successful transactions
are exactly the personal ME/IE rows of the core-banking journal ``CBS_TXN`` (same card,
amount and minute; ``cbs_txn_id`` names the journal row); failed attempts exist only here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from puhui.simulate import deposits
from puhui.simulate.county import NO_DATE, day_number

STREAM_USERS = 400  # user profile events, channels
STREAM_DAY = 401  # one day's logins, transaction outcomes: world.rng(401, day ordinal)

UPDATE_SHARE = 0.30  # users who later change their profile (assumption)
LOCK_SHARE = 0.02  # users locked after wrong passwords, unlocked 1-3 days later (assumption)
MOBILE_SHARE = (0.45, 0.92)  # users enrolling by the app, 2014 -> 2020 (assumption)
FAIL_SHARE = 0.03  # attempts failing (assumption), besides the successful journal rows
LATE_SHARE = 0.05  # successful transactions confirmed 1-30 hours later (assumption)
ASYNC_SHARE = 0.15  # confirmed within two minutes (assumption)
LOGIN_BEFORE_TXN = 0.8  # transactions preceded by a login (assumption)
BROWSE_LOGIN_RATE = 0.06  # extra logins per enrolled user per day (assumption)
FAILED_LOGIN_SHARE = 0.03
FAIL_REASONS = np.array(["余额不足", "密码错误", "超过日限额", "对方账户状态异常", "系统超时"])
TXN_KIND = {
    "03": "TRANSFER_IN",
    "04": "TRANSFER_OUT",
    "05": "SCAN_PAY",
    "06": "BILL_PAY",
    "10": "LOAN_REPAY",
    "11": "WEALTH_BUY",
}


def tables(prefix: str = "") -> tuple[sa.MetaData, sa.Table, sa.Table, sa.Table]:
    """The platform's tables (``prefix`` lets tests share a database)."""
    meta = sa.MetaData()
    user = sa.Table(
        f"{prefix}eb_user",
        meta,
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("id_no", sa.String(18), nullable=False, unique=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("mobile", sa.String(11), nullable=False),
        sa.Column("card_no", sa.String(19), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("enrolled_at", sa.DateTime, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
    )
    login = sa.Table(
        f"{prefix}eb_login",
        meta,
        sa.Column("login_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey(user.c.user_id), nullable=False),
        sa.Column("login_at", sa.DateTime, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("device", sa.String(8), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
    )
    txn = sa.Table(
        f"{prefix}eb_transaction",
        meta,
        sa.Column("txn_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey(user.c.user_id), nullable=False),
        sa.Column("card_no", sa.String(19), nullable=False),
        sa.Column("account_no", sa.String(16), nullable=False),
        sa.Column("txn_type", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("amount", sa.Numeric(18, 2), nullable=False),
        sa.Column("counterparty_bank", sa.String(14), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("fail_reason", sa.String(32), nullable=True),
        sa.Column("cbs_txn_id", sa.String(17), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
    )
    return meta, user, login, txn


@dataclass
class Users:
    """Every enrolment of the period (row k has user_id k + 1, in enrolment order)."""

    card: np.ndarray  # card row of the deposit model
    created: np.ndarray  # seconds since the epoch of day ordinal 1 (local time)
    closed: np.ndarray  # NO_DATE-like large value when never
    updated: np.ndarray  # profile change
    locked: np.ndarray
    unlocked: np.ndarray
    mobile_channel: np.ndarray


_NEVER = np.iinfo(np.int64).max
_USERS: dict[tuple[int, float], Users] = {}


def _seconds(day: np.ndarray | int, sec: np.ndarray | int) -> np.ndarray:
    return np.asarray(day, dtype=np.int64) * 86400 + sec


def _to_datetimes(seconds: np.ndarray) -> list[dt.datetime]:
    epoch = np.datetime64(dt.datetime(1, 1, 1)) - np.timedelta64(
        86400, "s"
    )  # ordinal 1 = 0001-01-01
    return (
        (epoch + seconds.astype("timedelta64[s]")).astype("datetime64[s]").astype(object).tolist()
    )


def users(world) -> Users:
    """The user model of ``world``, built once per (seed, scale) from the deposit model."""
    key = (world.seed, world.scale)
    if key in _USERS:
        return _USERS[key]
    mdl = deposits.model(world)
    rng = world.rng(STREAM_USERS)
    card = np.flatnonzero(mdl.enrol < NO_DATE)
    n = len(card)
    created = _seconds(mdl.enrol[card], rng.integers(7 * 3600, 22 * 3600, n))
    order = np.lexsort((card, created))
    card, created = card[order], created[order]
    unenrol = mdl.unenrol[card]
    closed = np.where(
        unenrol < NO_DATE, _seconds(unenrol, rng.integers(8 * 3600, 20 * 3600, n)), _NEVER
    )
    life = np.maximum(np.minimum(closed, _seconds(deposits.TARGET_DAY + 1, 0)) - created, 1)
    updated = np.where(
        rng.random(n) < UPDATE_SHARE, created + (rng.random(n) * life).astype(np.int64), _NEVER
    )
    locked = np.where(
        rng.random(n) < LOCK_SHARE, created + (rng.random(n) * life).astype(np.int64), _NEVER
    )
    unlocked = np.where(locked < _NEVER, locked + rng.integers(86400, 3 * 86400, n), _NEVER)
    year_f = np.clip((mdl.enrol[card] - day_number(dt.date(2014, 1, 1))) / (6 * 365.25), 0, 1)
    mobile = rng.random(n) < MOBILE_SHARE[0] + (MOBILE_SHARE[1] - MOBILE_SHARE[0]) * year_f
    _USERS.clear()
    _USERS[key] = Users(card, created, closed, updated, locked, unlocked, mobile)
    return _USERS[key]


def enrolled_count(world, day: dt.date) -> int:
    """K06: users enrolled and not closed at the end of ``day``."""
    u = users(world)
    end = _seconds(day_number(day) + 1, 0)
    return int(((u.created < end) & (u.closed >= end)).sum())


def user_rows(world, end: dt.date) -> list[dict]:
    """eb_user as of the end of ``end``: latest status, last update time."""
    u, mdl = users(world), deposits.model(world)
    persons = world.population.persons
    limit = _seconds(day_number(end) + 1, 0)
    keep = np.flatnonzero(u.created < limit)
    events = np.stack([u.updated, u.locked, u.unlocked, u.closed])[:, keep]
    events = np.where(events < limit, events, -1)
    updated = np.maximum(events.max(axis=0), u.created[keep])
    closed = u.closed[keep] < limit
    locked = (u.locked[keep] < limit) & (u.unlocked[keep] >= limit)
    status = np.where(closed, "CLOSED", np.where(locked, "LOCKED", "ACTIVE"))
    person = mdl.card_person[u.card[keep]]
    names, mobiles = np.asarray(persons["name"])[person], np.asarray(persons["mobile"])[person]
    created = _to_datetimes(u.created[keep])
    upd = _to_datetimes(updated)
    return [
        {
            "user_id": int(k) + 1,
            "id_no": mdl.card_id_no[u.card[k]],
            "name": names[i],
            "mobile": mobiles[i],
            "card_no": mdl.card_no[u.card[k]],
            "channel": "MOBILE" if u.mobile_channel[k] else "INTERNET",
            "status": status[i],
            "enrolled_at": created[i],
            "created_at": created[i],
            "updated_at": upd[i],
        }
        for i, k in enumerate(keep.tolist())
    ]


def day_rows(
    world, day: dt.date, limit: int, first_txn: int, first_login: int
) -> tuple[list[dict], list[dict]]:
    """Transactions and logins created on ``day``, as they stand at ``limit`` (seconds)."""
    u = users(world)
    d = day_number(day)
    rng = world.rng(STREAM_DAY, d)
    j = deposits.day_journal(world, day)
    rows = np.flatnonzero((j.card >= 0) & np.isin(j.channel, ("ME", "IE")))
    user_of_card = np.full(len(deposits.model(world).card_no), -1)
    user_of_card[u.card] = np.arange(len(u.card))
    ids = deposits.txn_id(day, np.arange(len(j)))
    # failed attempts: copies of random successful rows a few seconds earlier
    fails = rng.choice(rows, size=rng.binomial(len(rows), FAIL_SHARE)) if len(rows) else rows
    src = np.concatenate([rows, fails])
    failed = np.r_[np.zeros(len(rows), bool), np.ones(len(fails), bool)]
    m = len(src)
    created = _seconds(d, j.seconds[src]) - np.where(failed, rng.integers(30, 600, m), 0)
    created = np.maximum(created, _seconds(d, 0))
    kind = rng.random(m)
    delay = np.where(
        failed,
        rng.integers(1, 60, m),
        np.where(
            kind < LATE_SHARE,
            rng.integers(3600, 30 * 3600, m),
            np.where(kind < LATE_SHARE + ASYNC_SHARE, rng.integers(1, 120, m), 0),
        ),
    )
    done = created + delay
    confirmed = done < limit
    status = np.where(~confirmed, "PENDING", np.where(failed, "FAILED", "SUCCESS"))
    updated = np.where(confirmed, done, created)
    order = np.lexsort((src, created))
    src, failed, created, updated, status = (
        src[order],
        failed[order],
        created[order],
        updated[order],
        status[order],
    )
    reasons = FAIL_REASONS[rng.integers(0, len(FAIL_REASONS), m)]
    user = user_of_card[j.card[src]]
    mdl = deposits.model(world)
    codes = deposits.TYPE_CODES[j.type_idx[src]]
    c_at, u_at = _to_datetimes(created), _to_datetimes(updated)
    txns = [
        {
            "txn_id": first_txn + i,
            "user_id": int(user[i]) + 1,
            "card_no": mdl.card_no[j.card[s]],
            "account_no": j.account_no[s],
            "txn_type": TXN_KIND[codes[i]],
            "channel": "MOBILE" if j.channel[s] == "ME" else "INTERNET",
            "amount": float(j.amount[s]),
            "counterparty_bank": j.counterparty[s] or None,
            "status": status[i],
            "fail_reason": reasons[i] if status[i] == "FAILED" else None,
            "cbs_txn_id": ids[s] if status[i] == "SUCCESS" else None,
            "created_at": c_at[i],
            "updated_at": u_at[i],
        }
        for i, s in enumerate(src.tolist())
    ]

    # logins: before most transactions, plus browsing sessions of enrolled users
    with_login = rng.random(m) < LOGIN_BEFORE_TXN
    day_start, day_end = _seconds(d, 0), _seconds(d + 1, 0)
    open_users = np.flatnonzero((u.created < day_start) & (u.closed >= day_end))
    browse = (
        rng.choice(open_users, rng.poisson(BROWSE_LOGIN_RATE * len(open_users)))
        if len(open_users)
        else open_users
    )
    l_user = np.concatenate([user[with_login], browse])
    l_at = np.concatenate(
        [
            np.maximum(
                created[with_login] - rng.integers(20, 900, int(with_login.sum())), day_start
            ),
            day_start + rng.integers(6 * 3600, 86400, len(browse)),
        ]
    )
    l_at = np.minimum(l_at, limit - 1)
    order = np.lexsort((l_user, l_at))
    l_user, l_at = l_user[order], l_at[order]
    k = len(l_user)
    mobile = u.mobile_channel[l_user] ^ (rng.random(k) < 0.1)
    device = np.where(mobile, np.where(rng.random(k) < 0.7, "ANDROID", "IOS"), "PC")
    result = np.where(rng.random(k) < FAILED_LOGIN_SHARE, "FAIL", "SUCCESS")
    at = _to_datetimes(l_at)
    logins = [
        {
            "login_id": first_login + i,
            "user_id": int(l_user[i]) + 1,
            "login_at": at[i],
            "channel": "MOBILE" if mobile[i] else "INTERNET",
            "device": device[i],
            "result": result[i],
            "created_at": at[i],
            "updated_at": at[i],
        }
        for i in range(k)
    ]
    return txns, logins


def write_ebanking_db(
    world, url: str, start: dt.date, end: dt.date, prefix: str = ""
) -> dict[str, int]:
    """(Re)create the platform's tables at ``url`` and fill them for ``start``..``end``.

    Returns the row count of each table.
    """
    meta, user, login, txn = tables(prefix)
    engine = sa.create_engine(url)
    limit = int(_seconds(day_number(end) + 1, 0))
    counts = {user.name: 0, login.name: 0, txn.name: 0}
    try:
        meta.drop_all(engine)
        meta.create_all(engine)
        with engine.begin() as conn:
            rows = user_rows(world, end)
            for k in range(0, len(rows), 20_000):
                conn.execute(user.insert(), rows[k : k + 20_000])
            counts[user.name] = len(rows)
        day = start
        while day <= end:
            txns, logins = day_rows(world, day, limit, counts[txn.name] + 1, counts[login.name] + 1)
            with engine.begin() as conn:
                if txns:
                    conn.execute(txn.insert(), txns)
                if logins:
                    conn.execute(login.insert(), logins)
            counts[txn.name] += len(txns)
            counts[login.name] += len(logins)
            day += dt.timedelta(days=1)
    finally:
        engine.dispose()
    return counts


def write_day(world, out: Path, day: dt.date, initial: bool) -> list:
    """No daily files: the platform is a database, written once by ``finish``."""
    return []


def database_path(out: Path) -> Path:
    return out / "ebanking" / "ebanking.sqlite"


def finish(world, out: Path, start: dt.date, end: dt.date) -> None:
    """Write the e-banking database of the run as a SQLite file under ``out``."""
    path = database_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    write_ebanking_db(world, f"sqlite:///{path}", start, end)
