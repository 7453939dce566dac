"""Core banking (核心系统) T+1 unload: the tables, their transforms and the extract step."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from puhui import db
from puhui.config import Settings, get_settings
from puhui.extract.files import (
    ControlFileError,
    ParsedFile,
    parse_delimited,
    parse_delimited_files,
    read_control,
    verify,
)
from puhui.load import pii
from puhui.load.loader import (
    Batch,
    BatchLoad,
    BatchResult,
    load_batch,
    load_batches,
    record_failure,
)

log = logging.getLogger(__name__)

SOURCE_SYSTEM = "core_banking"
SOURCE_DIR = "CBS"
ENCODING = "gbk"


def _regions(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(pl.col("effective_date").str.to_date("%Y%m%d"))


def _households(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "household_id",
        "village_code",
        *pii.resident_id_columns(df, "head_id_no", key, prefix="head_"),
        *pii.name_columns(df, "head_name", key),
        pl.col("member_count").cast(pl.Int16),
        "household_type",
        pl.col("register_date").str.to_date("%Y%m%d"),
        pl.col("cancel_date").str.to_date("%Y%m%d"),
        pl.col("update_time").str.to_datetime("%Y%m%d%H%M%S"),
    )


def _archives(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "archive_id",
        "household_id",
        "village_code",
        *pii.resident_id_columns(df, "id_no", key),
        *pii.name_columns(df, "name", key),
        *pii.mobile_columns(df, "mobile", key),
        pl.col("archive_date").str.to_date("%Y%m%d"),
        "archive_status",
        "manager_no",
        pl.col("annual_income").cast(pl.Decimal(18, 2)),
        pl.col("update_time").str.to_datetime("%Y%m%d%H%M%S"),
    )


# --- tables of the bank network, lending and deposits -------------------------------------


def _date(col: str) -> pl.Expr:
    return pl.col(col).str.to_date("%Y%m%d")


def _stamp(col: str) -> pl.Expr:
    return pl.col(col).str.to_datetime("%Y%m%d%H%M%S")


def _money(col: str, scale: int = 2) -> pl.Expr:
    return pl.col(col).cast(pl.Decimal(18 if scale == 2 else 8, scale))


def _person_id(df: pl.DataFrame, col: str, key: bytes, prefix: str, person: pl.Expr) -> list:
    """Hash of the ID column (every row, so joins work) and, for persons, mask + attributes."""
    return [
        pii.hmac_series(df[col], key).alias(f"{prefix}_hash"),
        pl.when(person).then(pii.masked_id(col)).alias(f"{prefix}_masked"),
        pl.when(person).then(pii.birth_year(col)).alias("birth_year"),
        pl.when(person).then(pii.gender(col)).alias("gender"),
        pl.when(person).then(pii.id_region(col)).alias("id_region"),
    ]


def _account(df: pl.DataFrame, col: str, key: bytes) -> list:
    """Account number -> hash, masked form, and its branch and product segments."""
    return [
        pii.hmac_series(df[col], key).alias("account_hash"),
        pii.masked_card(col).alias("account_masked"),
        pl.col(col).str.slice(0, 4).alias("account_branch"),
        pl.col(col).str.slice(4, 2).alias("account_product"),
    ]


def _outlets(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(
        _date("opened_date"), _date("closed_date"), pl.col("service_count").cast(pl.Int16)
    )


def _terminals(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(_date("installed_date"), _date("removed_date"))


def _managers(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "manager_no",
        pii.hmac_series(df["manager_name"], key).alias("manager_name_hash"),
        pii.masked_name("manager_name").alias("manager_name_masked"),
        "gender",
        "outlet_code",
        "grid_code",
        "village_code",
        _date("hired_date"),
    )


def _visits(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(_date("visit_date"), pl.col("households_visited").cast(pl.Int32))


def _investments(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(_date("entry_date"), _money("amount"))


def _org_name_without_owner(df: pl.DataFrame) -> pl.Series:
    """The organisation name with an individual customer's own name masked in it.

    Individual businesses are registered under names such as 上虞区蒋海丽五金店: the name
    stays useful (上虞区蒋**五金店) without naming the borrower. Enterprise names are kept.
    Per-row Python is fine here: a day has at most a few thousand such customers.
    """

    def mask(cust_type: str, name: str | None, org: str | None) -> str | None:
        if cust_type != "1" or not org or not name or name not in org:
            return org
        return org.replace(name, name[0] + "*" * (len(name) - 1))

    return pl.Series(
        "org_name",
        [mask(*row) for row in df.select("cust_type", "cust_name", "org_name").iter_rows()],
        dtype=pl.String,
    )


def _customers(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    person = pl.col("cust_type") == "1"
    return df.select(
        "cust_no",
        "cust_type",
        *_person_id(df, "id_no", key, "id", person),
        pl.when(person).then(pii.hmac_series(df["cust_name"], key)).alias("cust_name_hash"),
        pl.when(person).then(pii.masked_name("cust_name")).alias("cust_name_masked"),
        # An enterprise's name is not personal data and stays readable.
        pl.when(~person).then(pl.col("cust_name")).alias("enterprise_name"),
        pii.hmac_series(df["mobile"], key).alias("mobile_hash"),
        pii.masked_phone("mobile").alias("mobile_masked"),
        "uscc",
        _org_name_without_owner(df),
        "borrower_class",
        "ent_size",
        "is_individual_business",
        "is_sme_owner",
        "village_code",
        _money("credit_line"),
        _date("open_date"),
        _stamp("update_time"),
    )


def _loans(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(
        _money("contract_amount"),
        _date("disburse_date"),
        _date("maturity_date"),
        pl.col("term_months").cast(pl.Int16),
        _money("interest_rate", scale=4),
        _date("settle_date"),
        _stamp("update_time"),
    )


def _loan_balances(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(
        _date("balance_date"), _money("balance"), pl.col("overdue_days").cast(pl.Int32)
    )


def _loan_txns(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(_date("txn_date"), _money("amount"))


def _credit_ratings(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.with_columns(
        pl.col("rating_year").cast(pl.Int16),
        pl.col("credit_household_share").cast(pl.Decimal(6, 4)),
        _date("rated_date"),
    )


def _accounts(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    person = pl.col("customer_type") == "1"
    return df.select(
        *_account(df, "account_no", key),
        "customer_type",
        *_person_id(df, "id_no", key, "id", person),
        # An enterprise's USCC is not personal data and stays readable.
        pl.when(~person).then(pl.col("id_no")).alias("uscc"),
        "account_type",
        "branch_code",
        "currency",
        _date("open_date"),
        _date("close_date"),
        "status",
        _stamp("update_time"),
    )


def _cards(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        *pii.card_columns(df, "card_no", key),
        *_person_id(df, "id_no", key, "id", pl.lit(True)),
        *_account(df, "account_no", key),
        "card_type",
        "branch_code",
        _date("issue_date"),
        "status",
        _date("status_date"),
        _stamp("update_time"),
    )


def _txns(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "txn_id",
        _date("txn_date"),
        pl.col("txn_time").str.to_time("%H%M%S"),
        *_account(df, "account_no", key),
        *pii.card_columns(df, "card_no", key),
        "channel_code",
        "txn_type",
        "direction",
        _money("amount"),
        "counterparty_bank_code",
        "is_internal",
        "reversal_flag",
        "branch_code",
        "memo",
    )


@dataclass(frozen=True)
class TableSpec:
    entity: str  # name used by schemas.core_banking.schema_for and in raw/quarantine
    file_table: str  # table name in the unload file name, CBS_<file_table>_<YYYYMMDD>.dat
    columns: tuple[str, ...]  # file columns in order
    transform: Callable[[pl.DataFrame, bytes], pl.DataFrame]
    needs_village_codes: bool

    @property
    def raw_table(self) -> str:
        return f"raw.{SOURCE_SYSTEM}__{self.entity}"


TABLES: dict[str, TableSpec] = {
    spec.entity: spec
    for spec in (
        TableSpec(
            "regions",
            "REGION",
            (
                "village_code",
                "village_name",
                "village_type",
                "town_code",
                "town_name",
                "town_type",
                "urban_rural_code",
                "effective_date",
            ),
            _regions,
            needs_village_codes=False,
        ),
        TableSpec(
            "households",
            "HOUSEHOLD",
            (
                "household_id",
                "village_code",
                "head_id_no",
                "head_name",
                "member_count",
                "household_type",
                "register_date",
                "cancel_date",
                "update_time",
            ),
            _households,
            needs_village_codes=True,
        ),
        TableSpec(
            "archives",
            "ARCHIVE",
            (
                "archive_id",
                "household_id",
                "village_code",
                "id_no",
                "name",
                "mobile",
                "archive_date",
                "archive_status",
                "manager_no",
                "annual_income",
                "update_time",
            ),
            _archives,
            needs_village_codes=True,
        ),
        TableSpec(
            "outlets",
            "OUTLET",
            (
                "outlet_code",
                "outlet_name",
                "outlet_type",
                "parent_outlet_code",
                "town_code",
                "town_name",
                "village_code",
                "opened_date",
                "closed_date",
                "service_count",
            ),
            _outlets,
            needs_village_codes=True,
        ),
        TableSpec(
            "terminals",
            "TERMINAL",
            (
                "terminal_id",
                "terminal_type",
                "outlet_code",
                "village_code",
                "installed_date",
                "removed_date",
            ),
            _terminals,
            needs_village_codes=True,
        ),
        TableSpec(
            "managers",
            "MANAGER",
            (
                "manager_no",
                "manager_name",
                "gender",
                "outlet_code",
                "grid_code",
                "village_code",
                "hired_date",
            ),
            _managers,
            needs_village_codes=True,
        ),
        TableSpec(
            "visits",
            "VISIT",
            (
                "visit_id",
                "visit_date",
                "manager_no",
                "village_code",
                "purpose_code",
                "households_visited",
            ),
            _visits,
            needs_village_codes=True,
        ),
        TableSpec(
            "investments",
            "INVESTMENT",
            (
                "entry_id",
                "entry_date",
                "category_code",
                "category_name",
                "outlet_code",
                "village_code",
                "amount",
            ),
            _investments,
            needs_village_codes=True,
        ),
        TableSpec(
            "customers",
            "CUSTOMER",
            (
                "cust_no",
                "cust_type",
                "id_no",
                "cust_name",
                "mobile",
                "uscc",
                "org_name",
                "borrower_class",
                "ent_size",
                "is_individual_business",
                "is_sme_owner",
                "village_code",
                "credit_line",
                "open_date",
                "update_time",
            ),
            _customers,
            needs_village_codes=True,
        ),
        TableSpec(
            "loans",
            "LOAN",
            (
                "loan_no",
                "cust_no",
                "product_code",
                "product_name",
                "borrower_class",
                "guarantee_type",
                "purpose",
                "is_agri",
                "agri_basis",
                "green_category",
                "inclusive_sme_flag",
                "contract_amount",
                "disburse_date",
                "maturity_date",
                "term_months",
                "repay_method",
                "interest_rate",
                "status",
                "settle_date",
                "update_time",
            ),
            _loans,
            needs_village_codes=False,
        ),
        TableSpec(
            "loan_balances",
            "LOAN_BALANCE",
            ("loan_no", "balance_date", "balance", "overdue_days"),
            _loan_balances,
            needs_village_codes=False,
        ),
        TableSpec(
            "loan_txns",
            "LOAN_TXN",
            ("txn_id", "loan_no", "txn_date", "txn_kind", "amount", "channel"),
            _loan_txns,
            needs_village_codes=False,
        ),
        TableSpec(
            "credit_ratings",
            "CREDIT_RATING",
            (
                "rating_id",
                "rating_type",
                "household_id",
                "village_code",
                "rating_year",
                "grade",
                "credit_household_share",
                "rated_date",
            ),
            _credit_ratings,
            needs_village_codes=True,
        ),
        TableSpec(
            "accounts",
            "ACCOUNT",
            (
                "account_no",
                "customer_type",
                "id_no",
                "account_type",
                "branch_code",
                "currency",
                "open_date",
                "close_date",
                "status",
                "update_time",
            ),
            _accounts,
            needs_village_codes=False,
        ),
        TableSpec(
            "cards",
            "CARD",
            (
                "card_no",
                "id_no",
                "account_no",
                "card_type",
                "branch_code",
                "issue_date",
                "status",
                "status_date",
                "update_time",
            ),
            _cards,
            needs_village_codes=False,
        ),
        TableSpec(
            "txns",
            "TXN",
            (
                "txn_id",
                "txn_date",
                "txn_time",
                "account_no",
                "card_no",
                "channel_code",
                "txn_type",
                "direction",
                "amount",
                "counterparty_bank_code",
                "is_internal",
                "reversal_flag",
                "branch_code",
                "memo",
            ),
            _txns,
            needs_village_codes=False,
        ),
    )
}


def batch_dir(landing: Path, business_date: dt.date) -> Path:
    return landing / f"{business_date:%Y%m%d}" / SOURCE_DIR


def data_path(landing: Path, spec: TableSpec, business_date: dt.date) -> Path:
    return batch_dir(landing, business_date) / f"CBS_{spec.file_table}_{business_date:%Y%m%d}.dat"


def control_path(landing: Path, spec: TableSpec, business_date: dt.date) -> Path:
    return data_path(landing, spec, business_date).with_suffix(".ok")


def missing_control_files(business_date: dt.date, settings: Settings | None = None) -> list[Path]:
    """Control files of the day that have not arrived yet (empty list: all there)."""
    settings = settings or get_settings()
    paths = [control_path(settings.landing_dir, spec, business_date) for spec in TABLES.values()]
    return [p for p in paths if not p.is_file()]


def verify_control_files(
    business_date: dt.date, settings: Settings | None = None
) -> dict[str, int]:
    """Check every data file of the day against its control file before anything loads.

    Returns record counts per entity; raises ControlFileError naming every bad file.
    """
    settings = settings or get_settings()
    counts, problems = {}, []
    for spec in TABLES.values():
        try:
            control = read_control(control_path(settings.landing_dir, spec, business_date))
            verify(data_path(settings.landing_dir, spec, business_date), control, business_date)
            counts[spec.entity] = control.record_count
        except ControlFileError as exc:
            problems.append(str(exc))
    if problems:
        raise ControlFileError("\n".join(problems))
    return counts


def _known_village_codes(conn, business_date: dt.date) -> set[str]:
    rows = conn.execute(
        "select village_code from raw.core_banking__regions where _business_date = %s",
        (business_date,),
    ).fetchall()
    if not rows:
        raise RuntimeError(
            f"no region batch loaded for {business_date}; "
            "load regions before the tables that carry village codes"
        )
    return {r[0] for r in rows}


def _known_village_codes_of(conn, dates: list[dt.date]) -> dict[dt.date, set[str]]:
    """Village codes of each date's loaded region batch; raises if a date has none."""
    codes: dict[dt.date, set[str]] = {day: set() for day in dates}
    for day, code in conn.execute(
        "select _business_date, village_code from raw.core_banking__regions"
        " where _business_date = any(%s)",
        (list(dates),),
    ):
        codes[day].add(code)
    missing = [day for day, found in codes.items() if not found]
    if missing:
        raise RuntimeError(
            f"no region batch loaded for {', '.join(map(str, missing))}; "
            "load regions before the tables that carry village codes"
        )
    return codes


@dataclass(frozen=True)
class _Delivery:
    """One verified and parsed data file of one table and business date."""

    batch: Batch
    parsed: ParsedFile
    started: dt.datetime


def _verify(
    conn, spec: TableSpec, business_date: dt.date, settings: Settings, started: dt.datetime
) -> tuple[Batch, bytes]:
    """The batch and the data file's bytes, checked against the control file; a failure is
    audited and raised."""
    path = data_path(settings.landing_dir, spec, business_date)
    try:
        control = read_control(control_path(settings.landing_dir, spec, business_date))
        data = verify(path, control, business_date)
    except ControlFileError as exc:
        record_failure(
            conn,
            Batch(SOURCE_SYSTEM, spec.entity, spec.raw_table, business_date, str(path)),
            str(exc),
            started,
        )
        raise
    batch = Batch(
        SOURCE_SYSTEM,
        spec.entity,
        spec.raw_table,
        business_date,
        str(path),
        control.record_count,
        control.byte_size,
        control.md5,
    )
    return batch, data


def _load_of(spec: TableSpec, delivery: _Delivery, checked_rejects: pl.DataFrame) -> BatchLoad:
    """The batch of a delivery: the rows that passed, the parse and validation rejects.

    ``checked_rejects``: the validation's rejects (``row_index`` into the parsed frame).
    The rows are the file's columns and ``_line_number``: see :func:`_transform_of`.
    """
    parsed = delivery.parsed
    positions = parsed.frame.select("_line_number", "_raw_line").with_row_index("row_index")
    validation_rejects = checked_rejects.join(
        positions.with_columns(pl.col("row_index").cast(checked_rejects["row_index"].dtype)),
        on="row_index",
        how="left",
    ).select(
        pl.col("_line_number").alias("line_number"),
        pl.col("_raw_line").alias("raw_line"),
        "rule",
        "column_name",
        "detail",
    )
    rejects = pl.concat([parsed.rejects, validation_rejects.cast(parsed.rejects.schema)])
    bad_rows = set(checked_rejects["row_index"].to_list())
    good = parsed.frame
    if bad_rows:  # no filter pass over a batch that validated clean
        good = good.with_row_index("row_index").filter(~pl.col("row_index").is_in(bad_rows))
    return BatchLoad(
        delivery.batch,
        rows=good.select(*spec.columns, pl.col("_line_number").cast(pl.Int32)),
        rejects=rejects,
        rows_read=parsed.lines_read,
        started_at=delivery.started,
    )


def _transform_of(spec: TableSpec, settings: Settings) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """File columns -> raw columns (pseudonymised), applied chunk by chunk during the COPY."""
    key = settings.pii_key()

    def transform(chunk: pl.DataFrame) -> pl.DataFrame:
        return spec.transform(chunk.select(spec.columns), key).with_columns(chunk["_line_number"])

    return transform


def extract_table(
    entity: str, business_date: dt.date, settings: Settings | None = None
) -> BatchResult:
    """Verify, parse, validate, pseudonymise and load one table of one business date."""
    from puhui.validate import split_valid
    from schemas.core_banking import schema_for  # pandera import is slow; only when loading

    settings = settings or get_settings()
    spec = TABLES[entity]
    started = dt.datetime.now(dt.UTC)
    db.init_warehouse(settings)
    # autocommit: each conn.transaction() below is a real transaction, not a savepoint, so
    # the audit and quarantine rows of a failed batch are kept when the task then fails.
    with db.connect(settings, autocommit=True) as conn:
        batch, data = _verify(conn, spec, business_date, settings, started)
        parsed = parse_delimited(data, list(spec.columns), encoding=ENCODING)
        delivery = _Delivery(batch, parsed, started)
        village_codes = (
            _known_village_codes(conn, business_date) if spec.needs_village_codes else None
        )
        schema = schema_for(entity, business_date=business_date, village_codes=village_codes)
        checked = split_valid(delivery.parsed.frame.select(spec.columns), schema)
        load = _load_of(spec, delivery, checked.rejects)
        return load_batch(
            conn,
            load.batch,
            rows=load.rows,
            transform=_transform_of(spec, settings),
            rejects=load.rejects,
            rows_read=load.rows_read,
            max_reject_rate=settings.reject_rate(SOURCE_SYSTEM, entity),
            started_at=load.started_at,
        )


def extract_tables_of_dates(
    conn, dates: list[dt.date], settings: Settings
) -> dict[dt.date, list[BatchResult]]:
    """Every table of several business dates, each table's dates validated in one pass.

    The history loads' counterpart of ``verify_control_files`` + ``extract_table`` per date
    (regions first, then the other tables), on the caller's connection: the batches, their
    quarantine and audit rows are those of the per-date loads. A date whose control files
    fail raises (``ControlFileError``) before anything of that table is loaded.
    """
    from puhui.validate import split_valid_batches
    from schemas.checks import BATCH_DATE
    from schemas.core_banking import BUSINESS_DATE_COLUMN, schema_for_dates

    results: dict[dt.date, list[BatchResult]] = {day: [] for day in dates}
    village_codes = None
    for entity in ["regions", *(name for name in TABLES if name != "regions")]:
        spec = TABLES[entity]
        started = dt.datetime.now(dt.UTC)
        verified = [_verify(conn, spec, day, settings, started) for day in dates]
        parsed = parse_delimited_files(
            [data for _, data in verified], list(spec.columns), encoding=ENCODING
        )
        deliveries = [
            _Delivery(batch, one, started) for (batch, _), one in zip(verified, parsed, strict=True)
        ]
        if spec.needs_village_codes and village_codes is None:  # regions are loaded now
            village_codes = _known_village_codes_of(conn, dates)
        checked = split_valid_batches(
            [d.parsed.frame.select(spec.columns) for d in deliveries],
            dates,
            schema_for_dates(
                entity, village_codes=village_codes if spec.needs_village_codes else None
            ),
            by=BUSINESS_DATE_COLUMN,
        )
        loads = [
            _load_of(
                spec,
                delivery,
                result.rejects.with_columns(
                    pl.col("detail").str.replace_all(BATCH_DATE, f"{day:%Y%m%d}", literal=True)
                ),
            )
            for day, delivery, result in zip(dates, deliveries, checked, strict=True)
        ]
        loaded = load_batches(
            conn,
            loads,
            max_reject_rate=settings.reject_rate(SOURCE_SYSTEM, entity),
            transform=_transform_of(spec, settings),
        )
        for day, result in zip(dates, loaded, strict=True):
            results[day].append(result)
    return results
