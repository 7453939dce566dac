"""Transactional batch loads: COPY into ``raw``, rejects into ``quarantine``, a row in ``ops``.

One (table, business date) batch is replaced whole inside one transaction, so a rerun or a
re-sent file never double-counts, and a load killed half-way leaves nothing visible. Every
line read is accounted for: ``rows_read == rows_loaded + rows_quarantined`` is asserted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

log = logging.getLogger(__name__)


class RejectThresholdExceeded(Exception):
    """Too many rows of a batch were rejected: the batch is held back, not loaded."""


@dataclass(frozen=True)
class Batch:
    """Identity and provenance of one batch."""

    source_system: str
    table_name: str  # the raw entity, e.g. "archives"
    raw_table: str  # schema-qualified, e.g. "raw.core_banking__archives"
    business_date: dt.date
    source_file: str
    control_record_count: int | None = None
    control_byte_size: int | None = None
    control_md5: str | None = None

    @property
    def batch_id(self) -> str:
        digest = (self.control_md5 or "nomd5")[:12]
        return f"{self.source_system}.{self.table_name}.{self.business_date:%Y%m%d}.{digest}"


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    top_reasons: list[tuple[str, int]]
    status: str


# Rows per COPY chunk: small enough that the server starts on the first chunk while the
# next ones are transformed and rendered, large enough that polars' per-call overhead stays
# negligible. About 10 MB of text for the widest raw tables.
COPY_CHUNK_ROWS = 50_000

# COPY's text format: backslash, tab, newline and carriage return inside a value are
# written as escapes; everything else is taken literally and NULL is ``\N``.
_TEXT_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_NEEDS_ESCAPE = r"[\\\t\n\r]"


def _render_text(frame: pl.DataFrame) -> memoryview:
    """The rows in COPY's text format, without a copy of the rendered bytes.

    Text rather than CSV: the server parses it about a quarter faster, and an empty
    string stays distinct from NULL (``\\N``) as it was with quoted CSV. The rows are
    written as they are, then the bytes are counted: when they hold exactly the tabs,
    newlines and backslashes of the layout (one tab between fields, one newline per row,
    one backslash per NULL) and no carriage return, no value held a character to escape.
    Only otherwise are the string columns that hold one escaped and the rows written
    again. (Counting four byte values costs a fifth of searching every string column.)
    """
    strings = [c for c, t in frame.schema.items() if t in (pl.String, pl.Categorical, pl.Enum)]
    if strings:
        frame = frame.with_columns(pl.col(strings).cast(pl.String))
    rendered = _write_text(frame)
    if not strings or _only_layout_characters(rendered, frame):
        return rendered
    flagged = frame.select(pl.col(strings).str.contains(_NEEDS_ESCAPE).any()).row(0)
    escaped = []
    for column, needs in zip(strings, flagged, strict=True):
        if needs:
            expr = pl.col(column)
            for char, escape in _TEXT_ESCAPES:
                expr = expr.str.replace_all(char, escape, literal=True)
            escaped.append(expr)
    return _write_text(frame.with_columns(escaped))


def _write_text(frame: pl.DataFrame) -> memoryview:
    buffer = io.BytesIO()
    frame.write_csv(
        buffer, include_header=False, separator="\t", quote_style="never", null_value="\\N"
    )
    return buffer.getbuffer()


def _only_layout_characters(rendered: memoryview, frame: pl.DataFrame) -> bool:
    """Whether ``rendered`` (``frame`` written unescaped) has no tab, newline, carriage
    return or backslash other than those of the layout and of the NULL markers."""
    data = np.frombuffer(rendered, dtype=np.uint8)
    nulls = sum(frame.null_count().row(0))
    return (
        np.count_nonzero(data == ord("\t")) == frame.height * (frame.width - 1)
        and np.count_nonzero(data == ord("\n")) == frame.height
        and np.count_nonzero(data == ord("\\")) == nulls
        and np.count_nonzero(data == ord("\r")) == 0
    )


def _chunks(
    frame: pl.DataFrame, transform: Callable[[pl.DataFrame], pl.DataFrame]
) -> Iterator[pl.DataFrame]:
    """``transform`` applied to ``frame`` chunk by chunk, lazily, as the COPY asks for them.

    ``transform`` must keep the rows (one output row per input row, same order): checked
    per chunk, since the counts asserted before the load are those of ``frame``.
    """
    for chunk in frame.iter_slices(COPY_CHUNK_ROWS):
        out = transform(chunk)
        if out.height != chunk.height:
            raise AssertionError(
                f"transform turned {chunk.height} rows into {out.height}; refusing to load"
            )
        yield out


def _copy_frame(
    cur: psycopg.Cursor, table: sql.Composable, frame: pl.DataFrame | Iterable[pl.DataFrame]
) -> None:
    """COPY a data frame, or its chunks in order, into ``table`` (columns named as its).

    Chunks overlap Python with the server: psycopg's ``QueuedLibpqWriter`` writes to the
    socket from a worker thread, so the server parses and inserts one chunk while this
    thread produces the next (polars releases the GIL for most of that work).
    """
    chunks = frame.iter_slices(COPY_CHUNK_ROWS) if isinstance(frame, pl.DataFrame) else frame
    with contextlib.ExitStack() as stack:
        copy = None
        for chunk in chunks:
            if chunk.is_empty():
                continue
            if copy is None:
                columns = sql.SQL(", ").join(sql.Identifier(c) for c in chunk.columns)
                statement = sql.SQL("copy {} ({}) from stdin with (format text)").format(
                    table, columns
                )
                copy = stack.enter_context(cur.copy(statement, writer=QueuedLibpqWriter(cur)))
            copy.write(_render_text(chunk))


def _qualified(name: str) -> sql.Composable:
    schema, _, table = name.partition(".")
    return sql.Identifier(schema, table)


LOAD_SETTINGS = {
    "_batch_id": "puhui.batch_id",
    "_business_date": "puhui.business_date",
    "_source_file": "puhui.source_file",
    "_loaded_at": "puhui.loaded_at",
}
"""Raw metadata column -> the transaction-local setting its default reads (ddl/900_*.sql)."""


def set_load_context(
    cur: psycopg.Cursor | psycopg.Connection, batch: Batch, loaded_at: dt.datetime
) -> None:
    """Make the batch's load metadata the defaults of the raw tables, for this transaction.

    A COPY then sends only the data columns: the server evaluates each default once per
    statement (see ddl/900_load_metadata_defaults.sql), not once per row.
    """
    values = {
        "_batch_id": batch.batch_id,
        "_business_date": batch.business_date.isoformat(),
        "_source_file": batch.source_file,
        "_loaded_at": loaded_at.isoformat(),
    }
    cur.execute(
        sql.SQL("select {}").format(
            sql.SQL(", ").join(
                sql.SQL("set_config({}, {}, true)").format(
                    sql.Literal(LOAD_SETTINGS[column]), sql.Literal(value)
                )
                for column, value in values.items()
            )
        )
    )


def top_reasons(rejects: pl.DataFrame, limit: int = 5) -> list[tuple[str, int]]:
    if rejects.is_empty():
        return []
    counts = (
        rejects.with_columns(
            pl.when(pl.col("column_name").is_null())
            .then(pl.col("rule"))
            .otherwise(pl.col("rule") + pl.lit(" on ") + pl.col("column_name"))
            .alias("reason")
        )
        .group_by("reason")
        .len()
        .sort(["len", "reason"], descending=[True, False])
        .head(limit)
    )
    return [(r, n) for r, n in counts.iter_rows()]


def write_loaded_audit(
    conn: psycopg.Connection | psycopg.Cursor,
    batch: Batch,
    result: BatchResult,
    started_at: dt.datetime,
) -> None:
    """:func:`write_audit` of a batch that loaded, with the counts of its ``result``."""
    write_audit(
        conn,
        batch,
        status="loaded",
        started_at=started_at,
        rows_read=result.rows_read,
        rows_loaded=result.rows_loaded,
        rows_quarantined=result.rows_quarantined,
    )


def write_audit(
    conn: psycopg.Connection | psycopg.Cursor,
    batch: Batch,
    *,
    status: str,
    started_at: dt.datetime,
    rows_read: int | None = None,
    rows_loaded: int | None = None,
    rows_quarantined: int | None = None,
    error: str | None = None,
    batch_id: str | None = None,
) -> None:
    """Upsert the batch's row in ``ops.load_audit`` (its duration ends now).

    Counts left out (a batch that stopped before loading) keep what an earlier attempt of
    the same batch recorded.
    """
    finished = dt.datetime.now(dt.UTC)
    conn.execute(
        """
        insert into ops.load_audit (batch_id, source_system, table_name, business_date,
            source_file, control_record_count, control_byte_size, control_md5, rows_read,
            rows_loaded, rows_quarantined, started_at, finished_at, duration_seconds,
            status, error)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (batch_id) do update set
            source_file = excluded.source_file,
            rows_read = coalesce(excluded.rows_read, load_audit.rows_read),
            rows_loaded = coalesce(excluded.rows_loaded, load_audit.rows_loaded),
            rows_quarantined = coalesce(excluded.rows_quarantined, load_audit.rows_quarantined),
            started_at = excluded.started_at, finished_at = excluded.finished_at,
            duration_seconds = excluded.duration_seconds, status = excluded.status,
            error = excluded.error
        """,
        (
            batch_id or batch.batch_id,
            batch.source_system,
            batch.table_name,
            batch.business_date,
            batch.source_file,
            batch.control_record_count,
            batch.control_byte_size,
            batch.control_md5,
            rows_read,
            rows_loaded,
            rows_quarantined,
            started_at,
            finished,
            (finished - started_at).total_seconds(),
            status,
            error,
        ),
    )


def _quarantined_lines(
    batch: Batch, rows: pl.DataFrame, rejects: pl.DataFrame, rows_read: int
) -> tuple[int, list[str]]:
    """Lines quarantined in ``rejects`` (a line failing several rules counts once) and the
    key that names a line; raises unless rows read = rows loaded + lines quarantined.

    A batch may gather several files (partners' deliveries): a reject row may then name
    its own source_file, and a line is identified by (source_file, line_number).
    """
    line_key = (
        ["source_file", "line_number"] if "source_file" in rejects.columns else ["line_number"]
    )
    quarantined = rejects.select(line_key).n_unique() if not rejects.is_empty() else 0
    if rows_read != rows.height + quarantined:
        raise AssertionError(
            f"{batch.source_file}: rows read {rows_read} != loaded {rows.height} + quarantined "
            f"{quarantined}; refusing to load a batch that does not add up"
        )
    return quarantined, line_key


def _quarantine_rows(batch: Batch, rejects: pl.DataFrame, line_key: list[str]) -> pl.DataFrame:
    """``rejects`` as rows of quarantine.rejected_rows, in line order."""
    per_file = "source_file" in line_key
    return rejects.sort(line_key).select(
        pl.lit(batch.batch_id).alias("batch_id"),
        pl.lit(batch.source_system).alias("source_system"),
        pl.lit(batch.table_name).alias("table_name"),
        pl.lit(batch.business_date).alias("business_date"),
        (pl.col("source_file") if per_file else pl.lit(batch.source_file)).alias("source_file"),
        pl.col("line_number").cast(pl.Int32),
        pl.col("raw_line"),
        pl.col("rule"),
        pl.col("column_name"),
        pl.col("detail"),
    )


def load_batch(
    conn: psycopg.Connection,
    batch: Batch,
    *,
    rows: pl.DataFrame,
    rejects: pl.DataFrame,
    rows_read: int,
    max_reject_rate: float,
    started_at: dt.datetime,
    transform: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> BatchResult:
    """Replace ``batch`` in the warehouse with ``rows`` and quarantine ``rejects``.

    ``rows`` holds the raw table's columns (without load metadata), or the columns
    ``transform`` turns into them: it is then applied chunk by chunk inside the COPY, so
    that hashing and masking overlap with the server's work. ``rejects`` has one row per
    failed rule: line_number, raw_line, rule, column_name, detail. A line with several
    failed rules counts once in ``rows_quarantined``.
    """
    quarantined, line_key = _quarantined_lines(batch, rows, rejects, rows_read)
    reasons = top_reasons(rejects)
    over = rows_read > 0 and quarantined / rows_read > max_reject_rate
    status = "rejected" if over else "loaded"
    loaded_at = dt.datetime.now(dt.UTC)
    with conn.transaction(), conn.cursor() as cur:
        # Serialise loads of the same batch (a retry racing a late first attempt).
        cur.execute(
            "select pg_advisory_xact_lock(hashtext(%s))",
            (batch.raw_table + str(batch.business_date),),
        )
        replace_quarantine(
            cur, batch, [batch.business_date], _quarantine_rows(batch, rejects, line_key)
        )
        if not over:
            cur.execute(
                sql.SQL("delete from {} where _business_date = %s").format(
                    _qualified(batch.raw_table)
                ),
                (batch.business_date,),
            )
            # The load metadata are the raw table's defaults for this transaction (a row's
            # own _source_file, in a batch of several files, is sent with the row).
            set_load_context(cur, batch, loaded_at)
            _copy_frame(
                cur,
                _qualified(batch.raw_table),
                _chunks(rows, transform) if transform is not None else rows,
            )
            cur.execute(
                "update ops.load_audit set status = 'superseded'"
                " where source_system = %s and table_name = %s and business_date = %s"
                " and batch_id <> %s and status = 'loaded'",
                (batch.source_system, batch.table_name, batch.business_date, batch.batch_id),
            )
        error = (
            f"{quarantined} of {rows_read} rows rejected "
            f"({quarantined / rows_read:.1%} > {max_reject_rate:.1%}); top reasons: "
            + ", ".join(f"{r} ({n})" for r, n in reasons)
            if over
            else None
        )
        write_audit(
            cur,
            batch,
            status=status,
            started_at=started_at,
            rows_read=rows_read,
            rows_loaded=0 if over else rows.height,
            rows_quarantined=quarantined,
            error=error,
        )
    result = BatchResult(
        batch.batch_id, rows_read, 0 if over else rows.height, quarantined, reasons, status
    )
    log.info(
        "%s %s: read %d, loaded %d, quarantined %d (%s)",
        batch.raw_table,
        batch.business_date,
        rows_read,
        result.rows_loaded,
        quarantined,
        status,
    )
    if over:
        raise RejectThresholdExceeded(
            f"{batch.source_file}: {error}. Batch held back; see quarantine.rejected_rows."
        )
    return result


def record_failure(
    conn: psycopg.Connection, batch: Batch, error: str, started_at: dt.datetime
) -> None:
    """Audit a batch that stopped before loading (missing or mismatching control file)."""
    with conn.transaction():
        write_audit(conn, batch, status="failed", started_at=started_at, error=error)


def replace_quarantine(
    cur: psycopg.Cursor, batch: Batch, dates: list[dt.date], rows: pl.DataFrame
) -> None:
    """Replace the quarantine rows of ``batch``'s source table on ``dates`` with ``rows``."""
    cur.execute(
        "delete from quarantine.rejected_rows"
        " where source_system = %s and table_name = %s and business_date = any(%s)",
        (batch.source_system, batch.table_name, dates),
    )
    _copy_frame(cur, sql.Identifier("quarantine", "rejected_rows"), rows)


@dataclass(frozen=True)
class BatchLoad:
    """One batch for :func:`load_batches`: the arguments :func:`load_batch` takes for it."""

    batch: Batch
    rows: pl.DataFrame
    rejects: pl.DataFrame
    rows_read: int
    started_at: dt.datetime


def load_batches(
    conn: psycopg.Connection,
    loads: list[BatchLoad],
    *,
    max_reject_rate: float,
    transform: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> list[BatchResult]:
    """:func:`load_batch` for batches of one raw table on different business dates, at once.

    History loads replace hundreds of small (table, date) batches: one statement of each
    kind for all of them (one delete per table, one COPY of the rows with their own batch
    metadata, one of the quarantine rows) instead of a transaction of seven per batch.
    Every batch ends as :func:`load_batch` leaves it: its rows, quarantine rows and audit
    row (status ``loaded``). A batch over its reject threshold raises
    ``RejectThresholdExceeded`` before anything is written: the caller rolls back and loads
    date by date, where ``load_batch`` records the rejection.
    """
    if not loads:
        return []
    raw_tables = {load.batch.raw_table for load in loads}
    dates = [load.batch.business_date for load in loads]
    if len(raw_tables) != 1 or len(set(dates)) != len(dates):
        raise ValueError("load_batches takes batches of one raw table, one per business date")
    first = loads[0].batch
    results, rows, quarantine = [], [], []
    for load in loads:
        batch, rejects = load.batch, load.rejects
        quarantined, line_key = _quarantined_lines(batch, load.rows, rejects, load.rows_read)
        if load.rows_read > 0 and quarantined / load.rows_read > max_reject_rate:
            raise RejectThresholdExceeded(
                f"{batch.source_file}: {quarantined} of {load.rows_read} rows rejected "
                f"(> {max_reject_rate:.1%}); load it alone to record the rejection"
            )
        results.append(
            BatchResult(
                batch.batch_id,
                load.rows_read,
                load.rows.height,
                quarantined,
                top_reasons(rejects),
                "loaded",
            )
        )
        metadata = [
            pl.lit(batch.batch_id).alias("_batch_id"),
            pl.lit(batch.business_date).alias("_business_date"),
        ]
        if "_source_file" not in load.rows.columns:
            metadata.append(pl.lit(batch.source_file).alias("_source_file"))
        rows.append(load.rows.with_columns(*metadata))
        quarantine.append(_quarantine_rows(batch, rejects, line_key))
    meta = ["_batch_id", "_business_date", "_source_file"]
    frame = pl.concat(rows, how="vertical_relaxed")

    def with_metadata(chunk: pl.DataFrame) -> pl.DataFrame:
        return transform(chunk).with_columns(chunk.select(meta))

    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "select pg_advisory_xact_lock(hashtext(key)) from unnest(%s::text[]) as key",
            ([first.raw_table + str(day) for day in dates],),
        )
        replace_quarantine(cur, first, dates, pl.concat(quarantine, how="vertical_relaxed"))
        cur.execute(
            sql.SQL("delete from {} where _business_date = any(%s)").format(
                _qualified(first.raw_table)
            ),
            (dates,),
        )
        # _loaded_at is the raw tables' default (one load time for all the batches); the
        # other metadata travel with the rows.
        set_load_context(cur, first, dt.datetime.now(dt.UTC))
        _copy_frame(
            cur,
            _qualified(first.raw_table),
            _chunks(frame, with_metadata) if transform is not None else frame,
        )
        cur.execute(
            "update ops.load_audit a set status = 'superseded'"
            " from unnest(%s::date[], %s::text[]) as b(business_date, batch_id)"
            " where a.source_system = %s and a.table_name = %s"
            " and a.business_date = b.business_date and a.batch_id <> b.batch_id"
            " and a.status = 'loaded'",
            (dates, [r.batch_id for r in results], first.source_system, first.table_name),
        )
        with conn.pipeline():
            for load, result in zip(loads, results, strict=True):
                write_loaded_audit(cur, load.batch, result, load.started_at)
    log.info(
        "%s %s..%s: %d batches, read %d, loaded %d, quarantined %d",
        first.raw_table,
        min(dates),
        max(dates),
        len(loads),
        sum(r.rows_read for r in results),
        sum(r.rows_loaded for r in results),
        sum(r.rows_quarantined for r in results),
    )
    return results
