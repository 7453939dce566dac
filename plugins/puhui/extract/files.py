"""Landing files: control-file verification and parsing of delimited unload files.

A control file (``.ok``) is one line ``file name|business date|record count|byte size|MD5|
generated at``. Nothing of a batch is loaded unless its data file matches its control file.
Parsing never drops a line: each line either becomes a row or a reject with its reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
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


def _decode_lines(data: bytes, encoding: str) -> tuple[pl.Series, list[tuple[int, str, str]]]:
    """The file's lines, and the lines that are not valid ``encoding`` (left empty here).

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
        else:
            lines = pl.Series("_raw_line", [text], dtype=pl.String).str.split("\n").explode()
            if text == "" or text.endswith("\n"):  # no line after the last newline
                lines = lines.head(-1)
        return lines, []
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
    return pl.Series("_raw_line", lines, dtype=pl.String), bad


def parse_delimited(
    data: bytes, columns: list[str], *, encoding: str, sep: str = "|"
) -> ParsedFile:
    """Split a headerless delimited file into string columns, rejecting malformed lines."""
    return parse_delimited_files([data], columns, encoding=encoding, sep=sep)[0]


def parse_delimited_files(
    files: Sequence[bytes], columns: list[str], *, encoding: str, sep: str = "|"
) -> list[ParsedFile]:
    """:func:`parse_delimited` of each file, its splitting done once for all of them.

    History loads parse one small file per table and business date: polars' cost per
    call, not per line, is what counts there.
    """
    decoded = [_decode_lines(data, encoding) for data in files]
    frame = pl.concat(
        [
            pl.DataFrame(
                {
                    "_file": pl.repeat(index, len(lines), dtype=pl.UInt32, eager=True),
                    "_line_number": pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True),
                    "_raw_line": lines,
                }
            )
            for index, (lines, _) in enumerate(decoded)
        ],
        how="vertical",
    )
    undecodable = pl.DataFrame(
        [
            (index, number, raw, why)
            for index, (_, bad) in enumerate(decoded)
            for number, raw, why in bad
        ],
        schema={
            "_file": pl.UInt32,
            "line_number": pl.Int64,
            "raw_line": pl.String,
            "why": pl.String,
        },
        orient="row",
    )
    # Counting separators and splitting the well-formed lines into exactly their fields
    # costs a third of splitting every line into a list.
    n_fields = pl.col("_raw_line").str.count_matches(sep, literal=True) + 1
    frame = frame.with_columns(n_fields.alias("_n_fields"))
    if not undecodable.is_empty():
        frame = frame.join(
            undecodable.select("_file", pl.col("line_number").alias("_line_number")),
            on=["_file", "_line_number"],
            how="anti",
            maintain_order="left",
        )
    wrong = frame.filter(pl.col("_n_fields") != len(columns))
    rejects = pl.concat(
        [
            undecodable.select(
                "_file",
                "line_number",
                "raw_line",
                pl.lit("decodable_" + encoding).alias("rule"),
                pl.lit(None, dtype=pl.String).alias("column_name"),
                pl.format("not valid {}: {}", pl.lit(encoding), "why").alias("detail"),
            ),
            wrong.select(
                "_file",
                pl.col("_line_number").alias("line_number"),
                pl.col("_raw_line").alias("raw_line"),
                pl.lit("column_count").alias("rule"),
                pl.lit(None, dtype=pl.String).alias("column_name"),
                pl.format("expected {} fields, found {}", pl.lit(len(columns)), "_n_fields").alias(
                    "detail"
                ),
            ),
        ]
    ).cast({"_file": pl.UInt32, **REJECT_SCHEMA})
    good = frame.filter(pl.col("_n_fields") == len(columns))
    fields = (
        pl.col("_raw_line")
        .str.split_exact(sep, len(columns) - 1)
        .struct.rename_fields(columns)
        .alias("_fields")
    )
    good = (
        good.select("_file", pl.col("_line_number"), pl.col("_raw_line"), fields)
        .unnest("_fields")
        .with_columns(pl.col(columns).replace("", None))
    )
    if len(files) == 1:
        goods, rejected = {0: good.drop("_file")}, {0: rejects.drop("_file")}
    else:
        goods = {
            key[0]: part
            for key, part in good.partition_by("_file", as_dict=True, include_key=False).items()
        }
        rejected = {
            key[0]: part
            for key, part in rejects.partition_by("_file", as_dict=True, include_key=False).items()
        }
    empty_good, empty_rejects = good.drop("_file").head(0), rejects.drop("_file").head(0)
    return [
        ParsedFile(
            frame=goods.get(index, empty_good),
            rejects=rejected.get(index, empty_rejects),
            lines_read=len(lines),
        )
        for index, (lines, _) in enumerate(decoded)
    ]
