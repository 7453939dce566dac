"""The load path's shortcuts give exactly what the plain path gives.

The COPY rendering that escapes only when a value needs it (``loader._render_text``),
compared with the general path on values chosen to break it.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from psycopg import sql

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
