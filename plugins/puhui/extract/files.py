"""Landing files: control-file verification and parsing of delimited unload files.

A control file (``.ok``) is one line ``file name|business date|record count|byte size|MD5|
generated at``. Nothing of a batch is loaded unless its data file matches its control file.
Parsing never drops a line: each line either becomes a row or a reject with its reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl


class ControlFileError(Exception):
    """A data file and its control file disagree, or the control file is missing/invalid."""


@dataclass(frozen=True)
class ControlRecord:
    path: Path
    file_name: str
    business_date: dt.date
    record_count: int
    byte_size: int
    md5: str
    generated_at: dt.datetime


def read_control(path: Path) -> ControlRecord:
    """Parse a control file; a missing or malformed one raises ControlFileError."""
    if not path.is_file():
        raise ControlFileError(f"{path}: control file is missing; the batch cannot be verified")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    fields = text.split("|")
    if len(fields) != 6:
        raise ControlFileError(
            f"{path}: control file must have 6 '|'-separated fields, found {len(fields)}: {text!r}"
        )
    name, bdate, count, size, md5, generated = fields
    if not (
        re.fullmatch(r"[0-9]{8}", bdate)
        and re.fullmatch(r"[0-9]{14}", generated)
        and re.fullmatch(r"[0-9]+", count)
        and re.fullmatch(r"[0-9]+", size)
        and re.fullmatch(r"[0-9a-fA-F]{32}", md5)
    ):
        raise ControlFileError(f"{path}: malformed control file {text!r}")
    try:
        return ControlRecord(
            path=path,
            file_name=name,
            business_date=dt.datetime.strptime(bdate, "%Y%m%d").date(),
            record_count=int(count),
            byte_size=int(size),
            md5=md5.lower(),
            generated_at=dt.datetime.strptime(generated, "%Y%m%d%H%M%S"),
        )
    except ValueError as exc:
        raise ControlFileError(f"{path}: malformed control file {text!r}: {exc}") from exc


def count_records(data: bytes) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def verify(data_path: Path, control: ControlRecord, business_date: dt.date) -> bytes:
    """Check a data file against its control file; return its bytes when they agree."""
    problems = []
    if control.file_name != data_path.name:
        problems.append(f"control names file {control.file_name!r}")
    if control.business_date != business_date:
        problems.append(f"control business date {control.business_date} != {business_date}")
    if not data_path.is_file():
        raise ControlFileError(
            f"{data_path}: data file is missing (control file {control.path.name})"
        )
    data = data_path.read_bytes()
    if len(data) != control.byte_size:
        problems.append(f"byte size {len(data)} != control {control.byte_size}")
    records = count_records(data)
    if records != control.record_count:
        problems.append(f"record count {records} != control {control.record_count}")
    md5 = hashlib.md5(data).hexdigest()
    if md5 != control.md5:
        problems.append(f"MD5 {md5} != control {control.md5}")
    if problems:
        raise ControlFileError(
            f"{data_path}: does not match its control file: " + "; ".join(problems)
        )
    return data


@dataclass(frozen=True)
class ParsedFile:
    """Rows of a delimited file as strings, and the lines that could not become rows.

    ``frame`` has ``_line_number`` (1-based), ``_raw_line`` and one String column per field
    (empty fields are null). ``rejects`` has line_number, raw_line, rule, column_name, detail.
    """

    frame: pl.DataFrame
    rejects: pl.DataFrame
    lines_read: int


REJECT_SCHEMA = {
    "line_number": pl.Int64,
    "raw_line": pl.String,
    "rule": pl.String,
    "column_name": pl.String,
    "detail": pl.String,
}


def _decode_lines(
    data: bytes, encoding: str
) -> tuple[pl.Series, list[tuple[int, str, str]], bytes | None]:
    """The file's lines, the lines that are not valid ``encoding`` (left empty here), and
    the whole file in UTF-8 when polars could read it as it is (else None).

    A file that decodes whole is split by polars in one go, never through a Python string
    per line; line by line decoding is only for the rare file with a bad byte sequence.
    """
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        pass
    else:
        utf8 = text.encode("utf-8")
        if utf8 and b"\r" not in utf8 and b"\0" not in utf8:
            # polars' CSV reader, with a separator and no quote character that never occur,
            # reads each line as one field, in parallel, a third of the cost of splitting.
            # It would drop a CR before a newline, hence the fallback below for files with
            # CRs (and NULs); an empty line comes back null.
            lines = pl.read_csv(
                utf8,
                has_header=False,
                separator="\0",
                quote_char=None,
                schema={"_raw_line": pl.String},
            )["_raw_line"].fill_null("")
            return lines, [], utf8
        lines = pl.Series("_raw_line", [text], dtype=pl.String).str.split("\n").explode()
        if text == "" or text.endswith("\n"):  # no line after the last newline
            lines = lines.head(-1)
        return lines, [], None
    raw = data.split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    lines, bad = [], []
    for number, chunk in enumerate(raw, start=1):
        try:
            lines.append(chunk.decode(encoding))
        except UnicodeDecodeError as exc:
            lines.append("")
            bad.append(
                (
                    number,
                    chunk.decode(encoding, errors="replace"),
                    f"{exc.reason} at byte {exc.start}",
                )
            )
    return pl.Series("_raw_line", lines, dtype=pl.String), bad, None


def _split_fields(lines: pl.DataFrame, columns: list[str], sep: str) -> pl.DataFrame:
    """``_line_number``, ``_raw_line`` and the fields of lines that have ``len(columns)``
    fields (empty fields are null)."""
    fields = (
        pl.col("_raw_line")
        .str.split_exact(sep, len(columns) - 1)
        .struct.rename_fields(columns)
        .alias("_fields")
    )
    return (
        lines.select(pl.col("_line_number"), pl.col("_raw_line"), fields)
        .unnest("_fields")
        .with_columns(pl.col(columns).replace("", None))
    )


def _read_fields(lines: pl.DataFrame, utf8: bytes, columns: list[str], sep: str) -> pl.DataFrame:
    """As ``_split_fields``, for a file whose every line has ``len(columns)`` fields:
    polars' CSV reader, without quoting, splits them in parallel, in about half the time.
    """
    fields = pl.read_csv(
        utf8,
        has_header=False,
        separator=sep,
        quote_char=None,
        schema={c: pl.String for c in columns},
    )
    if fields.height != lines.height:  # not expected; the general path is always right
        return _split_fields(lines, columns, sep)
    return pl.concat([lines.select("_line_number", "_raw_line"), fields], how="horizontal")


def parse_delimited(
    data: bytes, columns: list[str], *, encoding: str, sep: str = "|"
) -> ParsedFile:
    """Split a headerless delimited file into string columns, rejecting malformed lines."""
    lines, undecodable, utf8 = _decode_lines(data, encoding)
    frame = pl.DataFrame(
        {
            "_line_number": pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True),
            "_raw_line": lines,
        }
    )
    bad_lines = {n for n, _, _ in undecodable}
    # Counting separators and splitting the well-formed lines into exactly their fields
    # costs a third of splitting every line into a list.
    n_fields = pl.col("_raw_line").str.count_matches(sep, literal=True) + 1
    frame = frame.with_columns(n_fields.alias("_n_fields"))
    decoded = ~pl.col("_line_number").is_in(bad_lines)
    wrong = frame.filter((pl.col("_n_fields") != len(columns)) & decoded)
    rejects = [
        pl.DataFrame(
            {
                "line_number": [n for n, _, _ in undecodable],
                "raw_line": [r for _, r, _ in undecodable],
                "rule": ["decodable_" + encoding] * len(undecodable),
                "column_name": [None] * len(undecodable),
                "detail": [f"not valid {encoding}: {why}" for _, _, why in undecodable],
            },
            schema=REJECT_SCHEMA,
        ),
        wrong.select(
            pl.col("_line_number").alias("line_number"),
            pl.col("_raw_line").alias("raw_line"),
            pl.lit("column_count").alias("rule"),
            pl.lit(None, dtype=pl.String).alias("column_name"),
            pl.format("expected {} fields, found {}", pl.lit(len(columns)), "_n_fields").alias(
                "detail"
            ),
        ).cast(REJECT_SCHEMA),
    ]
    good = frame.filter((pl.col("_n_fields") == len(columns)) & decoded)
    whole = utf8 is not None and not utf8.startswith(b"\xef\xbb\xbf")  # a BOM: reader drops it
    if whole and good.height == frame.height and len(sep) == 1:
        good = _read_fields(good, utf8, columns, sep)
    else:
        good = _split_fields(good, columns, sep)
    return ParsedFile(frame=good, rejects=pl.concat(rejects), lines_read=len(lines))
