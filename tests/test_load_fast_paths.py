"""The load path's shortcuts give exactly what the plain path gives.

The COPY rendering that escapes only when a value needs it (``loader._render_text``) and
parsing whole well-formed files with polars' CSV reader (``files._read_fields``): each is
compared with the general path on values chosen to break it.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from psycopg import sql

from puhui.extract import files
from puhui.load import loader

# Values that break naive line protocols, CSV and COPY's text format.
AWKWARD = [
    "6228580009002620151",
    "",
    None,
    "张三",
    'a "quoted", value',
    "tab\there",
    "back\\slash",
    "\\N",
    "carriage\rreturn",
    "  padded  ",
    "6228580009002620151",
    "|pipe|",
]


# --- parsing ------------------------------------------------------------------------------


def test_reading_whole_files_equals_splitting_lines() -> None:
    columns = ["a", "b", "c"]
    text = "".join(
        f"{a}|{b}|{c}\n"
        for a, b, c in [
            ("1", "", "x"),
            ('"q"', "张三", ""),
            ("", "", ""),
            (" s ", "a,b", "'"),
            ("#c", "\\N", "tab\tin"),
        ]
    )
    data = text.encode("gbk")
    lines, undecodable, utf8 = files._decode_lines(data, "gbk")
    assert utf8 is not None and not undecodable
    frame = pl.DataFrame(
        {
            "_line_number": pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True),
            "_raw_line": lines,
        }
    )
    read = files._read_fields(frame, utf8, columns, "|")
    split = files._split_fields(frame, columns, "|")
    assert read.equals(split) and read.schema == split.schema
    assert files.parse_delimited(data, columns, encoding="gbk").frame.equals(split)


# --- rendering for COPY -------------------------------------------------------------------


def test_plain_values_need_no_escaping_and_awkward_ones_are_found() -> None:
    plain = pl.DataFrame({"a": ["x", None, "张三"], "n": [1, 2, None]})
    assert loader._only_layout_characters(loader._write_text(plain), plain)
    for bad in ("tab\there", "back\\slash", "\\N", "line\nbreak", "carriage\rreturn"):
        frame = pl.DataFrame({"a": ["x", bad, None], "n": [1, 2, None]})
        assert not loader._only_layout_characters(loader._write_text(frame), frame), bad


def test_awkward_values_round_trip_through_copy(warehouse) -> None:
    from puhui import db
    from puhui.config import get_settings

    frame = pl.DataFrame(
        {
            "k": list(range(len(AWKWARD) + 1)),
            "v": [*AWKWARD, "line\nbreak"],
            "d": [dt.date(2020, 12, 10)] * (len(AWKWARD) + 1),
        }
    )
    with db.connect(get_settings()) as conn, conn.cursor() as cur:
        cur.execute("create temporary table copy_round_trip (k int, v text, d date)")
        loader._copy_frame(cur, sql.Identifier("copy_round_trip"), frame)
        back = cur.execute("select k, v, d from copy_round_trip order by k").fetchall()
    assert back == list(frame.iter_rows())
