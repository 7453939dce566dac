"""Realistic defects injected into the written source files, each listed in a manifest.

With ``defect_rate`` r > 0, every data file of a business date gets, with probability r,
one defect of a kind drawn at random; row defects edit one line and keep the control file
consistent (the file is "correct" as delivered, its rows are not), file defects break the
delivery itself. Every injected defect is recorded so tests can prove the pipeline caught
it. Kinds:

- row defects: ``bad_id_checksum``, ``impossible_date``, ``negative_amount``,
  ``wrong_column_count``, ``undecodable_bytes``, ``unknown_village_code``;
- file defects: ``missing_control_file``, ``control_count_mismatch``,
  ``duplicate_resend`` (the whole file delivered again, identical bytes, under a
  ``.resend`` name beside the original), ``late_rows`` (rows of the previous business date
  arrive in this date's change file, their update time unchanged).

Partners' CSV files (agency) get ``bad_id_checksum`` or ``negative_amount`` in a detail row,
``header_total_mismatch`` (the batch header's total amount is off by 0.01 from its
details), or ``duplicate_resend`` (an identical copy named ``<name>(1).csv``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from puhui.simulate.core_banking import table_of
from puhui.simulate.world import World

ROW_KINDS = (
    "bad_id_checksum",
    "impossible_date",
    "negative_amount",
    "wrong_column_count",
    "undecodable_bytes",
    "unknown_village_code",
)
FILE_KINDS = ("missing_control_file", "control_count_mismatch", "duplicate_resend", "late_rows")
# partners' CSV files (agency): no control files; batch header totals instead
CSV_KINDS = ("bad_id_checksum", "negative_amount", "header_total_mismatch", "duplicate_resend")
STREAM = 900

_ID = re.compile(r"^[0-9]{17}[0-9X]$")
_DATE = re.compile(r"^(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$")
_AMOUNT = re.compile(r"^[0-9]+\.[0-9]{2}$")
_VILLAGE = re.compile(r"^330604[0-9]{6}$")
UNKNOWN_VILLAGE = "330604999299"
# tables whose rows may arrive a day late (changed-rows and journal tables)
LATE_TABLES = ("HOUSEHOLD", "ARCHIVE")


@dataclass(frozen=True)
class Defect:
    kind: str
    business_date: str
    file: str  # relative to the output folder
    line: int | None  # 1-based line in the delivered file, for row defects
    detail: str


def _control_for(path: Path) -> Path:
    return path.with_suffix(".ok")


def _rewrite_control(path: Path, *, count_delta: int = 0) -> None:
    """Make the control file describe the data file as it is now (count off by delta)."""
    control = _control_for(path)
    fields = control.read_text(encoding="ascii").strip().split("|")
    data = path.read_bytes()
    count = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    fields[2] = str(count + count_delta)
    fields[3] = str(len(data))
    fields[4] = hashlib.md5(data).hexdigest()
    control.write_text("|".join(fields) + "\n", encoding="ascii")


def _edit_line(fields: list[str], kind: str) -> str | None:
    """Apply a row defect to the fields of one line; None when the line has no target."""

    def first(pattern: re.Pattern) -> int | None:
        return next((i for i, f in enumerate(fields) if pattern.match(f)), None)

    if kind == "bad_id_checksum":
        i = first(_ID)
        if i is None:
            return None
        last = fields[i][-1]
        fields[i] = fields[i][:-1] + ("1" if last != "1" else "2")
        return f"ID check digit changed in field {i + 1}"
    if kind == "impossible_date":
        i = first(_DATE)
        if i is None:
            return None
        fields[i] = fields[i][:4] + "0231"
        return f"field {i + 1} set to {fields[i]}"
    if kind == "negative_amount":
        i = first(_AMOUNT)
        if i is None:
            return None
        fields[i] = "-" + fields[i]
        return f"field {i + 1} made negative"
    if kind == "unknown_village_code":
        i = first(_VILLAGE)
        if i is None:
            return None
        fields[i] = UNKNOWN_VILLAGE
        return f"field {i + 1} set to unknown village {UNKNOWN_VILLAGE}"
    if kind == "wrong_column_count":
        fields.append("EXTRA")
        return "one extra field appended"
    raise ValueError(kind)


def _row_defect(path: Path, kind: str, rng: np.random.Generator) -> tuple[int, str] | None:
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        return None
    for _ in range(5):  # a few tries to find a line with a target field
        n = int(rng.integers(len(lines)))
        if kind == "undecodable_bytes":
            lines[n] = lines[n][:3] + b"\xff\xfe" + lines[n][3:]
            detail = "bytes FF FE inserted at byte 3"
        else:
            fields = lines[n].decode("gbk").split("|")
            detail = _edit_line(fields, kind)
            if detail is None:
                continue
            lines[n] = "|".join(fields).encode("gbk")
        path.write_bytes(b"".join(line + b"\n" for line in lines))
        _rewrite_control(path)
        return n + 1, detail
    return None


def _late_rows(path: Path, previous: Path, rng: np.random.Generator) -> tuple[int, str] | None:
    """Move up to 2 rows of the previous day's file into this day's file."""
    if not previous.is_file():
        return None
    prev_lines = [x for x in previous.read_bytes().split(b"\n") if x]
    if not prev_lines:
        return None
    k = min(2, len(prev_lines))
    picked = sorted(rng.choice(len(prev_lines), size=k, replace=False).tolist())
    moving = [prev_lines[i] for i in picked]
    kept = [x for i, x in enumerate(prev_lines) if i not in picked]
    previous.write_bytes(b"".join(x + b"\n" for x in kept))
    _rewrite_control(previous)
    lines = [x for x in path.read_bytes().split(b"\n") if x]
    first_line = len(lines) + 1
    path.write_bytes(b"".join(x + b"\n" for x in lines + moving))
    _rewrite_control(path)
    last_line = first_line + k - 1
    return first_line, f"{k} row(s) of {previous.name} arrive here (lines {first_line}-{last_line})"


def _csv_encoding(data: bytes) -> str:
    return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "gbk"


def _csv_defect(path: Path, kind: str, rng: np.random.Generator) -> tuple[int | None, str] | None:
    """One defect in a partner's CSV file (CRLF lines, comma-separated, no quoting)."""
    if kind == "duplicate_resend":
        copy = path.with_name(path.stem + "(1)" + path.suffix)
        shutil.copyfile(path, copy)
        return None, f"identical copy delivered again as {copy.name}"
    data = path.read_bytes()
    encoding = _csv_encoding(data)
    lines = data.decode(encoding).split("\r\n")
    if kind == "header_total_mismatch":
        # two-block files: header names, header values, detail names, details
        batch_file = path.name.startswith(("AGY_PAYROLL", "AGY_WITHHOLD", "AGY_SUBSIDY"))
        if not batch_file or len(lines) < 4:
            return None
        fields = lines[1].split(",")
        i = next((k for k, f in enumerate(fields) if _AMOUNT.match(f)), None)
        if i is None:
            return None
        fields[i] = f"{float(fields[i]) + 0.01:.2f}"
        lines[1] = ",".join(fields)
        detail = f"header field {i + 1} raised by 0.01 to {fields[i]}"
        line_no = 2
    else:
        candidates = list(range(1, len(lines)))
        rng.shuffle(candidates)
        pattern = _ID if kind == "bad_id_checksum" else _AMOUNT
        for n in candidates:
            fields = lines[n].split(",")
            if any(pattern.match(f) for f in fields):
                detail = _edit_line(fields, kind)
                lines[n] = ",".join(fields)
                line_no = n + 1
                break
        else:
            return None
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return line_no, detail


def inject_day(
    world: World,
    out: Path,
    day: dt.date,
    files: list[Path],
    rate: float,
    initial: bool,
    touched: set[str] | None = None,
) -> list[Defect]:
    """Inject defects into the data files of ``day``; return what was injected.

    ``touched`` holds the files that already carry a defect (updated here): late rows are
    never taken from such a file, so every manifest line number stays right.
    """
    touched = set() if touched is None else touched
    if rate <= 0:
        return []
    rng = world.rng(STREAM, day.toordinal())
    defects = []
    for path in sorted(files):
        if rng.random() >= rate:
            continue
        table = table_of(path.name)
        rel = str(path.relative_to(out))
        if path.suffix == ".csv":
            kind = CSV_KINDS[int(rng.integers(len(CSV_KINDS)))]
            csv_result = _csv_defect(path, kind, rng)
            if csv_result is not None:
                touched.add(rel)
                defects.append(Defect(kind, day.isoformat(), rel, csv_result[0], csv_result[1]))
            continue
        kinds = ROW_KINDS + FILE_KINDS
        if table == "REGION":  # the region table defines the village codes
            kinds = tuple(k for k in kinds if k != "unknown_village_code")
        kind = kinds[int(rng.integers(len(kinds)))]
        result: tuple[int | None, str] | None
        if kind in ROW_KINDS:
            result = _row_defect(path, kind, rng)
        elif kind == "missing_control_file":
            _control_for(path).unlink()
            result = (None, f"{_control_for(path).name} not delivered")
        elif kind == "control_count_mismatch":
            _rewrite_control(path, count_delta=1)
            result = (None, "control record count is one more than the file's")
        elif kind == "duplicate_resend":
            resend = path.with_name(path.name + ".resend")
            shutil.copyfile(path, resend)
            result = (None, f"identical copy delivered again as {resend.name}")
        else:  # late_rows
            result = None
            if not initial and table in LATE_TABLES:
                prev_day = day - dt.timedelta(days=1)
                prev_name = path.name.replace(f"{day:%Y%m%d}", f"{prev_day:%Y%m%d}")
                previous = out / f"{prev_day:%Y%m%d}" / path.parent.name / prev_name
                if str(previous.relative_to(out)) not in touched:
                    result = _late_rows(path, previous, rng)
        if result is not None:
            touched.add(rel)
            defects.append(Defect(kind, day.isoformat(), rel, result[0], result[1]))
    return defects


def as_manifest(defects: list[Defect]) -> list[dict]:
    return [asdict(d) for d in defects]
