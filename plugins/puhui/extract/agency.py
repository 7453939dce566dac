"""Agency business and government partners' files (代理业务): discover, reconcile, load.

Partners deliver spreadsheet exports into ``<landing>/<YYYYMMDD>/AGY/`` only on the days
they have something (docs/data-dictionary/agency.md). There are no control files:

- **Delivered** means the file exists and no ``<name>.part`` of it remains (a partner's
  upload in progress). Names that match no known layout are reported by discovery and
  otherwise ignored.
- **Encoding**: a CSV starting with the UTF-8 BOM is UTF-8, any other CSV is GBK; ``.xlsx``
  is read with openpyxl (read-only, cached values). Numeric cells become their shortest
  text form (``311.6``, ``76``) so that CSV and xlsx rows meet the same text contract.
- **Layouts**: header/detail files hold two blocks (CSV: header names, header values,
  detail names, details; xlsx: sheets 批次信息 and 发放明细). Column names are checked
  against the layout; a file with other columns is stopped, not guessed at.
- **Reconciliation**: every header/detail file's details are summed against its header
  totals (count and amount; and the success/failure split where the header has one)
  before anything of it loads. Amounts are summed as absolute values: a detail with a sign
  error is then reported once, as the row defect ``non_negative_amount``, while a lost,
  added, altered or unreadable row (its amount cannot be summed), or a wrong header total,
  stops the file. A header row that fails its model stops the file too. A stopped file loads
  nothing (no row, no quarantine row), is audited in ``ops.load_audit`` with status
  ``failed`` and an error naming the file, the header values and the detail sums, and the
  task fails after the day's other files have loaded, so someone asks the partner for a
  corrected file (a rerun then picks it up).
- **Re-sent duplicates**: the batch number (批次号; for registers and event logs the file
  name without a ``(n)`` copy suffix) is the natural key of a delivery. Of several files
  of one key on one date, identical copies after the first are skipped and audited as
  ``duplicate``; copies that differ are all stopped (which one is right is the partner's
  call). A batch number already loaded on an earlier business date is skipped as
  ``duplicate`` too. So a re-send never double-counts.
- **Rows**: each file's blocks are validated with the pandera models of
  ``schemas/agency.py``; rejected detail rows go to quarantine with the rule; personal
  fields (names, ID numbers, card/account numbers) are replaced by keyed hashes, masked
  forms and safe attributes (birth year, gender, ID region, card BIN).
- **Loads**: all files of one entity on one date form one batch, replaced whole in one
  transaction by ``load_batch``; each row keeps its own ``_source_file`` and
  ``_line_number`` (for xlsx: the sheet row). A date without files loads an empty batch.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from puhui import db
from puhui.config import Settings, get_settings
from puhui.load import pii
from puhui.load.loader import (
    Batch,
    BatchLoad,
    BatchResult,
    load_batch,
    load_batches,
    write_audit,
)

if TYPE_CHECKING:
    from puhui.validate import ValidationResult

log = logging.getLogger(__name__)

SOURCE_SYSTEM = "agency"
SOURCE_DIR = "AGY"
BOM = b"\xef\xbb\xbf"

REJECT_SCHEMA = {
    "source_file": pl.String,
    "line_number": pl.Int64,
    "raw_line": pl.String,
    "rule": pl.String,
    "column_name": pl.String,
    "detail": pl.String,
}


class PartnerFileError(Exception):
    """A partner file cannot be loaded as delivered (totals, layout, header); it is stopped."""


class PartnerFilesStopped(Exception):
    """Some files of the date were stopped; the others were loaded."""


# --- layouts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    """One header total: a count and an amount that the selected details must add up to."""

    count: str  # header field with the number of rows
    amount: str  # header field with their amount
    detail_amount: str  # detail field summed
    status_column: str | None = None  # detail field selecting the rows; None: all rows
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    """One kind of partner file: its name, its blocks and how its totals reconcile."""

    kind: str
    pattern: re.Pattern
    detail_block: str  # block name in schemas.agency.MODELS
    detail_columns: tuple[tuple[str, str], ...]  # (column in the file, field name)
    header_block: str | None = None
    header_columns: tuple[tuple[str, str], ...] = ()
    totals: tuple[Total, ...] = ()
    header_sheet: str | None = None  # xlsx
    detail_sheet: str | None = None  # xlsx

    def key_of(self, path: Path, header: dict[str, str | None] | None) -> str:
        """The delivery's natural key: its batch number, else its name without ``(n)``."""
        if header is not None and header.get("batch_no"):
            return str(header["batch_no"])
        return _COPY_SUFFIX.sub("", path.stem)


_DATE = r"(?P<date>[0-9]{8})"
_COPY = r"(?:\((?P<copy>[0-9]+)\))?"
_COPY_SUFFIX = re.compile(r"\([0-9]+\)$")

_SUBSIDY_HEADER = (
    ("批次号", "batch_no"),
    ("补贴项目代码", "item_code"),
    ("补贴项目名称", "item_name"),
    ("资金年度", "fund_year"),
    ("主管部门", "department"),
    ("拨款文号", "appropriation_doc_no"),
    ("总笔数", "total_count"),
    ("总金额", "total_amount"),
    ("发放日期", "pay_date"),
)
_RESULT_TOTALS = (
    ("成功笔数", "success_count"),
    ("成功金额", "success_amount"),
    ("失败笔数", "failure_count"),
    ("失败金额", "failure_amount"),
)
_SUBSIDY_PERSON = (
    ("序号", "seq_no"),
    ("乡镇(街道)代码", "town_code"),
    ("行政村代码", "village_code"),
    ("补贴对象姓名", "beneficiary_name"),
    ("身份证号码", "beneficiary_id_no"),
    ("卡号(账号)", "account_no"),
    ("开户行", "bank_name"),
)

LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        Layout(
            "subsidy_roster",
            re.compile(rf"^AGY_SUBSIDY_(?P<batch>(NY|MS)[0-9]{{10}})_{_DATE}{_COPY}\.(csv|xlsx)$"),
            "subsidy_detail",
            _SUBSIDY_PERSON
            + (
                ("补贴依据数量", "basis_quantity"),
                ("计量单位", "basis_unit"),
                ("补贴标准", "rate_amount"),
                ("金额", "amount"),
                ("备注", "remark"),
            ),
            header_block="subsidy_header",
            header_columns=_SUBSIDY_HEADER,
            totals=(Total("total_count", "total_amount", "amount"),),
            header_sheet="批次信息",
            detail_sheet="发放明细",
        ),
        Layout(
            "subsidy_return",
            re.compile(rf"^AGY_SUBSIDY_RET_(?P<batch>(NY|MS)[0-9]{{10}})_{_DATE}{_COPY}\.csv$"),
            "subsidy_return_detail",
            _SUBSIDY_PERSON
            + (
                ("金额", "amount"),
                ("处理状态", "status"),
                ("失败原因", "failure_reason"),
                ("入账日期", "credit_date"),
                ("银行流水号", "bank_serial_no"),
            ),
            header_block="subsidy_return_header",
            header_columns=_SUBSIDY_HEADER + _RESULT_TOTALS,
            totals=(
                Total("total_count", "total_amount", "amount"),
                Total("success_count", "success_amount", "amount", "status", ("成功",)),
                Total("failure_count", "failure_amount", "amount", "status", ("失败",)),
            ),
        ),
        Layout(
            "withholding",
            re.compile(
                rf"^AGY_WITHHOLD_(?P<fee>0[1-3])_(?P<period>[0-9]{{6}})_{_DATE}{_COPY}\.csv$"
            ),
            "withholding_detail",
            (
                ("序号", "seq_no"),
                ("缴费号", "payer_no"),
                ("扣款卡号", "card_no"),
                ("户名", "holder_name"),
                ("账期", "bill_period"),
                ("用量", "usage_quantity"),
                ("应扣金额", "due_amount"),
                ("实扣金额", "paid_amount"),
                ("状态", "status"),
                ("失败原因", "failure_reason"),
            ),
            header_block="withholding_header",
            header_columns=(
                ("批次号", "batch_no"),
                ("收费单位", "utility_name"),
                ("费项代码", "fee_code"),
                ("费项名称", "fee_name"),
                ("账期", "bill_period"),
                ("扣款日期", "debit_date"),
                ("总笔数", "total_count"),
                ("应扣总金额", "total_due_amount"),
                *_RESULT_TOTALS,
            ),
            totals=(
                Total("total_count", "total_due_amount", "due_amount"),
                Total("success_count", "success_amount", "paid_amount", "status", ("S",)),
                Total("failure_count", "failure_amount", "due_amount", "status", ("U", "T")),
            ),
        ),
        Layout(
            "payroll",
            re.compile(
                rf"^AGY_PAYROLL_(?P<uscc>[0-9A-Z]{{18}})_(?P<batch>DF[0-9]{{15}})_{_DATE}{_COPY}\.csv$"
            ),
            "payroll_detail",
            (
                ("序号", "seq_no"),
                ("姓名", "employee_name"),
                ("身份证号码", "employee_id_no"),
                ("收款账号", "account_no"),
                ("收款行行别代码", "bank_code"),
                ("收款行名称", "bank_name"),
                ("金额", "amount"),
                ("摘要", "memo"),
                ("处理结果", "result"),
                ("失败原因", "failure_reason"),
            ),
            header_block="payroll_header",
            header_columns=(
                ("批次号", "batch_no"),
                ("代发单位名称", "employer_name"),
                ("统一社会信用代码", "employer_uscc"),
                ("代发类型", "payroll_type"),
                ("所属期间", "pay_period"),
                ("代发日期", "pay_date"),
                ("总笔数", "total_count"),
                ("总金额", "total_amount"),
                *_RESULT_TOTALS,
            ),
            totals=(
                Total("total_count", "total_amount", "amount"),
                Total("success_count", "success_amount", "amount", "result", ("成功",)),
                Total("failure_count", "failure_amount", "amount", "result", ("失败",)),
            ),
        ),
        Layout(
            "low_income",
            re.compile(rf"^AGY_LOWINCOME_(?P<type>FULL|CHANGE)_{_DATE}{_COPY}\.csv$"),
            "low_income",
            (
                ("序号", "seq_no"),
                ("户主身份证号码", "head_id_no"),
                ("户主姓名", "head_name"),
                ("乡镇(街道)代码", "town_code"),
                ("乡镇(街道)名称", "town_name"),
                ("行政村代码", "village_code"),
                ("认定年度", "register_year"),
                ("认定类别", "category"),
                ("家庭人口", "household_size"),
                ("纳入日期", "listed_date"),
                ("退出日期", "removed_date"),
                ("变动类型", "change_type"),
            ),
        ),
        Layout(
            "division",
            re.compile(rf"^AGY_DIVISION_{_DATE}{_COPY}\.xlsx$"),
            "division",
            (
                ("统计用区划代码", "division_code"),
                ("名称", "division_name"),
                ("类型", "division_type"),
                ("城乡分类代码", "urban_rural_code"),
                ("乡镇(街道)代码", "town_code"),
                ("乡镇(街道)名称", "town_name"),
                ("乡镇类型", "town_type"),
                ("户籍户数", "registered_households"),
                ("户籍人口", "registered_population"),
                ("统计日期", "stat_date"),
            ),
            detail_sheet="行政区划及人口",
        ),
        Layout(
            "literacy_events",
            re.compile(rf"^AGY_FINLIT_{_DATE}{_COPY}\.csv$"),
            "literacy_events",
            (
                ("活动编号", "event_id"),
                ("活动日期", "event_date"),
                ("乡镇(街道)代码", "town_code"),
                ("行政村代码", "village_code"),
                ("行政村名称", "village_name"),
                ("活动主题", "topic"),
                ("主办单位", "organiser"),
                ("参加人数", "participants"),
            ),
        ),
    )
}


def layout_of(name: str) -> Layout | None:
    """The layout whose file-name pattern matches ``name`` (returns are tried first)."""
    for kind in ("subsidy_return", *(k for k in LAYOUTS if k != "subsidy_return")):
        if LAYOUTS[kind].pattern.match(name):
            return LAYOUTS[kind]
    return None


# --- discovery ----------------------------------------------------------------------------


def batch_dir(landing: Path, business_date: dt.date) -> Path:
    return landing / f"{business_date:%Y%m%d}" / SOURCE_DIR


def _sort_key(path: Path) -> tuple[str, int, str]:
    """Originals before their ``(n)`` copies, whatever ``(`` sorts as."""
    match = re.search(r"\(([0-9]+)\)$", path.stem)
    return (_COPY_SUFFIX.sub("", path.stem), int(match.group(1)) if match else 0, path.suffix)


@dataclass(frozen=True)
class Discovery:
    """The partner files of a date: delivered files per layout, and the rest."""

    files: dict[str, list[Path]]
    in_progress: list[Path]  # a .part of them remains: not delivered yet
    unrecognised: list[Path]

    def summary(self) -> dict[str, list[str]]:
        out = {kind: [p.name for p in paths] for kind, paths in self.files.items()}
        out["in_progress"] = [p.name for p in self.in_progress]
        out["unrecognised"] = [p.name for p in self.unrecognised]
        return out


def discover(business_date: dt.date, settings: Settings | None = None) -> Discovery:
    """The delivered partner files of ``business_date`` (none at all is a normal day)."""
    settings = settings or get_settings()
    folder = batch_dir(settings.landing_dir, business_date)
    files: dict[str, list[Path]] = {kind: [] for kind in LAYOUTS}
    in_progress, unrecognised = [], []
    paths = (
        sorted((p for p in folder.iterdir() if p.is_file()), key=_sort_key)
        if folder.is_dir()
        else []
    )
    for path in paths:
        if path.name.endswith(".part"):
            target = path.with_name(path.name.removesuffix(".part"))
            if not target.exists():  # a first upload still in progress
                in_progress.append(target)
            continue
        if path.with_name(path.name + ".part").exists():
            in_progress.append(path)
            continue
        layout = layout_of(path.name)
        if layout is None:
            unrecognised.append(path)
        else:
            files[layout.kind].append(path)
    if in_progress or unrecognised:
        log.warning(
            "%s: still arriving %s; not partner files %s",
            folder,
            [p.name for p in in_progress],
            [p.name for p in unrecognised],
        )
    return Discovery(files, in_progress, unrecognised)


class PartnerFilesInProgress(Exception):
    """Some partner files of the date are still being written (a ``.part`` remains)."""


def discover_partner_files(
    business_date: dt.date, settings: Settings | None = None, *, require_complete: bool = True
) -> dict[str, list[str]]:
    """File names per layout (plus ``in_progress`` and ``unrecognised``), for the DAG's XCom.

    With ``require_complete`` (the DAG's setting), a file still being written raises
    ``PartnerFilesInProgress``: the task retries later rather than the loads silently
    leaving a file out of the date.
    """
    summary = discover(business_date, settings).summary()
    log.info("partner files of %s: %s", business_date, summary)
    if require_complete and summary["in_progress"]:
        raise PartnerFilesInProgress(
            f"{business_date}: still being delivered (a .part remains): {summary['in_progress']}"
        )
    return summary


# --- reading ------------------------------------------------------------------------------


@dataclass
class ParsedFile:
    """One partner file as text: its header row, its detail rows and its unreadable lines."""

    path: Path
    layout: Layout
    md5: str
    header: dict[str, str | None] | None
    header_line: int | None
    header_raw: str | None
    details: pl.DataFrame  # _line_number, _raw_line and one String column per field
    rejects: pl.DataFrame  # REJECT_SCHEMA
    lines_read: int  # detail rows read (header rows are structure, not records)
    file_match: dict[str, str] = field(default_factory=dict)  # groups of the name pattern
    # split_valid of the header row and of the details, when done ahead for many files
    header_check: ValidationResult | None = None
    detail_check: ValidationResult | None = None


def _decode(data: bytes, path: Path) -> tuple[list[tuple[int, str | None, bytes]], str]:
    """Lines (number, text or None when undecodable, raw bytes) and the encoding used."""
    if data.startswith(BOM):
        encoding, data = "utf-8", data[len(BOM) :]
    else:
        encoding = "gbk"
    raw_lines = re.split(rb"\r?\n", data)
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            lines.append((number, raw.decode(encoding), raw))
        except UnicodeDecodeError:
            lines.append((number, None, raw))
    return lines, encoding


def _split(text: str) -> list[str]:
    return next(csv.reader([text]))


def _cell(value: object) -> str | None:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def _check_names(path: Path, block: str, found: list[str], expected: tuple[tuple[str, str], ...]):
    names = [name.strip() for name in found]
    wanted = [name for name, _ in expected]
    if names != wanted:
        raise PartnerFileError(
            f"{path.name}: {block} columns {names} differ from the layout {wanted}"
        )


def _rows_frame(
    path: Path,
    layout: Layout,
    rows: list[tuple[int, str, list[str | None] | None, str | None]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Detail rows (number, raw, fields or None, reason) -> frame of good rows, rejects."""
    fields = [name for _, name in layout.detail_columns]
    good = [(n, raw, values) for n, raw, values, reason in rows if reason is None]
    bad = [(n, raw, reason) for n, raw, values, reason in rows if reason is not None]
    columns: dict[str, list] = {
        "_line_number": [n for n, _, _ in good],
        "_raw_line": [raw for _, raw, _ in good],
    }
    for i, name in enumerate(fields):
        columns[name] = [values[i] for _, _, values in good]
    frame = pl.DataFrame(
        columns,
        schema={
            "_line_number": pl.Int64,
            "_raw_line": pl.String,
            **dict.fromkeys(fields, pl.String),
        },
    )
    rejects = pl.DataFrame(
        {
            "source_file": [str(path)] * len(bad),
            "line_number": [n for n, _, _ in bad],
            "raw_line": [raw for _, raw, _ in bad],
            "rule": [reason.split(":", 1)[0] for _, _, reason in bad],
            "column_name": [None] * len(bad),
            "detail": [reason.split(":", 1)[1].strip() for _, _, reason in bad],
        },
        schema=REJECT_SCHEMA,
    )
    return frame, rejects


def _parse_csv(path: Path, data: bytes, layout: Layout) -> ParsedFile:
    lines, encoding = _decode(data, path)
    width = len(layout.detail_columns)
    header = header_line = header_raw = None
    start = 0
    if layout.header_block is not None:
        if len(lines) < 3 or any(text is None for _, text, _ in lines[:3]):
            raise PartnerFileError(
                f"{path.name}: the header block (lines 1-3) is missing or not valid {encoding}"
            )
        _check_names(path, "header", _split(lines[0][1]), layout.header_columns)
        values = _split(lines[1][1])
        if len(values) != len(layout.header_columns):
            raise PartnerFileError(
                f"{path.name}: header values have {len(values)} fields, "
                f"expected {len(layout.header_columns)}"
            )
        header = {
            name: (v if v != "" else None)
            for (_, name), v in zip(layout.header_columns, values, strict=True)
        }
        header_line, header_raw = 2, lines[1][1]
        start = 2
    if len(lines) <= start or lines[start][1] is None:
        raise PartnerFileError(f"{path.name}: detail column names missing on line {start + 1}")
    _check_names(path, "detail", _split(lines[start][1]), layout.detail_columns)
    rows = []
    for number, text, raw in lines[start + 1 :]:
        if text is None:
            shown = raw.decode(encoding, errors="replace")
            rows.append((number, shown, None, f"decodable_{encoding}: not valid {encoding}"))
            continue
        values = _split(text)
        if len(values) != width:
            rows.append(
                (number, text, None, f"column_count: expected {width} fields, found {len(values)}")
            )
            continue
        rows.append((number, text, [v if v != "" else None for v in values], None))
    details, rejects = _rows_frame(path, layout, rows)
    md5 = hashlib.md5(data).hexdigest()
    return ParsedFile(
        path, layout, md5, header, header_line, header_raw, details, rejects, len(rows)
    )


def _parse_xlsx(path: Path, data: bytes, layout: Layout) -> ParsedFile:
    import io

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged or non-xlsx file: stop it, whatever the reason
        raise PartnerFileError(f"{path.name}: not a readable xlsx workbook: {exc}") from exc
    try:

        def sheet_rows(name: str) -> list[list[str | None]]:
            if name not in workbook.sheetnames:
                raise PartnerFileError(
                    f"{path.name}: sheet {name!r} missing (sheets: {workbook.sheetnames})"
                )
            return [[_cell(v) for v in row] for row in workbook[name].iter_rows(values_only=True)]

        header = header_line = header_raw = None
        if layout.header_block is not None:
            head = sheet_rows(layout.header_sheet)
            if len(head) != 2:
                raise PartnerFileError(
                    f"{path.name}: sheet {layout.header_sheet} must hold names and one row, "
                    f"found {len(head)} rows"
                )
            _check_names(path, "header", [c or "" for c in head[0]], layout.header_columns)
            width = len(layout.header_columns)
            if any(v is not None for v in head[1][width:]):
                raise PartnerFileError(
                    f"{path.name}: header values have {len(head[1])} cells, expected {width}"
                )
            values = (head[1] + [None] * width)[:width]
            header = {name: v for (_, name), v in zip(layout.header_columns, values, strict=True)}
            header_line = 2
            header_raw = ",".join(v or "" for v in head[1])
        body = sheet_rows(layout.detail_sheet)
    finally:
        workbook.close()
    if not body:
        raise PartnerFileError(f"{path.name}: sheet {layout.detail_sheet} is empty")
    _check_names(path, "detail", [c or "" for c in body[0]], layout.detail_columns)
    width = len(layout.detail_columns)
    rows = []
    for number, values in enumerate(body[1:], start=2):
        while len(values) > width and values[-1] is None:  # trailing empty cells
            values = values[:-1]
        if all(v is None for v in values):
            continue  # an empty spreadsheet row is not a record
        raw = ",".join(v or "" for v in values)
        if len(values) != width:
            rows.append(
                (number, raw, None, f"column_count: expected {width} fields, found {len(values)}")
            )
            continue
        rows.append((number, raw, values, None))
    details, rejects = _rows_frame(path, layout, rows)
    md5 = hashlib.md5(data).hexdigest()
    return ParsedFile(
        path, layout, md5, header, header_line, header_raw, details, rejects, len(rows)
    )


def parse_file(path: Path, layout: Layout) -> ParsedFile:
    """Read one partner file into text rows; raises PartnerFileError when it is unusable."""
    data = path.read_bytes()
    parsed = (
        _parse_xlsx(path, data, layout)
        if path.suffix == ".xlsx"
        else _parse_csv(path, data, layout)
    )
    match = layout.pattern.match(path.name)
    parsed.file_match = {k: v for k, v in (match.groupdict() if match else {}).items() if v}
    return parsed


# --- reconciliation -----------------------------------------------------------------------

_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _decimal(value: str | None) -> Decimal | None:
    if value is None or not _AMOUNT.match(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def reconcile(parsed: ParsedFile) -> None:
    """Check the details against every header total; raise PartnerFileError on a mismatch.

    Counts are rows read in the detail block (unreadable lines included); amounts are
    Σ|amount| of the details (see the module docstring); a detail amount that is not a
    number cannot be summed, so the file does not reconcile.
    """
    layout, header = parsed.layout, parsed.header
    if header is None or not layout.totals:
        return
    problems = []
    unreadable = parsed.rejects.height
    for total in layout.totals:
        frame = parsed.details
        if total.status_column is not None:
            frame = frame.filter(pl.col(total.status_column).is_in(list(total.statuses)))
        amounts = [_decimal(v) for v in frame[total.detail_amount].to_list()]
        detail_sum = sum((abs(a) for a in amounts if a is not None), Decimal("0"))
        detail_count = frame.height + (unreadable if total.status_column is None else 0)
        header_count, header_amount = header.get(total.count), header.get(total.amount)
        count_ok = (
            header_count is not None
            and header_count.isdigit()
            and int(header_count) == detail_count
        )
        amount = _decimal(header_amount)
        amount_ok = amount is not None and None not in amounts and amount == detail_sum
        if not (count_ok and amount_ok):
            problems.append(
                f"header {total.count}={header_count} {total.amount}={header_amount}, "
                f"details count={detail_count} sum({total.detail_amount})={detail_sum:.2f}"
                + (" (some amounts are not numbers)" if None in amounts else "")
            )
    if problems:
        raise PartnerFileError(
            f"{parsed.path.name}: batch header totals do not match its details: "
            + "; ".join(problems)
        )


# --- validation ---------------------------------------------------------------------------


def _header_frame(parsed: ParsedFile) -> pl.DataFrame:
    return pl.DataFrame([parsed.header], schema=dict.fromkeys(parsed.header, pl.String))


def _detail_fields(parsed: ParsedFile) -> pl.DataFrame:
    return parsed.details.select(name for _, name in parsed.layout.detail_columns)


def check_files(files: list[ParsedFile]) -> None:
    """Validate the headers and the details of many files of one layout, one pandera pass
    each; every file keeps its own results (what ``split_valid`` of it alone gives)."""
    from puhui.validate import split_valid_batches
    from schemas.agency import schema_for

    if not files:
        return
    layout = files[0].layout
    keys = list(range(len(files)))
    with_header = [p for p in files if p.header is not None]
    if with_header and layout.header_block:
        checked = split_valid_batches(
            [_header_frame(p) for p in with_header],
            keys[: len(with_header)],
            schema_for(layout.header_block),
            by="_file",
        )
        for parsed, result in zip(with_header, checked, strict=True):
            parsed.header_check = result
    checked = split_valid_batches(
        [_detail_fields(p) for p in files], keys, schema_for(layout.detail_block), by="_file"
    )
    for parsed, result in zip(files, checked, strict=True):
        parsed.detail_check = result


def _validate_header(parsed: ParsedFile) -> None:
    from puhui.validate import split_valid
    from schemas.agency import schema_for

    checked = parsed.header_check or split_valid(
        _header_frame(parsed), schema_for(parsed.layout.header_block)
    )
    if not checked.rejects.is_empty():
        reasons = ", ".join(
            f"{rule} on {column}: {detail}"
            for rule, column, detail in checked.rejects.select(
                "rule", "column_name", "detail"
            ).iter_rows()
        )
        raise PartnerFileError(f"{parsed.path.name}: batch header (line 2) fails {reasons}")


def _validate_details(parsed: ParsedFile) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Good detail rows (with _line_number) and all rejects of the file."""
    from puhui.validate import split_valid
    from schemas.agency import schema_for

    checked = parsed.detail_check or split_valid(
        _detail_fields(parsed), schema_for(parsed.layout.detail_block)
    )
    positions = parsed.details.select("_line_number", "_raw_line").with_row_index("row_index")
    validation_rejects = checked.rejects.join(
        positions.with_columns(pl.col("row_index").cast(checked.rejects["row_index"].dtype)),
        on="row_index",
        how="left",
    ).select(
        pl.lit(str(parsed.path)).alias("source_file"),
        pl.col("_line_number").alias("line_number"),
        pl.col("_raw_line").alias("raw_line"),
        "rule",
        "column_name",
        "detail",
    )
    bad_rows = checked.rejects["row_index"].unique().to_list()
    good = parsed.details.with_row_index("row_index").filter(~pl.col("row_index").is_in(bad_rows))
    rejects = pl.concat([parsed.rejects, validation_rejects.cast(REJECT_SCHEMA)])
    return good.drop("row_index", "_raw_line"), rejects


# --- transforms (text -> typed, personal data replaced) ----------------------------------


def _date(col: str) -> pl.Expr:
    return pl.col(col).str.to_date("%Y-%m-%d", strict=False)


def _money(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Decimal(18, 2))


def _int(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Int32)


def _subsidy_batches(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "batch_no",
        "item_code",
        "item_name",
        "fund_year",
        "department",
        "appropriation_doc_no",
        _int("total_count"),
        _money("total_amount"),
        _date("pay_date"),
    )


def _subsidy_details(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "batch_no",
        "item_code",
        _int("seq_no"),
        "town_code",
        "village_code",
        *pii.name_columns(df, "beneficiary_name", key),
        *pii.resident_id_columns(df, "beneficiary_id_no", key, prefix="beneficiary_"),
        *pii.card_columns(df, "account_no", key, prefix="account"),
        "bank_name",
        pl.col("basis_quantity").cast(pl.Decimal(18, 4)),
        "basis_unit",
        _money("rate_amount"),
        _money("amount"),
        "remark",
    )


def _subsidy_returns(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "batch_no",
        "item_code",
        "fund_year",
        _date("pay_date"),
        _int("seq_no"),
        "town_code",
        "village_code",
        *pii.name_columns(df, "beneficiary_name", key),
        *pii.resident_id_columns(df, "beneficiary_id_no", key, prefix="beneficiary_"),
        *pii.card_columns(df, "account_no", key, prefix="account"),
        "bank_name",
        _money("amount"),
        "status",
        "failure_reason",
        _date("credit_date"),
        "bank_serial_no",
    )


def _withholding(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "batch_no",
        "utility_name",
        "fee_code",
        "fee_name",
        _date("debit_date"),
        _int("seq_no"),
        "payer_no",
        *pii.card_columns(df, "card_no", key, prefix="card"),
        *pii.name_columns(df, "holder_name", key),
        "bill_period",
        pl.col("usage_quantity").cast(pl.Int64),
        _money("due_amount"),
        _money("paid_amount"),
        "status",
        "failure_reason",
    )


def _payroll(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "batch_no",
        "employer_name",
        "employer_uscc",
        "payroll_type",
        "pay_period",
        _date("pay_date"),
        _int("seq_no"),
        *pii.name_columns(df, "employee_name", key),
        *pii.resident_id_columns(df, "employee_id_no", key, prefix="employee_"),
        *pii.card_columns(df, "account_no", key, prefix="account"),
        "bank_code",
        "bank_name",
        _money("amount"),
        "memo",
        "result",
        "failure_reason",
    )


def _low_income(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "file_type",
        _int("seq_no"),
        *pii.resident_id_columns(df, "head_id_no", key, prefix="head_"),
        *pii.name_columns(df, "head_name", key),
        "town_code",
        "town_name",
        "village_code",
        "register_year",
        "category",
        pl.col("household_size").cast(pl.Int16),
        _date("listed_date"),
        _date("removed_date"),
        "change_type",
    )


def _division(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "division_code",
        "division_name",
        "division_type",
        "urban_rural_code",
        "town_code",
        "town_name",
        "town_type",
        _int("registered_households"),
        _int("registered_population"),
        _date("stat_date"),
    )


def _literacy_events(df: pl.DataFrame, key: bytes) -> pl.DataFrame:
    return df.select(
        "event_id",
        _date("event_date"),
        "town_code",
        "village_code",
        "village_name",
        "topic",
        "organiser",
        _int("participants"),
    )


@dataclass(frozen=True)
class EntitySpec:
    """One raw table: the layout it comes from, which block, and its transform."""

    entity: str
    layout: str
    block: str  # "header": one row per file from the batch header; "detail": the rows
    header_fields: tuple[str, ...]  # header fields copied onto every detail row
    transform: Callable[[pl.DataFrame, bytes], pl.DataFrame]

    @property
    def raw_table(self) -> str:
        return f"raw.{SOURCE_SYSTEM}__{self.entity}"

    @property
    def has_batch_no(self) -> bool:
        return LAYOUTS[self.layout].header_block is not None


ENTITIES: dict[str, EntitySpec] = {
    spec.entity: spec
    for spec in (
        EntitySpec("subsidy_batches", "subsidy_roster", "header", (), _subsidy_batches),
        EntitySpec(
            "subsidy_details",
            "subsidy_roster",
            "detail",
            ("batch_no", "item_code"),
            _subsidy_details,
        ),
        EntitySpec(
            "subsidy_returns",
            "subsidy_return",
            "detail",
            ("batch_no", "item_code", "fund_year", "pay_date"),
            _subsidy_returns,
        ),
        EntitySpec(
            "withholding",
            "withholding",
            "detail",
            ("batch_no", "utility_name", "fee_code", "fee_name", "debit_date"),
            _withholding,
        ),
        EntitySpec(
            "payroll",
            "payroll",
            "detail",
            (
                "batch_no",
                "employer_name",
                "employer_uscc",
                "payroll_type",
                "pay_period",
                "pay_date",
            ),
            _payroll,
        ),
        EntitySpec("low_income_register", "low_income", "detail", (), _low_income),
        EntitySpec("division_register", "division", "detail", (), _division),
        EntitySpec("literacy_events", "literacy_events", "detail", (), _literacy_events),
    )
}


# --- selecting the files of a batch -------------------------------------------------------


@dataclass
class FileOutcome:
    path: Path
    md5: str
    status: str  # loaded, duplicate, failed
    error: str | None = None
    rows_read: int = 0


_LOADED_BEFORE_SQL = (
    "select min(_business_date) filter (where _business_date < %s) from {table} where batch_no = %s"
)


def _already_loaded(
    conn, spec: EntitySpec, batch_no: str, business_date: dt.date
) -> dt.date | None:
    # The date condition is a FILTER, not a WHERE: with `min(_business_date) ... where
    # _business_date < d` PostgreSQL walks the business-date index from the oldest date,
    # looking for the batch number, which a new batch (most of them) never matches, so
    # every lookup read the whole table: 0.2 s per payroll file at five years of scale
    # 0.1, growing every night. The batch number's index finds the few rows at once.
    row = conn.execute(
        _LOADED_BEFORE_SQL.format(table=spec.raw_table), (business_date, batch_no)
    ).fetchone()
    return row[0] if row else None


def _select(
    conn,
    spec: EntitySpec,
    paths: list[Path],
    business_date: dt.date,
    parsed_files: Mapping[Path, ParsedFile],
    loaded_before: Callable[[str], dt.date | None] | None = None,
) -> tuple[list[ParsedFile], list[FileOutcome]]:
    """Check and de-duplicate the files of one layout; the usable ones and the rest.

    ``parsed_files``: the files :func:`_parse_and_check` parsed (one it could not parse is
    parsed again here, for its error). ``loaded_before(batch_no)``: the first earlier
    business date that batch was loaded on (default: asked of raw).
    """
    layout = LAYOUTS[spec.layout]
    usable: dict[str, list[ParsedFile]] = {}
    outcomes: list[FileOutcome] = []
    for path in paths:
        parsed = None
        try:
            parsed = parsed_files.get(path) or parse_file(path, layout)
            if parsed.header is not None:
                _validate_header(parsed)
                reconcile(parsed)
        except PartnerFileError as exc:
            md5 = hashlib.md5(path.read_bytes()).hexdigest()
            read = parsed.lines_read if parsed is not None else 0
            outcomes.append(FileOutcome(path, md5, "failed", str(exc), read))
            continue
        usable.setdefault(layout.key_of(path, parsed.header), []).append(parsed)

    chosen = []
    for key, group in usable.items():
        contents = {p.md5 for p in group}
        if len(contents) > 1:
            for p in group:
                outcomes.append(
                    FileOutcome(
                        p.path,
                        p.md5,
                        "failed",
                        f"{p.path.name}: delivery {key} arrived {len(group)} times with different "
                        f"content ({', '.join(q.path.name for q in group)}); none is loaded until "
                        "the partner confirms the right one",
                    )
                )
            continue
        first, *copies = group
        for p in copies:
            outcomes.append(
                FileOutcome(
                    p.path,
                    p.md5,
                    "duplicate",
                    f"{p.path.name}: identical re-send of {first.path.name}; skipped",
                )
            )
        if spec.has_batch_no:
            earlier = (
                loaded_before(key)
                if loaded_before is not None
                else _already_loaded(conn, spec, key, business_date)
            )
            if earlier is not None:
                outcomes.append(
                    FileOutcome(
                        first.path,
                        first.md5,
                        "duplicate",
                        f"{first.path.name}: batch {key} was already loaded for {earlier}; skipped",
                    )
                )
                continue
        chosen.append(first)
    return sorted(chosen, key=lambda p: _sort_key(p.path)), outcomes


# --- audit of files that did not load -----------------------------------------------------


def _audit_file(
    conn, spec: EntitySpec, business_date: dt.date, outcome: FileOutcome, started: dt.datetime
) -> None:
    digest = hashlib.md5(f"{outcome.path.name}|{outcome.md5}".encode()).hexdigest()[:12]
    batch = Batch(
        SOURCE_SYSTEM,
        spec.entity,
        spec.raw_table,
        business_date,
        str(outcome.path),
        control_md5=outcome.md5,
    )
    with conn.transaction():
        write_audit(
            conn,
            batch,
            batch_id=f"{SOURCE_SYSTEM}.{spec.entity}.{business_date:%Y%m%d}.file.{digest}",
            status=outcome.status,
            started_at=started,
            rows_read=outcome.rows_read,
            rows_loaded=0,
            rows_quarantined=0,
            error=outcome.error,
        )


# --- the extract step ---------------------------------------------------------------------


def _rows_of(spec: EntitySpec, parsed: ParsedFile) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Text rows to transform (with _line_number, _source_file), rejects, rows read."""
    source = pl.lit(str(parsed.path)).alias("_source_file")
    if spec.block == "header":
        header = pl.DataFrame([parsed.header], schema=dict.fromkeys(parsed.header, pl.String))
        rows = header.with_columns(
            pl.lit(parsed.header_line, dtype=pl.Int64).alias("_line_number"), source
        )
        return rows, pl.DataFrame(schema=REJECT_SCHEMA), 1
    good, rejects = _validate_details(parsed)
    extra = {name: parsed.header[name] for name in spec.header_fields}
    if spec.entity == "low_income_register":
        extra["file_type"] = parsed.file_match.get("type")
    good = good.with_columns(
        *(pl.lit(v, dtype=pl.String).alias(k) for k, v in extra.items()), source
    )
    return good, rejects, parsed.lines_read


def extract_entity(
    entity: str, business_date: dt.date, settings: Settings | None = None
) -> BatchResult:
    """Load every delivered file of one entity of ``business_date`` as one batch.

    Files that are stopped (totals, layout, conflicting re-sends) load nothing and are
    audited as ``failed``; identical re-sends are audited as ``duplicate``. The batch of
    the remaining files replaces the date's rows in one transaction (an empty batch when
    there are none). Raises ``PartnerFilesStopped`` after loading if any file was stopped.
    """
    settings = settings or get_settings()
    db.init_warehouse(settings)
    with db.connect(settings, autocommit=True) as conn:
        return load_entity(conn, entity, business_date, settings)


def load_entity(conn, entity: str, business_date: dt.date, settings: Settings) -> BatchResult:
    """:func:`extract_entity` on the caller's connection."""
    spec = ENTITIES[entity]
    paths = discover(business_date, settings).files[spec.layout]
    day = _prepare(conn, spec, business_date, settings, paths, _parse_and_check(spec, paths))
    for outcome in day.outcomes:
        _audit_file(conn, spec, business_date, outcome, day.load.started_at)
        log.warning("%s: %s (%s)", spec.raw_table, outcome.error, outcome.status)
    load = day.load
    result = load_batch(
        conn,
        load.batch,
        rows=load.rows,
        rejects=load.rejects,
        rows_read=load.rows_read,
        max_reject_rate=settings.reject_rate(SOURCE_SYSTEM, entity),
        started_at=load.started_at,
    )
    _raise_if_stopped(spec, business_date, day, result.rows_loaded)
    return result


def load_entity_dates(
    conn, entity: str, dates: list[dt.date], settings: Settings
) -> list[BatchResult]:
    """:func:`load_entity` for consecutive dates, their batches loaded at once (``load_batches``).

    A re-sent batch number is recognised against the earlier dates of the range as well
    as against raw. Raises ``PartnerFilesStopped`` before loading if any file is stopped
    (the history load then loads these dates one by one).
    """
    spec = ENTITIES[entity]
    first_loaded: dict[str, dt.date] = {}  # batch number -> first date in ``dates``

    def loaded_before(day: dt.date) -> Callable[[str], dt.date | None]:
        def lookup(batch_no: str) -> dt.date | None:
            earlier = [
                d
                for d in (
                    _already_loaded(conn, spec, batch_no, dates[0]),
                    first_loaded.get(batch_no),
                )
                if d is not None and d < day
            ]
            return min(earlier) if earlier else None

        return lookup

    paths = {day: discover(day, settings).files[spec.layout] for day in dates}
    parsed = _parse_and_check(spec, [path for day in dates for path in paths[day]])

    days = []
    for business_date in dates:
        day = _prepare(
            conn,
            spec,
            business_date,
            settings,
            paths[business_date],
            parsed,
            loaded_before(business_date),
        )
        _raise_if_stopped(spec, business_date, day, None)
        if spec.has_batch_no and not day.load.rows.is_empty():
            for batch_no in day.load.rows["batch_no"].unique().to_list():
                first_loaded.setdefault(batch_no, business_date)
        for outcome in day.outcomes:
            _audit_file(conn, spec, business_date, outcome, day.load.started_at)
            log.warning("%s: %s (%s)", spec.raw_table, outcome.error, outcome.status)
        days.append(day)
    return load_batches(
        conn,
        [day.load for day in days],
        max_reject_rate=settings.reject_rate(SOURCE_SYSTEM, entity),
    )


def _parse_and_check(spec: EntitySpec, paths: list[Path]) -> dict[Path, ParsedFile]:
    """Every file parsed and validated ahead, in one pandera pass per block (a night of
    payroll at scale 1.0 is some 450 small files: validated one by one, pandera's fixed
    cost per validation made most of the agency extract). A file that cannot be parsed is
    left out, for _select to stop it with its error; when one file breaks the contract of
    its block, every file is validated on its own again, so that one stops with its own
    error and the others load, as they would alone."""
    from puhui.validate import SchemaContractError

    parsed: dict[Path, ParsedFile] = {}
    for path in paths:
        try:
            parsed[path] = parse_file(path, LAYOUTS[spec.layout])
        except PartnerFileError:
            continue
    try:
        check_files(list(parsed.values()))
    except SchemaContractError:
        for one in parsed.values():
            one.header_check = one.detail_check = None
    return parsed


@dataclass
class _EntityDay:
    load: BatchLoad
    outcomes: list[FileOutcome]
    chosen: list[ParsedFile]


def _prepare(
    conn,
    spec: EntitySpec,
    business_date: dt.date,
    settings: Settings,
    paths: list[Path],
    parsed_files: Mapping[Path, ParsedFile],
    loaded_before: Callable[[str], dt.date | None] | None = None,
) -> _EntityDay:
    """The files of one entity and date (``paths``, parsed and validated ahead by
    :func:`_parse_and_check`), checked and chosen: the batch to load, the rest."""
    started = dt.datetime.now(dt.UTC)
    key = settings.pii_key()
    chosen, outcomes = _select(conn, spec, paths, business_date, parsed_files, loaded_before)
    frames, reject_frames, rows_read = [], [], 0
    for parsed in chosen:
        rows, rejects, read = _rows_of(spec, parsed)
        if not rows.is_empty():
            frames.append(
                spec.transform(rows, key).with_columns(
                    rows["_line_number"].cast(pl.Int32), rows["_source_file"]
                )
            )
        reject_frames.append(rejects)
        rows_read += read
    if frames:
        loaded = pl.concat(frames, how="vertical")
    else:  # an empty batch still replaces the date's rows
        loaded = _empty_rows(spec.entity, key)
    rejects = (
        pl.concat(reject_frames, how="vertical")
        if reject_frames
        else pl.DataFrame(schema=REJECT_SCHEMA)
    )
    digest = hashlib.md5("|".join(f"{p.path.name}:{p.md5}" for p in chosen).encode()).hexdigest()
    batch = Batch(
        SOURCE_SYSTEM,
        spec.entity,
        spec.raw_table,
        business_date,
        str(batch_dir(settings.landing_dir, business_date)),
        control_record_count=None,
        control_byte_size=None,
        control_md5=digest,
    )
    return _EntityDay(BatchLoad(batch, loaded, rejects, rows_read, started), outcomes, chosen)


def _raise_if_stopped(
    spec: EntitySpec, business_date: dt.date, day: _EntityDay, rows_loaded: int | None
) -> None:
    stopped = [o for o in day.outcomes if o.status == "failed"]
    if stopped:
        loaded = "" if rows_loaded is None else f"{rows_loaded} rows of "
        raise PartnerFilesStopped(
            f"{spec.raw_table} {business_date}: {len(stopped)} file(s) stopped, nothing of them "
            f"loaded ({loaded}{len(day.chosen)} other file(s) loaded):\n"
            + "\n".join(o.error or o.path.name for o in stopped)
        )


@functools.lru_cache(maxsize=len(ENTITIES))
def _empty_rows(entity: str, key: bytes) -> pl.DataFrame:
    """An empty batch's rows (the transform's columns and dtypes), made once per entity."""
    spec = ENTITIES[entity]
    return spec.transform(_empty_text_frame(spec), key).with_columns(
        pl.lit(None, dtype=pl.Int32).alias("_line_number"),
        pl.lit(None, dtype=pl.String).alias("_source_file"),
    )


def _empty_text_frame(spec: EntitySpec) -> pl.DataFrame:
    layout = LAYOUTS[spec.layout]
    if spec.block == "header":
        names = [name for _, name in layout.header_columns]
    else:
        names = [name for _, name in layout.detail_columns] + list(spec.header_fields)
        if spec.entity == "low_income_register":
            names.append("file_type")
    return pl.DataFrame(schema=dict.fromkeys(dict.fromkeys(names), pl.String))
