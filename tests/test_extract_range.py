"""A range-aware history load (``extract_range``) leaves exactly the warehouse of the
night-by-night load (``extract_day`` date after date): every raw, quarantine and ops row.

One small simulated county with injected row defects (checksums, impossible dates, unknown
village codes, undecodable bytes, broken lines, late rows, re-sends, partner files with
bad rows), loaded both ways into two databases. The range load takes three dates at a
time, so windows meet inside the range and the e-banking watermark crosses windows.
A second range whose control file is missing on one date must stop where the nightly load
stops, leaving what it leaves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil

import pytest

from puhui.config import load_settings

pytestmark = pytest.mark.integration

START, END = dt.date(2015, 12, 31), dt.date(2016, 1, 6)
SCALE, SEED, DEFECT_RATE = 0.003, 11, 0.3
DAYS = [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]
WINDOW_DAYS = 3
DUPLICATE_DAY = DAYS[2]
LATE_TXN_DAY = DAYS[3]

# Wall-clock bookkeeping (when a batch was loaded, how long it took) and the quarantine's
# serial id, which numbers rows in insertion order: date by date one way, table by table
# the other.
VOLATILE = {
    "_loaded_at",
    "started_at",
    "finished_at",
    "duration_seconds",
    "updated",
    "quarantined_at",
    "rejected_row_id",
}
SCHEMAS = ("raw", "quarantine", "ops")
# Stops the whole date in both loads; repaired in the landing of the equality test.
STOPPING = {"missing_control_file", "control_count_mismatch", "header_total_mismatch"}


def _settings(landing, dbname):
    # A tiny county's files hold a handful of rows: one bad row must not hold a batch back.
    return load_settings(
        {
            **os.environ,
            "PUHUI_LANDING_DIR": str(landing),
            "PUHUI_WAREHOUSE_DB": dbname,
            "PUHUI_MAX_REJECT_RATE": "1.0",
        }
    )


def _fresh(settings):
    from puhui import db

    db.drop_database(db.conninfo(settings, ensure=False).with_db("postgres"), settings.warehouse_db)
    db.init_warehouse(settings)
    return settings


def _snapshot(settings) -> dict[str, list[tuple]]:
    from marts_snapshot import schema_snapshot

    return {
        f"{schema}.{table}": rows
        for schema in SCHEMAS
        for table, rows in schema_snapshot(settings, schema, VOLATILE.__contains__).items()
    }


def _write_control(data_path) -> None:
    """The control file the bank should have sent: the data file as it is."""
    from puhui.extract.files import count_records

    data = data_path.read_bytes()
    day = data_path.stem.rsplit("_", 1)[1]
    data_path.with_suffix(".ok").write_text(
        f"{data_path.name}|{day}|{count_records(data)}|{len(data)}|"
        f"{hashlib.md5(data).hexdigest()}|{day}020000\n",
        encoding="ascii",
    )


@pytest.fixture(scope="module")
def simulated(tmp_path_factory, warehouse):
    """The landing as simulated, with its defect manifest."""
    from puhui.simulate import simulate

    path = tmp_path_factory.mktemp("range-landing")
    simulate(START, END, scale=SCALE, seed=SEED, out=path, defect_rate=DEFECT_RATE)
    defects = json.loads((path / "simulation.json").read_text())["defects"]
    return path, defects


@pytest.fixture(scope="module")
def landing(simulated, tmp_path_factory):
    """The simulated landing with every control file repaired: nothing stops a date."""
    source, defects = simulated
    path = tmp_path_factory.mktemp("range-landing-repaired") / "landing"
    shutil.copytree(source, path)
    for defect in defects:
        if defect["kind"] in ("missing_control_file", "control_count_mismatch"):
            _write_control(path / defect["file"])
    assert not [d for d in defects if d["kind"] == "header_total_mismatch"], (
        "a stopped partner file: choose another seed"
    )
    # A manager listed twice in one day's full list (every manager recurs on every date:
    # only this repeat is a duplicate).
    managers = path / f"{DUPLICATE_DAY:%Y%m%d}" / "CBS" / f"CBS_MANAGER_{DUPLICATE_DAY:%Y%m%d}.dat"
    lines = managers.read_bytes().splitlines(keepends=True)
    managers.write_bytes(b"".join(lines) + lines[4])
    _write_control(managers)
    # A transaction dated the day before its journal's date: judged against its own date.
    txns = path / f"{LATE_TXN_DAY:%Y%m%d}" / "CBS" / f"CBS_TXN_{LATE_TXN_DAY:%Y%m%d}.dat"
    lines = txns.read_bytes().splitlines(keepends=True)
    fields = lines[2].split(b"|")
    fields[1] = f"{LATE_TXN_DAY - dt.timedelta(days=1):%Y%m%d}".encode()
    lines[2] = b"|".join(fields)
    txns.write_bytes(b"".join(lines))
    _write_control(txns)
    return path, defects


def test_range_load_equals_day_by_day(landing):
    from puhui.extract.day import extract_day, extract_range

    path, defects = landing
    kinds = {d["kind"] for d in defects}
    # the defects that must reach quarantine identically both ways are there
    assert {"wrong_column_count", "undecodable_bytes", "unknown_village_code"} <= kinds

    by_day = _fresh(_settings(path, "puhui_hr_by_day"))
    for day in DAYS:
        extract_day(day, by_day)
    expected = _snapshot(by_day)

    by_window = _fresh(_settings(path, "puhui_hr_by_window"))
    days = extract_range(START, END, by_window, window_days=WINDOW_DAYS)
    assert [d.business_date for d in days] == DAYS
    assert [d.replayed for d in days] == [False] * len(DAYS)  # no window fell back
    got = _snapshot(by_window)

    assert set(got) == set(expected)
    differing = {name: len(expected[name]) for name in expected if got[name] != expected[name]}
    assert differing == {}

    # What was compared holds what it should: every (table, date) audited, the injected
    # row defects quarantined, e-banking rows read again on the nights after their own
    # (the overlap), and rows changed after the night they were created on.
    facts = _facts(by_window)
    assert facts["audited"] == {("core_banking", 16), ("ebanking", 3), ("agency", 8)}
    assert facts["dates"] == len(DAYS)
    assert {"known_village_code", "column_count", "decodable_gbk"} <= facts["rules"]
    assert facts["out_of_range"] == [
        (
            "txns",
            LATE_TXN_DAY,
            3,
            f"Must be a date from {LATE_TXN_DAY:%Y%m%d} to "
            f"{LATE_TXN_DAY:%Y%m%d}: got '{LATE_TXN_DAY - dt.timedelta(days=1):%Y%m%d}'",
        )
    ]
    assert facts["duplicates"] == [("managers", DUPLICATE_DAY, len(lines_of_managers(path)))]
    assert facts["ebanking_read"] > facts["ebanking_rows"]
    assert facts["changed_later"] > 0


def lines_of_managers(landing) -> list[bytes]:
    day = f"{DUPLICATE_DAY:%Y%m%d}"
    return (landing / day / "CBS" / f"CBS_MANAGER_{day}.dat").read_bytes().splitlines()


def _facts(settings) -> dict:
    from puhui import db

    with db.connect(settings) as conn:
        one = lambda query: conn.execute(query).fetchone()[0]  # noqa: E731
        return {
            "audited": set(
                conn.execute(
                    "select source_system, count(distinct table_name) from ops.load_audit"
                    " group by 1"
                ).fetchall()
            ),
            "dates": one("select count(distinct business_date) from ops.load_audit"),
            "rules": {r[0] for r in conn.execute("select rule from quarantine.rejected_rows")},
            "out_of_range": conn.execute(
                "select table_name, business_date, line_number, detail"
                " from quarantine.rejected_rows where rule = 'date_in_range'"
            ).fetchall(),
            "duplicates": conn.execute(
                "select table_name, business_date, line_number from quarantine.rejected_rows"
                " where rule = 'unique'"
            ).fetchall(),
            "ebanking_read": one(
                "select sum(rows_read) from ops.load_audit where source_system = 'ebanking'"
            ),
            "ebanking_rows": one(
                "select (select count(*) from raw.ebanking__users)"
                " + (select count(*) from raw.ebanking__logins)"
                " + (select count(*) from raw.ebanking__transactions)"
            ),
            "changed_later": one(
                "select count(*) from raw.ebanking__transactions"
                " where _business_date > (created_at at time zone 'Asia/Shanghai')::date"
            ),
        }


def test_range_load_stops_where_the_nightly_load_stops(simulated, landing, tmp_path_factory):
    """A missing control file in the middle of a window: the range load replays the window
    date by date and fails on the same date, leaving the same warehouse."""
    from puhui.extract.day import extract_day, extract_range
    from puhui.extract.files import ControlFileError

    repaired, _ = landing
    path = tmp_path_factory.mktemp("range-landing-stopped") / "landing"
    shutil.copytree(repaired, path)
    stop_day = DAYS[4]  # inside the second window of three dates
    (path / f"{stop_day:%Y%m%d}" / "CBS" / f"CBS_LOAN_{stop_day:%Y%m%d}.ok").unlink()

    by_day = _fresh(_settings(path, "puhui_hr_stop_by_day"))
    with pytest.raises(ControlFileError):
        for day in DAYS:
            extract_day(day, by_day)
    expected = _snapshot(by_day)

    by_window = _fresh(_settings(path, "puhui_hr_stop_by_window"))
    with pytest.raises(ControlFileError):
        extract_range(START, END, by_window, window_days=WINDOW_DAYS)
    got = _snapshot(by_window)

    differing = {name: len(expected[name]) for name in expected if got[name] != expected[name]}
    assert differing == {}
    from puhui import db

    with db.connect(by_window) as conn:
        last = conn.execute(
            "select max(business_date) from ops.load_audit where source_system = 'core_banking'"
        ).fetchone()[0]
    assert last == stop_day - dt.timedelta(days=1)


def test_range_load_twice_changes_nothing_and_accounts_for_every_row(landing):
    """Loading the same range again leaves raw, quarantine and ops as they were; every
    batch's rows read are its rows loaded plus its rows quarantined."""
    from puhui import db
    from puhui.extract.day import extract_range

    path, _ = landing
    settings = _fresh(_settings(path, "puhui_hr_twice"))
    extract_range(START, END, settings, window_days=WINDOW_DAYS)
    once = _snapshot(settings)
    extract_range(START, END, settings, window_days=WINDOW_DAYS)
    twice = _snapshot(settings)
    assert {name for name in once if once[name] != twice[name]} == set()
    with db.connect(settings) as conn:
        unbalanced = conn.execute(
            "select table_name, business_date, rows_read, rows_loaded, rows_quarantined"
            " from ops.load_audit where status = 'loaded'"
            " and rows_read <> rows_loaded + rows_quarantined"
        ).fetchall()
        batches = conn.execute("select count(*) from ops.load_audit").fetchone()[0]
    assert batches >= 27 * len(DAYS) and unbalanced == []
