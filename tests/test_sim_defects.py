"""Injected defects are listed in the manifest, and each is caught by the extract checks."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from puhui.extract.core_banking import ENCODING, TABLES
from puhui.extract.files import ControlFileError, parse_delimited, read_control, verify
from puhui.simulate import simulate
from puhui.simulate.core_banking import table_of
from puhui.validate import split_valid
from schemas.core_banking import schema_for

START, END = dt.date(2016, 1, 1), dt.date(2016, 1, 20)
EXPECTED_RULES = {
    "bad_id_checksum": {"id_checksum_gb11643"},
    "impossible_date": {"valid_date_yyyymmdd"},
    "negative_amount": {"str_matches"},
    "wrong_column_count": {"column_count"},
    "undecodable_bytes": {"decodable_gbk"},
    "unknown_village_code": {"known_village_code"},
}
BY_FILE_TABLE = {spec.file_table: spec for spec in TABLES.values()}


_file_table = table_of


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("defects")
    simulate(START, END, scale=0.05, seed=5, out=out, defect_rate=0.8)
    manifest = json.loads((out / "simulation.json").read_text(encoding="utf-8"))
    return out, manifest


def _cbs(manifest):
    return [
        d for d in manifest["defects"] if _file_table(d["file"].split("/")[-1]) in BY_FILE_TABLE
    ]


def test_manifest_lists_defects_of_many_kinds(run):
    _, manifest = run
    kinds = {d["kind"] for d in manifest["defects"]}
    assert manifest["defect_rate"] == 0.8
    assert len(kinds) >= 6, kinds


def test_default_rate_injects_nothing(tmp_path):
    simulate(START, START + dt.timedelta(days=2), scale=0.005, seed=5, out=tmp_path)
    assert json.loads((tmp_path / "simulation.json").read_text())["defects"] == []


def _rejected_rules(out, path, business_date: dt.date):
    spec = BY_FILE_TABLE[_file_table(path.name)]
    parsed = parse_delimited(path.read_bytes(), list(spec.columns), encoding=ENCODING)
    village_codes = None
    if spec.needs_village_codes:
        region = out / path.parent.relative_to(out) / path.name.replace(spec.file_table, "REGION")
        regions = parse_delimited(
            region.read_bytes(), list(BY_FILE_TABLE["REGION"].columns), encoding=ENCODING
        )
        village_codes = set(regions.frame["village_code"].to_list())
    schema = schema_for(spec.entity, business_date=business_date, village_codes=village_codes)
    checked = split_valid(parsed.frame.select(spec.columns), schema)
    lines = parsed.frame.with_row_index("row_index").select("row_index", "_line_number")
    rejects = checked.rejects.join(
        lines.with_columns(pl.col("row_index").cast(checked.rejects["row_index"].dtype)),
        on="row_index",
    )
    found: dict[int, set[str]] = {}
    for line, rule in zip(parsed.rejects["line_number"], parsed.rejects["rule"], strict=True):
        found.setdefault(line, set()).add(rule)
    for line, rule in zip(rejects["_line_number"], rejects["rule"], strict=True):
        found.setdefault(line, set()).add(rule)
    return found


def test_every_row_defect_is_rejected_with_its_rule(run):
    out, manifest = run
    row_defects = [d for d in _cbs(manifest) if d["kind"] in EXPECTED_RULES]
    assert row_defects, "the fixture should inject row defects"
    for d in row_defects:
        found = _rejected_rules(out, out / d["file"], dt.date.fromisoformat(d["business_date"]))
        assert d["line"] in found, d
        assert found[d["line"]] & EXPECTED_RULES[d["kind"]], (d, found[d["line"]])


def test_file_defects_stop_verification(run):
    out, manifest = run
    checked = 0
    for d in _cbs(manifest):
        path = out / d["file"]
        day = dt.date.fromisoformat(d["business_date"])
        if d["kind"] == "missing_control_file":
            with pytest.raises(ControlFileError, match="missing"):
                read_control(path.with_suffix(".ok"))
            checked += 1
        elif d["kind"] == "control_count_mismatch":
            with pytest.raises(ControlFileError, match="record count"):
                verify(path, read_control(path.with_suffix(".ok")), day)
            checked += 1
        elif d["kind"] == "duplicate_resend":
            assert path.with_name(path.name + ".resend").read_bytes() == path.read_bytes()
            checked += 1
        elif d["kind"] == "late_rows":
            lines = path.read_bytes().decode(ENCODING).splitlines()[d["line"] - 1 :]
            previous = (day - dt.timedelta(days=1)).strftime("%Y%m%d")
            assert lines and all(
                line.split("|")[-1].startswith(previous) or line.split("|")[-1] < previous
                for line in lines
            )
            checked += 1
    assert checked > 0


def test_rows_defects_keep_the_control_file_consistent(run):
    out, manifest = run
    for d in _cbs(manifest):
        if d["kind"] in EXPECTED_RULES:
            path = out / d["file"]
            verify(
                path,
                read_control(path.with_suffix(".ok")),
                dt.date.fromisoformat(d["business_date"]),
            )


@pytest.fixture(scope="module")
def partner_run(tmp_path_factory):
    """June 2016: payroll, withholding and subsidy pay days, with defects in partner CSVs."""
    out = tmp_path_factory.mktemp("partner_defects")
    simulate(
        dt.date(2016, 6, 5), dt.date(2016, 6, 18), scale=0.01, seed=5, out=out, defect_rate=0.7
    )
    manifest = json.loads((out / "simulation.json").read_text(encoding="utf-8"))
    return out, [d for d in manifest["defects"] if d["file"].endswith(".csv")]


def _csv_lines(path):
    data = path.read_bytes()
    text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "gbk")
    return text.split("\r\n")


def test_partner_csv_defects_are_detectable(partner_run):
    from decimal import Decimal

    from puhui.identifiers import is_valid_id

    out, defects = partner_run
    assert {d["kind"] for d in defects} >= {"bad_id_checksum", "header_total_mismatch"}
    for d in defects:
        path = out / d["file"]
        if d["kind"] == "duplicate_resend":
            assert path.with_name(path.stem + "(1)" + path.suffix).read_bytes() == path.read_bytes()
            continue
        lines = _csv_lines(path)
        fields = lines[d["line"] - 1].split(",")
        if d["kind"] == "bad_id_checksum":
            ids = [f for f in fields if len(f) == 18 and f[:17].isdigit()]
            assert ids and not all(is_valid_id(f) for f in ids), d
        elif d["kind"] == "negative_amount":
            assert any(f.startswith("-") and f[1:].replace(".", "").isdigit() for f in fields), d
        elif d["kind"] == "header_total_mismatch":
            names, values = lines[0].split(","), lines[1].split(",")
            total = Decimal(values[names.index("总金额")])
            detail_names = lines[2].split(",")
            amounts = [Decimal(r.split(",")[detail_names.index("金额")]) for r in lines[3:] if r]
            assert total != sum(amounts), d
