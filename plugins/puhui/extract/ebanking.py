"""E-banking (丰收互联) platform: incremental extraction from its OLTP database into ``raw``.

The platform is a database, not a file drop, and its rows change after they are written
(late confirmations, locks, closings). Each night, per table:

1. **window**: rows with ``updated_at`` in [watermark - overlap, end of the business date),
   where the watermark is the one recorded by the last night *before* this business date
   (``ops.extract_watermark``, one row per night), so a rerun of a night reads what the
   first run read, whatever ran since. No watermark yet: everything up to the date's end.
   The overlap (default 48 h) re-reads recent rows in case a change was committed late
   with an earlier ``updated_at``; re-reading is harmless because the load is an upsert.
2. **read** through SQLAlchemy (any URL: the SQLite file of the simulator, MariaDB, ...),
   streamed in chunks into polars with the contract's dtypes;
3. **validate** with ``schemas/ebanking.py`` (lazily; failing rows go to quarantine with
   their rule, the natural key as the row reference and the row as JSON);
4. **pseudonymise**: IDs, names, phones, card and account numbers become HMAC hashes,
   masked forms and safe attributes;
5. **upsert** in one transaction: quarantine rows of the (table, date) replaced, rows
   COPYed into a temporary table and ``insert ... on conflict (key) do update`` into
   ``raw.ebanking__<entity>`` where the incoming ``updated_at`` is later, the night's
   watermark and its ``ops.load_audit`` row written. Either all of it lands or none.

Why not :func:`puhui.load.loader.load_batch`: it replaces the rows *of one business date*,
but an updated e-banking row must replace its earlier version loaded on an earlier date
(one row per key); and the row reference here is the natural key, not a file line. The
audit and quarantine rows follow the loader's conventions (same tables, same columns,
same reject threshold and error message).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import psycopg
import sqlalchemy as sa
from psycopg import sql

from puhui import db
from puhui.config import TIMEZONE, Settings, get_settings
from puhui.load import pii
from puhui.load.loader import (
    Batch,
    BatchResult,
    RejectThresholdExceeded,
    record_failure,
    replace_quarantine,
    top_reasons,
    write_audit,
    write_loaded_audit,
)

if TYPE_CHECKING:
    from puhui.validate import ValidationResult

log = logging.getLogger(__name__)

SOURCE_SYSTEM = "ebanking"
"""Re-read window before the watermark; the data dictionary asks for at least 30 hours."""
CHUNK_ROWS = 50_000


def source_url(settings: Settings) -> str:
    """The platform database's SQLAlchemy URL.

    ``settings.ebanking_url`` (``PUHUI_EBANKING_URL``) when configured, else the SQLite
    file the simulator writes, ``<landing_dir>/ebanking/ebanking.sqlite``.
    """
    return (
        settings.ebanking_url
        or f"sqlite:///{settings.landing_dir / 'ebanking' / 'ebanking.sqlite'}"
    )


def overlap_of(settings: Settings) -> dt.timedelta:
    """The re-read window before the watermark (``PUHUI_EBANKING_OVERLAP_HOURS``)."""
    return dt.timedelta(hours=settings.ebanking_overlap_hours)


# --- per-table transforms: validated source rows -> raw columns --------------------------


def _local_times(*columns: str) -> list[pl.Expr]:
    """Platform local times (UTC+8, no zone) as zone-aware times, for timestamptz."""
    return [pl.col(c).dt.replace_time_zone(TIMEZONE) for c in columns]


def _users(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "user_id",
        *pii.resident_id_columns(df, "id_no", key),
        *pii.name_columns(df, "name", key),
        *pii.mobile_columns(df, "mobile", key),
        *pii.card_columns(df, "card_no", key),
        "channel",
        "status",
        *_local_times("enrolled_at", "created_at", "updated_at"),
    )


def _logins(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "login_id",
        "user_id",
        *_local_times("login_at"),
        "channel",
        "device",
        "result",
        *_local_times("created_at", "updated_at"),
    )


def _transactions(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "txn_id",
        "user_id",
        *pii.card_columns(df, "card_no", key),
        pii.hmac_series(df["account_no"], key).alias("account_hash"),
        (
            pl.col("account_no").str.slice(0, 4)
            + pl.lit("********")
            + pl.col("account_no").str.slice(-4, 4)
        ).alias("account_masked"),
        "txn_type",
        "channel",
        "amount",
        "counterparty_bank",
        "status",
        "fail_reason",
        "cbs_txn_id",
        *_local_times("created_at", "updated_at"),
    )


@dataclass(frozen=True)
class TableSpec:
    entity: str  # schemas.ebanking.MODELS key; raw.ebanking__<entity>
    source_table: str  # the platform's table
    key: str  # natural key (the source's primary key)
    transform: Callable[[pl.DataFrame, bytes], pl.DataFrame]

    @property
    def raw_table(self) -> str:
        return f"raw.{SOURCE_SYSTEM}__{self.entity}"


TABLES: dict[str, TableSpec] = {
    spec.entity: spec
    for spec in (
        TableSpec("users", "eb_user", "user_id", _users),
        TableSpec("logins", "eb_login", "login_id", _logins),
        TableSpec("transactions", "eb_transaction", "txn_id", _transactions),
    )
}


@dataclass(frozen=True)
class ExtractBatch(Batch):
    """One night of one table; its id is stable across reruns of the night."""

    @property
    def batch_id(self) -> str:
        return f"{self.source_system}.{self.table_name}.{self.business_date:%Y%m%d}"


@dataclass(frozen=True)
class Window:
    """The ``updated_at`` range read for one night (source local time, end exclusive)."""

    start: dt.datetime | None  # None: first extraction, read from the beginning
    end: dt.datetime
    previous_watermark: dt.datetime | None


def extraction_window(
    conn: psycopg.Connection,
    entity: str,
    business_date: dt.date,
    overlap: dt.timedelta,
) -> Window:
    """The window of ``business_date``: from the last earlier night's watermark - overlap."""
    row = conn.execute(
        "select watermark from ops.extract_watermark"
        " where source_system = %s and table_name = %s and business_date < %s"
        " order by business_date desc limit 1",
        (SOURCE_SYSTEM, entity, business_date),
    ).fetchone()
    previous = row[0] if row else None
    end = dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time())
    return Window(previous - overlap if previous else None, end, previous)


# --- reading the source ------------------------------------------------------------------


def _display_url(url: str, source_table: str) -> str:
    return f"{sa.make_url(url).render_as_string(hide_password=True)}#{source_table}"


def read_source(url: str, spec: TableSpec, window: Window, table_prefix: str = "") -> pl.DataFrame:
    """Rows of the window, ordered by (updated_at, key), in the contract's dtypes.

    Every column of the source table is read (reflected), so a column added or dropped at
    the source breaks the strict model instead of passing unnoticed.
    """
    from puhui.validate import SchemaContractError
    from schemas.ebanking import source_dtypes

    dtypes = source_dtypes(spec.entity)
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        # SQLite would silently create an empty database in its place.
        raise FileNotFoundError(f"e-banking database {parsed.database} does not exist")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            table = sa.Table(table_prefix + spec.source_table, sa.MetaData(), autoload_with=conn)
            if "updated_at" not in table.c or spec.key not in table.c:
                raise SchemaContractError(
                    table.name, [f"needs columns updated_at and {spec.key} to extract"]
                )
            query = sa.select(table).where(table.c.updated_at < window.end)
            if window.start is not None:
                query = query.where(table.c.updated_at >= window.start)
            query = query.order_by(table.c.updated_at, table.c[spec.key])
            result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(
                query
            )
            schema = {name: dtypes.get(name) for name in result.keys()}
            frames = [
                pl.DataFrame(chunk, schema=schema, orient="row") for chunk in result.partitions()
            ]
    finally:
        engine.dispose()
    if not frames:
        return pl.DataFrame(schema={n: d or pl.String for n, d in schema.items()})
    return pl.concat(frames, how="vertical_relaxed")


# --- the load -----------------------------------------------------------------------------


def _copy(cur: psycopg.Cursor, table: sql.Composable, frame: pl.DataFrame) -> None:
    """COPY a data frame (columns named as the table's) in CSV form."""
    if frame.is_empty():
        return
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="", quote_style="non_numeric")
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    statement = sql.SQL("copy {} ({}) from stdin with (format csv, null '')").format(table, columns)
    with cur.copy(statement) as copy:
        copy.write(buffer.getvalue())


def _quarantine_rows(batch: Batch, frame: pl.DataFrame, rejects: pl.DataFrame, key: str):
    """quarantine.rejected_rows rows: the natural key as line_number, the row as JSON."""
    rows = frame.with_row_index("row_index").select(
        pl.col("row_index").cast(pl.Int64),
        pl.col(key).cast(pl.Int32, strict=False).alias("line_number"),
        pl.struct(pl.exclude("row_index").cast(pl.String)).struct.json_encode().alias("raw_line"),
    )
    return (
        rejects.join(rows, on="row_index", how="left")
        .sort("row_index", maintain_order=True)
        .select(
            pl.lit(batch.batch_id).alias("batch_id"),
            pl.lit(batch.source_system).alias("source_system"),
            pl.lit(batch.table_name).alias("table_name"),
            pl.lit(batch.business_date).alias("business_date"),
            pl.lit(batch.source_file).alias("source_file"),
            "line_number",
            "raw_line",
            "rule",
            "column_name",
            "detail",
        )
    )


_WATERMARK_SQL = """
    insert into ops.extract_watermark (source_system, table_name, business_date,
        watermark, window_start, window_end, batch_id, rows_read, updated)
    values (%s, %s, %s, %s, %s, %s, %s, %s, now())
    on conflict (source_system, table_name, business_date) do update set
        watermark = excluded.watermark, window_start = excluded.window_start,
        window_end = excluded.window_end, batch_id = excluded.batch_id,
        rows_read = excluded.rows_read, updated = excluded.updated
"""


def _with_load_metadata(rows: pl.DataFrame, batch: Batch, loaded_at: dt.datetime) -> pl.DataFrame:
    return rows.with_columns(
        _batch_id=pl.lit(batch.batch_id),
        _business_date=pl.lit(batch.business_date),
        _source_file=pl.lit(batch.source_file),
        _loaded_at=pl.lit(loaded_at),
    )


def _upsert_statement(spec: TableSpec, columns: list[str], stage: sql.Identifier) -> sql.Composed:
    """Insert the staged rows; a stored row is replaced only by a later ``updated_at``."""
    return sql.SQL(
        "insert into {raw} as r ({columns}) select {columns} from {stage}"
        " on conflict ({key}) do update set {updates}"
        " where r.updated_at < excluded.updated_at"
    ).format(
        raw=sql.Identifier(*spec.raw_table.split(".")),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        stage=stage,
        key=sql.Identifier(spec.key),
        updates=sql.SQL(", ").join(
            sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c))
            for c in columns
            if c != spec.key
        ),
    )


def upsert_batch(
    conn: psycopg.Connection,
    batch: Batch,
    spec: TableSpec,
    *,
    rows: pl.DataFrame,
    quarantine: pl.DataFrame,
    rows_read: int,
    rows_quarantined: int,
    window: Window,
    watermark: dt.datetime | None,
    max_reject_rate: float,
    started_at: dt.datetime,
) -> BatchResult:
    """Upsert ``rows`` into the raw table, replace the night's quarantine, record it all.

    One transaction: quarantine rows, the upsert, the night's watermark and its audit row.
    A stored row is replaced only by a later ``updated_at``, so the raw table ends in the
    same state whatever order nights are (re)run in. Over the reject threshold nothing
    reaches raw, the watermark does not move, and RejectThresholdExceeded is raised.
    """
    if rows_read != rows.height + rows_quarantined:
        raise AssertionError(
            f"{batch.source_file}: rows read {rows_read} != upserted {rows.height} + "
            f"quarantined {rows_quarantined}; refusing to load a batch that does not add up"
        )
    reasons = top_reasons(quarantine)
    over = rows_read > 0 and rows_quarantined / rows_read > max_reject_rate
    error = (
        f"{rows_quarantined} of {rows_read} rows rejected "
        f"({rows_quarantined / rows_read:.1%} > {max_reject_rate:.1%}); top reasons: "
        + ", ".join(f"{r} ({n})" for r, n in reasons)
        if over
        else None
    )
    raw = sql.Identifier(*spec.raw_table.split("."))
    stage = sql.Identifier(f"_stage_{spec.entity}")
    loaded = _with_load_metadata(rows, batch, dt.datetime.now(dt.UTC))
    changed = 0
    with conn.transaction(), conn.cursor() as cur:
        # Serialise loads of one table: upserts of different nights touch the same keys.
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (spec.raw_table,))
        cur.execute(
            "delete from quarantine.rejected_rows"
            " where source_system = %s and table_name = %s and business_date = %s",
            (batch.source_system, batch.table_name, batch.business_date),
        )
        _copy(cur, sql.Identifier("quarantine", "rejected_rows"), quarantine)
        if not over:
            # Dropped first: several nights may be upserted inside one outer transaction.
            cur.execute(sql.SQL("drop table if exists {}").format(stage))
            cur.execute(sql.SQL("create temp table {} (like {}) on commit drop").format(stage, raw))
            _copy(cur, stage, loaded)
            cur.execute(_upsert_statement(spec, loaded.columns, stage))
            changed = cur.rowcount
            cur.execute(
                _WATERMARK_SQL,
                (
                    batch.source_system,
                    batch.table_name,
                    batch.business_date,
                    watermark,
                    window.start,
                    window.end,
                    batch.batch_id,
                    rows_read,
                ),
            )
        write_audit(
            cur,
            batch,
            status="rejected" if over else "loaded",
            started_at=started_at,
            rows_read=rows_read,
            rows_loaded=0 if over else rows.height,
            rows_quarantined=rows_quarantined,
            error=error,
        )
    result = BatchResult(
        batch.batch_id,
        rows_read,
        0 if over else rows.height,
        rows_quarantined,
        reasons,
        "rejected" if over else "loaded",
    )
    log.info(
        "%s %s: window [%s, %s), read %d, upserted %d (%d new or changed), quarantined %d (%s)",
        spec.raw_table,
        batch.business_date,
        window.start,
        window.end,
        rows_read,
        result.rows_loaded,
        changed,
        rows_quarantined,
        result.status,
    )
    if over:
        raise RejectThresholdExceeded(
            f"{batch.source_file}: {error}. Batch held back; see quarantine.rejected_rows."
        )
    return result


def _spec_of(entity: str) -> TableSpec:
    try:
        return TABLES[entity]
    except KeyError:
        raise ValueError(
            f"unknown e-banking entity {entity!r}; expected one of {sorted(TABLES)}"
        ) from None


def _batch_of(spec: TableSpec, business_date: dt.date, url: str, table_prefix: str) -> ExtractBatch:
    return ExtractBatch(
        SOURCE_SYSTEM,
        spec.entity,
        spec.raw_table,
        business_date,
        _display_url(url, table_prefix + spec.source_table),
    )


def _watermark(window: Window, frame: pl.DataFrame) -> dt.datetime | None:
    """The night's watermark: the latest ``updated_at`` read so far."""
    read_max = frame["updated_at"].max() if frame.height else None
    candidates = [t for t in (window.previous_watermark, read_max) if t is not None]
    return max(candidates) if candidates else None


def _upsert_night(
    conn: psycopg.Connection,
    spec: TableSpec,
    batch: ExtractBatch,
    frame: pl.DataFrame,
    checked,
    window: Window,
    settings: Settings,
    started: dt.datetime,
) -> BatchResult:
    """Upsert one night's validated read (``checked``: split_valid of ``frame``)."""
    try:
        return upsert_batch(
            conn,
            batch,
            spec,
            rows=spec.transform(checked.valid, settings.pii_key()),
            quarantine=_quarantine_rows(batch, frame, checked.rejects, spec.key),
            rows_read=frame.height,
            rows_quarantined=checked.rejects["row_index"].n_unique(),
            window=window,
            watermark=_watermark(window, frame),
            max_reject_rate=settings.reject_rate(batch.source_system, batch.table_name),
            started_at=started,
        )
    except RejectThresholdExceeded:
        raise  # audited as 'rejected' by upsert_batch
    except Exception as exc:
        # The transaction rolled back; audit the failure if the connection still works.
        try:
            record_failure(conn, batch, f"{type(exc).__name__}: {exc}", started)
        except psycopg.Error:
            log.exception("could not audit the failed batch %s", batch.batch_id)
        raise


def extract_ebanking(
    entity: str,
    business_date: dt.date,
    settings: Settings | None = None,
    *,
    url: str | None = None,
    overlap: dt.timedelta | None = None,
    table_prefix: str = "",
) -> BatchResult:
    """Extract one table's changes of one night from the platform into raw (upsert).

    ``entity`` is ``users``, ``logins`` or ``transactions``. ``url`` defaults to
    :func:`source_url`, ``overlap`` to :func:`overlap_of`; ``table_prefix`` is prepended
    to the source table names (tests sharing one source database use it).
    """
    from puhui.validate import split_valid
    from schemas.ebanking import schema_for  # pandera import is slow; only when loading

    settings = settings or get_settings()
    spec = _spec_of(entity)
    url = url or source_url(settings)
    overlap = overlap_of(settings) if overlap is None else overlap
    started = dt.datetime.now(dt.UTC)
    batch = _batch_of(spec, business_date, url, table_prefix)
    db.init_warehouse(settings)
    # autocommit: the transaction in upsert_batch is a real one, and a failure's audit row
    # (record_failure) is kept when the task then fails.
    with db.connect(settings, autocommit=True) as conn:
        window = extraction_window(conn, entity, business_date, overlap)
        try:
            frame = read_source(url, spec, window, table_prefix)
            checked = split_valid(frame, schema_for(entity))
        except Exception as exc:
            record_failure(conn, batch, f"{type(exc).__name__}: {exc}", started)
            raise
        return _upsert_night(conn, spec, batch, frame, checked, window, settings, started)


def extract_ebanking_nights(
    conn: psycopg.Connection,
    entity: str,
    dates: list[dt.date],
    settings: Settings,
    *,
    url: str | None = None,
    overlap: dt.timedelta | None = None,
    table_prefix: str = "",
) -> list[BatchResult]:
    """:func:`extract_ebanking` for consecutive nights: one read, one validation, on ``conn``.

    The nights' windows are those the nightly runs would use, each from the watermark the
    previous night leaves: the source is read once over all of them ([first window's start,
    last night's end)) and each night's rows are cut from that read in the same order.
    Each night is then validated (within one pandera pass: a row re-read by the overlap is
    no duplicate of itself) and upserted, watermarked and audited as its own night, in
    order, so raw keeps the first night's version of a row unless a later ``updated_at``
    replaces it, exactly as night-by-night.
    """
    from puhui.validate import split_valid_batches
    from schemas.ebanking import schema_for

    spec = _spec_of(entity)
    url = url or source_url(settings)
    overlap = overlap_of(settings) if overlap is None else overlap
    if any((b - a).days != 1 for a, b in itertools.pairwise(dates)):
        raise ValueError(f"nights must be consecutive: {dates}")
    started = dt.datetime.now(dt.UTC)
    first = extraction_window(conn, entity, dates[0], overlap)
    last_end = dt.datetime.combine(dates[-1] + dt.timedelta(days=1), dt.time())
    read = read_source(url, spec, Window(first.start, last_end, None), table_prefix)

    windows, frames, previous = [], [], first.previous_watermark
    for day in dates:
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        window = Window(previous - overlap if previous else None, end, previous)
        in_window = pl.col("updated_at") < window.end
        if window.start is not None:
            in_window &= pl.col("updated_at") >= window.start
        frame = read.filter(in_window)
        previous = _watermark(window, frame)  # what upserting this night records
        windows.append(window)
        frames.append(frame)
    checked = split_valid_batches(frames, dates, schema_for(entity), by="_business_date")
    return upsert_nights(
        conn,
        spec,
        [
            Night(_batch_of(spec, day, url, table_prefix), frame, result, window)
            for day, frame, result, window in zip(dates, frames, checked, windows, strict=True)
        ],
        settings,
        started,
    )


@dataclass(frozen=True)
class Night:
    """One night's read of one table and its validation (``split_valid`` of ``frame``)."""

    batch: ExtractBatch
    frame: pl.DataFrame
    checked: ValidationResult
    window: Window


def upsert_nights(
    conn: psycopg.Connection,
    spec: TableSpec,
    nights: list[Night],
    settings: Settings,
    started_at: dt.datetime,
) -> list[BatchResult]:
    """:func:`upsert_batch` of consecutive nights, in order, with one statement of each kind.

    Upserting the nights one after the other keeps, per key, the stored row unless a night
    brings a later ``updated_at``, and then the first night's version with the latest
    ``updated_at``: that version alone is staged and upserted. Quarantine, watermark and
    audit rows are each night's own. A night over its reject threshold raises
    ``RejectThresholdExceeded`` before anything is written (load the nights one by one to
    record the rejection).
    """
    key = settings.pii_key()
    results, quarantines, valid, metadata = [], [], [], []
    loaded_at = dt.datetime.now(dt.UTC)
    for night in nights:
        batch, rejects = night.batch, night.checked.rejects
        rows_read, rows = night.frame.height, night.checked.valid
        rows_quarantined = rejects["row_index"].n_unique()
        if rows_read != rows.height + rows_quarantined:
            raise AssertionError(
                f"{batch.source_file}: rows read {rows_read} != upserted {rows.height} + "
                f"quarantined {rows_quarantined}; refusing to load a batch that does not add up"
            )
        max_rate = settings.reject_rate(batch.source_system, batch.table_name)
        if rows_read > 0 and rows_quarantined / rows_read > max_rate:
            raise RejectThresholdExceeded(
                f"{batch.source_file} {batch.business_date}: {rows_quarantined} of {rows_read} "
                f"rows rejected (> {max_rate:.1%}); load the night alone to record it"
            )
        quarantine = _quarantine_rows(batch, night.frame, rejects, spec.key)
        quarantines.append(quarantine)
        valid.append(rows)
        metadata.append(
            _with_load_metadata(rows.select(pl.int_range(pl.len()).alias("_n")), batch, loaded_at)
        )
        results.append(
            BatchResult(
                batch.batch_id,
                rows_read,
                rows.height,
                rows_quarantined,
                top_reasons(quarantine),
                "loaded",
            )
        )
    staged = (
        pl.concat(
            [
                spec.transform(pl.concat(valid, how="vertical"), key),
                pl.concat(metadata, how="vertical").drop("_n"),
            ],
            how="horizontal",
        )
        .with_row_index("_order")
        .sort([spec.key, "updated_at", "_order"], descending=[False, True, False])
        .unique(subset=[spec.key], keep="first")
        .sort("_order")
        .drop("_order")
    )
    first = nights[0].batch
    dates = [night.batch.business_date for night in nights]
    stage = sql.Identifier(f"_stage_{spec.entity}")
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (spec.raw_table,))
        replace_quarantine(cur, first, dates, pl.concat(quarantines, how="vertical_relaxed"))
        cur.execute(sql.SQL("drop table if exists {}").format(stage))
        cur.execute(
            sql.SQL("create temp table {} (like {}) on commit drop").format(
                stage, sql.Identifier(*spec.raw_table.split("."))
            )
        )
        _copy(cur, stage, staged)
        cur.execute(_upsert_statement(spec, staged.columns, stage))
        with conn.pipeline():
            for night, result in zip(nights, results, strict=True):
                batch = night.batch
                cur.execute(
                    _WATERMARK_SQL,
                    (
                        batch.source_system,
                        batch.table_name,
                        batch.business_date,
                        _watermark(night.window, night.frame),
                        night.window.start,
                        night.window.end,
                        batch.batch_id,
                        result.rows_read,
                    ),
                )
                write_loaded_audit(cur, batch, result, started_at)
    log.info(
        "%s %s..%s: read %d, upserted %d, quarantined %d",
        spec.raw_table,
        dates[0],
        dates[-1],
        sum(r.rows_read for r in results),
        sum(r.rows_loaded for r in results),
        sum(r.rows_quarantined for r in results),
    )
    return results
