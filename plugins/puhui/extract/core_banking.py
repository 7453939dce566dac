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
from puhui.extract.files import ControlFileError, parse_delimited, read_control, verify
from puhui.load import pii
from puhui.load.loader import Batch, BatchResult, load_batch, record_failure

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
        pii.hmac_series(df["head_id_no"], key).alias("head_id_hash"),
        pii.masked_id("head_id_no").alias("head_id_masked"),
        pii.birth_year("head_id_no").alias("head_birth_year"),
        pii.gender("head_id_no").alias("head_gender"),
        pii.id_region("head_id_no").alias("head_id_region"),
        pii.hmac_series(df["head_name"], key).alias("head_name_hash"),
        pii.masked_name("head_name").alias("head_name_masked"),
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
        pii.hmac_series(df["id_no"], key).alias("id_hash"),
        pii.masked_id("id_no").alias("id_masked"),
        pii.birth_year("id_no").alias("birth_year"),
        pii.gender("id_no").alias("gender"),
        pii.id_region("id_no").alias("id_region"),
        pii.hmac_series(df["name"], key).alias("name_hash"),
        pii.masked_name("name").alias("name_masked"),
        pii.hmac_series(df["mobile"], key).alias("mobile_hash"),
        pii.masked_phone("mobile").alias("mobile_masked"),
        pl.col("archive_date").str.to_date("%Y%m%d"),
        "archive_status",
        "manager_no",
        pl.col("annual_income").cast(pl.Decimal(18, 2)),
        pl.col("update_time").str.to_datetime("%Y%m%d%H%M%S"),
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
            f"no region batch loaded for {business_date}; load regions before households/archives"
        )
    return {r[0] for r in rows}


def extract_table(
    entity: str, business_date: dt.date, settings: Settings | None = None
) -> BatchResult:
    """Verify, parse, validate, pseudonymise and load one table of one business date."""
    from puhui.validate import split_valid
    from schemas.core_banking import schema_for  # pandera import is slow; only when loading

    settings = settings or get_settings()
    spec = TABLES[entity]
    started = dt.datetime.now(dt.UTC)
    path = data_path(settings.landing_dir, spec, business_date)
    db.init_warehouse(settings)
    # autocommit: each conn.transaction() below is a real transaction, not a savepoint, so
    # the audit and quarantine rows of a failed batch are kept when the task then fails.
    with db.connect(settings, autocommit=True) as conn:
        try:
            control = read_control(control_path(settings.landing_dir, spec, business_date))
            data = verify(path, control, business_date)
        except ControlFileError as exc:
            record_failure(
                conn,
                Batch(SOURCE_SYSTEM, entity, spec.raw_table, business_date, str(path)),
                str(exc),
                started,
            )
            raise
        batch = Batch(
            SOURCE_SYSTEM,
            entity,
            spec.raw_table,
            business_date,
            str(path),
            control.record_count,
            control.byte_size,
            control.md5,
        )
        parsed = parse_delimited(data, list(spec.columns), encoding=ENCODING)
        village_codes = (
            _known_village_codes(conn, business_date) if spec.needs_village_codes else None
        )
        schema = schema_for(entity, business_date=business_date, village_codes=village_codes)
        checked = split_valid(parsed.frame.select(spec.columns), schema)
        positions = parsed.frame.select("_line_number", "_raw_line").with_row_index("row_index")
        validation_rejects = checked.rejects.join(
            positions.with_columns(pl.col("row_index").cast(checked.rejects["row_index"].dtype)),
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
        bad_rows = set(checked.rejects["row_index"].to_list())
        good = parsed.frame.with_row_index("row_index").filter(~pl.col("row_index").is_in(bad_rows))
        rows = spec.transform(good.select(spec.columns), settings.pii_key()).with_columns(
            good["_line_number"].cast(pl.Int32)
        )
        return load_batch(
            conn,
            batch,
            rows=rows,
            rejects=rejects,
            rows_read=parsed.lines_read,
            max_reject_rate=settings.max_reject_rate,
            started_at=started,
        )
