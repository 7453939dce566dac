"""pandera models of the 丰收互联 e-banking platform's OLTP tables, checked as read.

Unlike the core-banking files, this source is a typed database: rows arrive through
SQLAlchemy as integers, decimals, datetimes and strings, so the models state the typed
contract (dtypes, nullability), plus code lists, formats and check digits of the text
columns, non-negative amounts, timestamps in order and natural keys unique within a batch.
Timestamps are the platform's local time (UTC+8) without a zone.

Personal fields carry ``metadata={"personal": True}`` so quarantine details never repeat
their values; the extractor hashes them before anything reaches ``raw``.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import pandera.polars as pa
import polars as pl

from schemas import checks

PERSONAL = {"personal": True}
"""Field metadata marking personal data (PIPL): never echoed, hashed at load."""

CHANNELS = ["MOBILE", "INTERNET"]
USER_STATUSES = ["ACTIVE", "LOCKED", "CLOSED"]
DEVICES = ["ANDROID", "IOS", "PC"]
LOGIN_RESULTS = ["SUCCESS", "FAIL"]
TXN_TYPES = ["TRANSFER_OUT", "TRANSFER_IN", "SCAN_PAY", "BILL_PAY", "LOAN_REPAY", "WEALTH_BUY"]
TXN_STATUSES = ["PENDING", "SUCCESS", "FAILED"]
FAIL_REASONS = ["余额不足", "密码错误", "超过日限额", "对方账户状态异常", "系统超时"]

EARLIEST_TIME = datetime.datetime(2000, 1, 1)
"""The platform went live long after this; an earlier timestamp is a broken value."""

Money = Annotated[pl.Decimal, 18, 2]


# --- rules on typed columns (same conventions as schemas.checks: null = not judged) -----


def positive_id(value: pl.Expr) -> pl.Expr:
    """Must be a positive integer key."""
    return pl.when(value.is_not_null()).then(value > 0)


def non_negative_amount(value: pl.Expr) -> pl.Expr:
    """Must be an amount of zero yuan or more."""
    return pl.when(value.is_not_null()).then(value >= 0)


def plausible_time(value: pl.Expr) -> pl.Expr:
    """Must be a time from 2000-01-01 on."""
    return pl.when(value.is_not_null()).then(value >= EARLIEST_TIME)


def not_before_created_at(value: pl.Expr) -> pl.Expr:
    """Must not be before created_at."""
    created = pl.col("created_at")
    return pl.when(value.is_not_null() & created.is_not_null()).then(value >= created)


def status_outcome_consistent(value: pl.Expr) -> pl.Expr:
    """FAILED needs a fail_reason, SUCCESS a cbs_txn_id, and no other status either."""
    reason, journal = pl.col("fail_reason").is_not_null(), pl.col("cbs_txn_id").is_not_null()
    expected = (
        pl.when(value == "FAILED")
        .then(reason & ~journal)
        .when(value == "SUCCESS")
        .then(~reason & journal)
        .when(value == "PENDING")
        .then(~reason & ~journal)
    )
    return pl.when(value.is_not_null() & expected.is_not_null()).then(expected)


def _timestamp_checks() -> tuple[classmethod, classmethod]:
    """The time checks every table shares: plausible times, updated_at >= created_at."""
    return (
        checks.model_check(plausible_time, "created_at", "updated_at"),
        checks.model_check(not_before_created_at, "updated_at"),
    )


class UserRecord(pa.DataFrameModel):
    """eb_user: one row per enrolled customer, the latest version of the row."""

    user_id: int = pa.Field(
        unique=True, description="User number (natural key), in enrolment order."
    )
    id_no: str = pa.Field(
        unique=True, metadata=PERSONAL, description="GB 11643 resident ID of the customer."
    )
    name: str = pa.Field(
        str_length={"min_value": 1, "max_value": 40},
        metadata=PERSONAL,
        description="Customer name.",
    )
    mobile: str = pa.Field(metadata=PERSONAL, description="Registered mainland mobile number.")
    card_no: str = pa.Field(metadata=PERSONAL, description="Bound 丰收卡 number (Luhn).")
    channel: str = pa.Field(isin=CHANNELS, description="Enrolment channel: MOBILE app or INTERNET.")
    status: str = pa.Field(isin=USER_STATUSES, description="ACTIVE, LOCKED or CLOSED.")
    enrolled_at: pl.Datetime = pa.Field(description="Enrolment time (local, UTC+8).")
    created_at: pl.Datetime = pa.Field(description="Row insert time (= enrolled_at).")
    updated_at: pl.Datetime = pa.Field(description="Last change of the row; the watermark column.")

    _user_id = checks.model_check(positive_id, "user_id")
    _id_format, _id_checksum = (checks.model_check(rule, "id_no") for rule in checks.RESIDENT_ID)
    _name = checks.model_check(checks.not_blank, "name")
    _mobile = checks.model_check(checks.valid_mobile_cn, "mobile")
    _card_format, _card_checksum = (
        checks.model_check(rule, "card_no") for rule in checks.CARD_NUMBER
    )
    _enrolled = checks.model_check(plausible_time, "enrolled_at")
    _plausible, _ordered = _timestamp_checks()

    class Config:
        strict = True
        title = "eb_user"
        description = "E-banking enrolments, rows changed in the extraction window."


class LoginRecord(pa.DataFrameModel):
    """eb_login: one row per login event (insert-only)."""

    login_id: int = pa.Field(unique=True, description="Login number (natural key), in time order.")
    user_id: int = pa.Field(description="The user who logged in.")
    login_at: pl.Datetime = pa.Field(description="Time of the login (local, UTC+8).")
    channel: str = pa.Field(isin=CHANNELS, description="MOBILE or INTERNET.")
    device: str = pa.Field(isin=DEVICES, description="ANDROID, IOS or PC.")
    result: str = pa.Field(isin=LOGIN_RESULTS, description="SUCCESS, or FAIL (wrong password).")
    created_at: pl.Datetime = pa.Field(description="Row insert time (= login_at).")
    updated_at: pl.Datetime = pa.Field(description="Last change (= created_at).")

    _ids = checks.model_check(positive_id, "login_id", "user_id")
    _login_at = checks.model_check(plausible_time, "login_at")
    _plausible, _ordered = _timestamp_checks()

    class Config:
        strict = True
        title = "eb_login"
        description = "E-banking logins, rows changed in the extraction window."


class TransactionRecord(pa.DataFrameModel):
    """eb_transaction: one row per electronic transaction attempt, latest status."""

    txn_id: int = pa.Field(unique=True, description="Transaction number (natural key).")
    user_id: int = pa.Field(description="The user.")
    card_no: str = pa.Field(metadata=PERSONAL, description="Card debited or credited (Luhn).")
    account_no: str = pa.Field(
        str_matches=r"^[0-9]{16}$",
        metadata=PERSONAL,
        description="The card's linked 16-digit account number.",
    )
    txn_type: str = pa.Field(isin=TXN_TYPES, description="Kind of transaction.")
    channel: str = pa.Field(isin=CHANNELS, description="MOBILE (CBS channel ME) or INTERNET (IE).")
    amount: Money = pa.Field(description="Amount in yuan, non-negative, 2 decimals.")
    counterparty_bank: str = pa.Field(
        nullable=True,
        str_matches=r"^[0-9]{12}$",
        description="12-digit CNAPS code of the counterparty bank, null if none.",
    )
    status: str = pa.Field(isin=TXN_STATUSES, description="PENDING, SUCCESS or FAILED.")
    fail_reason: str = pa.Field(
        nullable=True, isin=FAIL_REASONS, description="Why a FAILED attempt failed."
    )
    cbs_txn_id: str = pa.Field(
        nullable=True,
        str_matches=r"^[0-9]{17}$",
        description="Core journal number (CBS_TXN.txn_id) once SUCCESS.",
    )
    created_at: pl.Datetime = pa.Field(description="Time the user submitted it (local, UTC+8).")
    updated_at: pl.Datetime = pa.Field(description="Time of the final status; the watermark.")

    _ids = checks.model_check(positive_id, "txn_id", "user_id")
    _card_format, _card_checksum = (
        checks.model_check(rule, "card_no") for rule in checks.CARD_NUMBER
    )
    _amount = checks.model_check(non_negative_amount, "amount")
    _outcome = checks.model_check(status_outcome_consistent, "status")
    _plausible, _ordered = _timestamp_checks()

    class Config:
        strict = True
        title = "eb_transaction"
        description = "E-banking transactions, rows changed in the extraction window."


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "users": UserRecord,
    "logins": LoginRecord,
    "transactions": TransactionRecord,
}
"""Entity name -> model; entity names match the raw tables ``raw.ebanking__<entity>``."""


def schema_for(entity: str) -> pa.DataFrameSchema:
    """The entity's schema (no batch-dependent rules: the query bounds the timestamps)."""
    try:
        return MODELS[entity].to_schema()
    except KeyError:
        raise ValueError(
            f"unknown e-banking entity {entity!r}; expected one of {sorted(MODELS)}"
        ) from None


def source_dtypes(entity: str) -> dict[str, pl.DataType]:
    """Column -> polars dtype of the entity's contract, in model order."""
    return {name: column.dtype.type for name, column in schema_for(entity).columns.items()}
