"""A subsidy return file corrected or withdrawn by loading its delivery date again.

Loading a date again replaces every raw row of it, so a partner who re-sends a day's
files can take back a roster's results or change them. The subsidy models are
incremental (int_subsidy_results replaces the rosters a night touches, and
int_subsidy_village_days and K19 rebuild from a credit date on): the nightly build after
such a reload must leave them exactly as a full rebuild from raw does. The bank credits a
roster before it returns the file, so the credit dates here precede the delivery date:
a credit taken back by the reload is then older than anything the new files say.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil

import pytest

from puhui.config import load_settings

pytestmark = pytest.mark.integration

# Two return files at this seed and scale: 2016-01-10 and 2016-01-18.
START, END = dt.date(2015, 12, 31), dt.date(2016, 1, 18)
SCALE, SEED = 0.005, 11
CREDITED_BEFORE_DELIVERY = 3  # days
CREDIT_DATE = "入账日期"

# Build bookkeeping, and the roster-change log (its rows say which build touched a roster:
# a full build and a night differ there by design).
VOLATILE = ("loaded_at", "built_at", "dbt_")
BOOKKEEPING = {"int_subsidy_roster_changes"}


def _rewrite_credit_dates(path, shift: dt.timedelta) -> None:
    """Move every credit date of a return file (GBK CSV: header block, detail block)."""
    text = path.read_bytes().decode("gbk")
    rows = list(csv.reader(io.StringIO(text)))
    column = None
    for row in rows:
        if CREDIT_DATE in row:
            column = row.index(CREDIT_DATE)
        elif column is not None and row[column]:
            row[column] = (dt.date.fromisoformat(row[column]) + shift).isoformat()
    assert column is not None, f"{path.name}: no {CREDIT_DATE} column"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if "\r\n" in text else "\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("gbk"))


def _snapshot(settings) -> dict[str, list[tuple]]:
    from marts_snapshot import schema_snapshot

    def volatile(column: str) -> bool:
        return any(v in column for v in VOLATILE)

    tables = {}
    for schema in ("intermediate", "marts"):
        for name, rows in schema_snapshot(settings, schema, volatile).items():
            if name not in BOOKKEEPING:
                tables[f"{schema}.{name}"] = rows
    return tables


def _query(settings, sql: str, params=None) -> list[tuple]:
    from puhui import db

    with db.connect(settings) as conn:
        return conn.execute(sql, params).fetchall()


def _delivery(path) -> tuple[dt.date, str]:
    """The delivery date and roster (batch_no) of AGY_SUBSIDY_RET_<batch_no>_<YYYYMMDD>.csv."""
    batch_no, day = path.stem.split("_")[3:5]
    return dt.datetime.strptime(day, "%Y%m%d").date(), batch_no


def _credit_dates(settings, batch_no: str) -> set[dt.date]:
    rows = _query(
        settings,
        "select distinct credit_date from intermediate.int_subsidy_results"
        " where batch_no = %s and is_credited",
        (batch_no,),
    )
    return {d for (d,) in rows}


@pytest.fixture(scope="module")
def world(tmp_path_factory, warehouse):
    from puhui import db
    from puhui.extract.day import extract_range
    from puhui.simulate import simulate
    from puhui.warehouse.dbt import build

    landing = tmp_path_factory.mktemp("subsidy-reload-landing")
    simulate(START, END, scale=SCALE, seed=SEED, out=landing)
    returns = sorted(landing.glob("*/AGY/AGY_SUBSIDY_RET_*.csv"))
    assert len(returns) >= 2, f"return files in the simulated range: {returns}"
    for path in returns:
        _rewrite_credit_dates(path, -dt.timedelta(days=CREDITED_BEFORE_DELIVERY))

    settings = load_settings(
        {
            **os.environ,
            "PUHUI_LANDING_DIR": str(landing),
            "PUHUI_WAREHOUSE_DB": "puhui_subsidy_reload",
        }
    )
    db.drop_database(db.conninfo(settings, ensure=False).with_db("postgres"), settings.warehouse_db)
    db.init_warehouse(settings)
    extract_range(START, END, settings)
    build(settings)
    return settings, landing, returns


def _reload_and_compare(settings, day: dt.date) -> tuple[dict, dict]:
    """Load ``day``'s partner files again and run the nightly build: the tables before and
    after; the latter must equal a full rebuild of everything the return files feed."""
    from puhui.extract.day import extract_day
    from puhui.warehouse.dbt import build

    before = _snapshot(settings)
    extract_day(day, settings, ["agency"])
    build(settings, business_date=day)
    nightly = _snapshot(settings)
    build(settings, select=["stg_agency__subsidy_returns+"], full_refresh=True)
    rebuilt = _snapshot(settings)
    differing = [name for name in rebuilt if nightly.get(name) != rebuilt[name]]
    assert differing == [], f"the nightly build after reloading {day} differs from a full rebuild"
    return before, nightly


def test_withdrawn_return_file(world, tmp_path):
    settings, _, returns = world
    path = returns[0]
    day, batch_no = _delivery(path)
    credited = _credit_dates(settings, batch_no)
    assert credited and max(credited) < day

    shutil.move(path, tmp_path / path.name)  # the partner withdraws the file
    try:
        before, after = _reload_and_compare(settings, day)
    finally:
        shutil.move(tmp_path / path.name, path)

    assert _query(
        settings,
        "select count(*) from intermediate.int_subsidy_results where batch_no = %s",
        (batch_no,),
    ) == [(0,)]
    # The withdrawal took credits back from K19, on dates before the reloaded one.
    k19 = "marts.kpi_k19_subsidies_disbursed"
    assert after[k19] != before[k19]


def test_corrected_return_file(world):
    settings, _, returns = world
    path = returns[1]
    day, batch_no = _delivery(path)
    old_dates = _credit_dates(settings, batch_no)
    assert old_dates and max(old_dates) < day - dt.timedelta(days=1)

    # The corrected file credits the same rows two days later (still before delivery).
    _rewrite_credit_dates(path, dt.timedelta(days=2))
    before, after = _reload_and_compare(settings, day)

    assert _credit_dates(settings, batch_no) == {d + dt.timedelta(days=2) for d in old_dates}
    village_days = "intermediate.int_subsidy_village_days"
    assert after[village_days] != before[village_days]
