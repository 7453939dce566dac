"""Landing files: control-file checks and parsing of GBK '|'-delimited unload files."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

import pytest

from puhui.extract.files import (
    ControlFileError,
    ControlRecord,
    count_records,
    parse_delimited,
    read_control,
    verify,
)

COLUMNS = ["household_id", "village_code", "head_name", "cancel_date"]
DAY = dt.date(2018, 3, 15)
NAME = "CBS_HOUSEHOLD_20180315.dat"


def gbk(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode("gbk")


def parse(data: bytes, columns: list[str] = COLUMNS):
    return parse_delimited(data, columns, encoding="gbk")


# --- parse_delimited ---------------------------------------------------------------------


def test_good_lines_become_string_rows_in_file_order() -> None:
    data = gbk("H000000001|330604100201|张三丰|", "H000000002|330604113001|欧阳娜娜|20190102")
    parsed = parse(data)
    assert parsed.lines_read == 2
    assert parsed.rejects.height == 0
    assert parsed.frame.columns == ["_line_number", "_raw_line", *COLUMNS]
    assert parsed.frame["_line_number"].to_list() == [1, 2]
    assert parsed.frame["_raw_line"].to_list() == [
        "H000000001|330604100201|张三丰|",
        "H000000002|330604113001|欧阳娜娜|20190102",
    ]
    assert parsed.frame["head_name"].to_list() == ["张三丰", "欧阳娜娜"]
    assert parsed.frame["village_code"].to_list() == ["330604100201", "330604113001"]
    assert parsed.frame["cancel_date"].to_list() == [None, "20190102"]


def test_empty_fields_become_null_not_empty_strings() -> None:
    parsed = parse(gbk("||张三|", "H1|||"))
    assert parsed.frame.select(COLUMNS).rows() == [
        (None, None, "张三", None),
        ("H1", None, None, None),
    ]
    # whitespace is data, not an empty field
    assert parse(gbk(" |a|b|c")).frame["household_id"].to_list() == [" "]


def test_last_line_without_newline_is_read() -> None:
    parsed = parse("a|b|c|d\ne|f|g|h".encode("gbk"))
    assert parsed.lines_read == 2
    assert parsed.frame["household_id"].to_list() == ["a", "e"]


def test_empty_file() -> None:
    parsed = parse(b"")
    assert parsed.lines_read == 0
    assert parsed.frame.height == 0 and parsed.rejects.height == 0
    assert parsed.frame.columns == ["_line_number", "_raw_line", *COLUMNS]


def test_wrong_column_count_is_rejected_with_line_number_and_raw_line() -> None:
    data = gbk("a|b|c|d", "too|few|fields", "e|f|g|h", "one|two|three|four|five", "i|j|k|l")
    parsed = parse(data)
    assert parsed.frame["_line_number"].to_list() == [1, 3, 5]
    assert parsed.frame["household_id"].to_list() == ["a", "e", "i"]
    rejects = parsed.rejects.sort("line_number")
    assert rejects["line_number"].to_list() == [2, 4]
    assert rejects["raw_line"].to_list() == ["too|few|fields", "one|two|three|four|five"]
    assert rejects["rule"].to_list() == ["column_count", "column_count"]
    assert rejects["column_name"].to_list() == [None, None]
    assert "found 3" in rejects["detail"][0] and "expected 4" in rejects["detail"][0]
    assert "found 5" in rejects["detail"][1]
    assert parsed.lines_read == 5


def test_blank_line_is_a_column_count_reject() -> None:
    parsed = parse(gbk("a|b|c|d", "", "e|f|g|h"))
    assert parsed.frame.height == 2
    assert parsed.rejects.select("line_number", "raw_line", "rule").rows() == [
        (2, "", "column_count")
    ]


def test_undecodable_line_is_rejected_and_the_others_parse() -> None:
    data = gbk("H1|330604100201|张三|") + b"\xff\xfe|x|y|z\n" + gbk("H3|330604100202|李四|20200101")
    parsed = parse(data)
    assert parsed.lines_read == 3
    assert parsed.frame["_line_number"].to_list() == [1, 3]
    assert parsed.frame["head_name"].to_list() == ["张三", "李四"]
    assert parsed.rejects.height == 1
    reject = parsed.rejects.row(0, named=True)
    assert reject["line_number"] == 2
    assert reject["rule"] == "decodable_gbk"
    assert reject["column_name"] is None
    assert reject["raw_line"].endswith("|x|y|z")  # what could be read, for the quarantine
    assert "gbk" in reject["detail"]


def test_truncated_multibyte_character_at_end_of_line_is_rejected() -> None:
    data = gbk("a|b|c|d") + "e|f|g|张".encode("gbk")[:-1] + b"\n" + gbk("i|j|k|l")
    parsed = parse(data)
    assert parsed.frame["_line_number"].to_list() == [1, 3]
    assert parsed.rejects.select("line_number", "rule").rows() == [(2, "decodable_gbk")]


def test_undecodable_line_with_wrong_column_count_is_rejected_once() -> None:
    parsed = parse(gbk("a|b|c|d") + b"\xff\xfe\n")
    assert parsed.rejects.select("line_number", "rule").rows() == [(2, "decodable_gbk")]
    assert parsed.frame.height == 1 and parsed.lines_read == 2


def test_other_separator() -> None:
    parsed = parse_delimited(gbk("a,b", "c"), ["x", "y"], encoding="gbk", sep=",")
    assert parsed.frame.select("x", "y").rows() == [("a", "b")]
    assert parsed.rejects["line_number"].to_list() == [2]


@pytest.mark.parametrize("seed", range(5))
def test_every_line_is_either_a_row_or_a_reject(seed: int) -> None:
    rng = random.Random(seed)
    lines: list[bytes] = []
    expected: dict[int, str | None] = {}  # line number -> reject rule (None: a row)
    for number in range(1, rng.randint(1, 300) + 1):
        kind = rng.random()
        if kind < 0.6:
            fields = [rng.choice(["", "H1", "张三", "330604100201", "欧阳"]) for _ in COLUMNS]
            lines.append("|".join(fields).encode("gbk"))
            expected[number] = None
        elif kind < 0.8:
            n = rng.choice([0, 1, 2, 3, 5, 6])
            lines.append("|".join(["x"] * n).encode("gbk"))
            expected[number] = "column_count"
        else:
            lines.append(rng.choice([b"\xff\xfe", b"a|\x80|b|c", "a|b|c|张".encode("gbk")[:-1]]))
            expected[number] = "decodable_gbk"
    # a final empty line only exists if a newline follows it
    newline_at_end = lines[-1] == b"" or rng.random() < 0.5
    data = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    parsed = parse(data)
    assert parsed.lines_read == len(lines) == count_records(data)
    assert parsed.lines_read == parsed.frame.height + parsed.rejects.height
    rows = set(parsed.frame["_line_number"].to_list())
    assert rows == {n for n, rule in expected.items() if rule is None}
    assert dict(parsed.rejects.select("line_number", "rule").rows()) == {
        n: rule for n, rule in expected.items() if rule is not None
    }


# --- control files -----------------------------------------------------------------------


def write_batch(
    folder: Path,
    data: bytes,
    *,
    count: int | None = None,
    size: int | None = None,
    md5: str | None = None,
    name: str = NAME,
    day: str = "20180315",
) -> Path:
    """A data file and its control file; returns the control file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / NAME).write_bytes(data)
    fields = [
        name,
        day,
        str(count_records(data) if count is None else count),
        str(len(data) if size is None else size),
        hashlib.md5(data).hexdigest() if md5 is None else md5,
        "20180316013000",
    ]
    control = folder / NAME.replace(".dat", ".ok")
    control.write_text("|".join(fields) + "\n", encoding="ascii")
    return control


DATA = gbk("H1|330604100201|张三|", "H2|330604100202|李四|20180315", "H3|330604100203|王五|")


def test_read_control_parses_every_field(tmp_path: Path) -> None:
    control_path = write_batch(tmp_path, DATA)
    control = read_control(control_path)
    assert control == ControlRecord(
        path=control_path,
        file_name=NAME,
        business_date=DAY,
        record_count=3,
        byte_size=len(DATA),
        md5=hashlib.md5(DATA).hexdigest(),
        generated_at=dt.datetime(2018, 3, 16, 1, 30, 0),
    )


def test_verify_returns_the_bytes_when_everything_matches(tmp_path: Path) -> None:
    control_path = write_batch(tmp_path, DATA, md5=hashlib.md5(DATA).hexdigest().upper())
    control = read_control(control_path)
    assert control.md5 == hashlib.md5(DATA).hexdigest()  # upper-case MD5 is accepted
    assert verify(tmp_path / NAME, control, DAY) == DATA


def test_verify_accepts_an_empty_file_with_zero_records(tmp_path: Path) -> None:
    control = read_control(write_batch(tmp_path, b""))
    assert control.record_count == 0 and control.byte_size == 0
    assert verify(tmp_path / NAME, control, DAY) == b""


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"count": 4}, "record count 3 != control 4"),
        ({"count": 2}, "record count 3 != control 2"),
        ({"size": len(DATA) + 1}, f"byte size {len(DATA)} != control {len(DATA) + 1}"),
        ({"md5": hashlib.md5(DATA[:-1]).hexdigest()}, "MD5"),
        ({"name": "CBS_ARCHIVE_20180315.dat"}, "control names file 'CBS_ARCHIVE_20180315.dat'"),
        ({"day": "20180314"}, "control business date 2018-03-14 != 2018-03-15"),
    ],
)
def test_verify_names_the_file_and_the_mismatch(
    tmp_path: Path, overrides: dict, message: str
) -> None:
    control = read_control(write_batch(tmp_path, DATA, **overrides))
    with pytest.raises(ControlFileError) as excinfo:
        verify(tmp_path / NAME, control, DAY)
    text = str(excinfo.value)
    assert str(tmp_path / NAME) in text
    assert message in text


def test_verify_catches_a_changed_byte_with_same_size_and_count(tmp_path: Path) -> None:
    control = read_control(write_batch(tmp_path, DATA))
    tampered = DATA.replace("李四".encode("gbk"), "李五".encode("gbk"))
    assert len(tampered) == len(DATA) and tampered != DATA
    (tmp_path / NAME).write_bytes(tampered)
    with pytest.raises(ControlFileError, match="MD5") as excinfo:
        verify(tmp_path / NAME, control, DAY)
    assert "byte size" not in str(excinfo.value) and "record count" not in str(excinfo.value)


def test_verify_reports_every_mismatch_at_once(tmp_path: Path) -> None:
    control = read_control(write_batch(tmp_path, DATA, count=9, size=1, md5="0" * 32))
    with pytest.raises(ControlFileError) as excinfo:
        verify(tmp_path / NAME, control, DAY)
    text = str(excinfo.value)
    assert "record count" in text and "byte size" in text and "MD5" in text


def test_verify_missing_data_file(tmp_path: Path) -> None:
    control_path = write_batch(tmp_path, DATA)
    control = read_control(control_path)
    (tmp_path / NAME).unlink()
    with pytest.raises(ControlFileError) as excinfo:
        verify(tmp_path / NAME, control, DAY)
    text = str(excinfo.value)
    assert str(tmp_path / NAME) in text
    assert "missing" in text.replace(str(tmp_path), "")  # the path itself says "missing"


def test_read_control_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "CBS_REGION_20180315.ok"
    with pytest.raises(ControlFileError) as excinfo:
        read_control(path)
    text = str(excinfo.value)
    assert str(path) in text
    assert "missing" in text.replace(str(tmp_path), "")  # the path itself says "missing"


@pytest.mark.parametrize(
    "text",
    [
        "",
        f"{NAME}|20180315|3|100|d41d8cd98f00b204e9800998ecf8427e",  # 5 fields
        f"{NAME}|20180315|3|100|d41d8cd98f00b204e9800998ecf8427e|20180316013000|x",  # 7 fields
        f"{NAME}|2018-03-15|3|100|d41d8cd98f00b204e9800998ecf8427e|20180316013000",
        f"{NAME}|20180231|3|100|d41d8cd98f00b204e9800998ecf8427e|20180316013000",
        f"{NAME}|20180315|three|100|d41d8cd98f00b204e9800998ecf8427e|20180316013000",
        f"{NAME}|20180315|3|1.5k|d41d8cd98f00b204e9800998ecf8427e|20180316013000",
        f"{NAME}|20180315|3|100|d41d8cd98f00b204e9800998ecf8427e|20180316253000",
    ],
)
def test_read_control_malformed(tmp_path: Path, text: str) -> None:
    path = tmp_path / "CBS_HOUSEHOLD_20180315.ok"
    path.write_text(text + "\n", encoding="ascii")
    with pytest.raises(ControlFileError) as excinfo:
        read_control(path)
    assert str(path) in str(excinfo.value)


@pytest.mark.parametrize(
    "text",
    [
        f"{NAME}|2018315|3|100|d41d8cd98f00b204e9800998ecf8427e|20180316013000",
        f"{NAME}|20180315|3|100|d41d8cd98f00b204e9800998ecf8427e|2018031601300",
    ],
)
def test_read_control_rejects_short_dates(tmp_path: Path, text: str) -> None:
    path = tmp_path / "CBS_HOUSEHOLD_20180315.ok"
    path.write_text(text + "\n", encoding="ascii")
    with pytest.raises(ControlFileError):
        read_control(path)


def test_count_records() -> None:
    assert count_records(b"") == 0
    assert count_records(b"a\n") == 1
    assert count_records(b"a\nb") == 2
    assert count_records(b"a\nb\n") == 2
    assert count_records(b"\n\n") == 2
