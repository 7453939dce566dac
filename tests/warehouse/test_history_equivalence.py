"""Loading many days at once gives exactly the warehouse of loading them night by night.

History loads (issue #7) extract a range of business dates and build the warehouse once;
the nightly runs extract and build one date at a time; reruns repeat a date; a partner's
batch can arrive days late. All must leave identical marts: this is what the incremental
marts promise (each night rewrites only its rebuild window, macros/incremental_dates.sql).
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from puhui.config import load_settings

pytestmark = pytest.mark.integration

# Through Jan 6: the first low-income register (Jan 5's change file) and a night after it.
START, END = dt.date(2015, 12, 31), dt.date(2016, 1, 6)
# Scale 0.02 with this seed closes accounts of the initial unload on Jan 1 and 2: the
# nightly windows' rule for a closing is exercised (at 0.005 nothing closes).
SCALE, SEED = 0.02, 7
DAYS = [START + dt.timedelta(days=i) for i in range((END - START).days + 1)]

# Wall-clock bookkeeping columns differ between any two builds by design.
VOLATILE = ("loaded_at", "built_at", "dbt_")

# Marts that hold events, not a row per day: none of these may fall in a week.
MAY_BE_EMPTY = {"fct_literacy_events", "fct_agency_disbursements"}

# Every KPI mart and what is built from them hold a row for every loaded business date.
DAILY_MARTS = (
    "fct_kpi_values",
    "fct_inclusion_indicators",
    "fct_village_coverage_daily",
    "fct_loan_balances_daily",
)


def _settings(landing, dbname):
    return load_settings(
        {**os.environ, "PUHUI_LANDING_DIR": str(landing), "PUHUI_WAREHOUSE_DB": dbname}
    )


def _fresh(settings) -> None:
    from puhui import db

    db.drop_database(db.conninfo(settings, ensure=False).with_db("postgres"), settings.warehouse_db)
    db.init_warehouse(settings)


def _marts(settings) -> dict[str, list[tuple]]:
    from marts_snapshot import marts_snapshot

    return marts_snapshot(settings, lambda column: any(v in column for v in VOLATILE))


def _dates_per_mart(settings, names) -> dict[str, set[dt.date]]:
    from puhui import db

    with db.connect(settings) as conn:
        return {
            name: {r[0] for r in conn.execute(f"select distinct business_date from marts.{name}")}
            for name in names
        }


def _built_from(settings, name) -> dict[dt.date, set]:
    """built_from_loaded_at per business date of an incremental mart."""
    from puhui import db

    with db.connect(settings) as conn:
        rows = conn.execute(
            f"select business_date, built_from_loaded_at from marts.{name}"
        ).fetchall()
    out: dict[dt.date, set] = {}
    for day, loaded_at in rows:
        out.setdefault(day, set()).add(loaded_at)
    return out


def _closing_nights(settings) -> list[dt.date]:
    """Business dates whose account batch closes an account an earlier batch reported."""
    from puhui import db

    with db.connect(settings) as conn:
        rows = conn.execute(
            """
            select distinct news.business_date
            from staging.stg_core_banking__accounts as news
            where news.close_date is not null
                and exists (
                    select 1 from staging.stg_core_banking__accounts as known
                    where known.account_hash = news.account_hash
                        and known.business_date < news.business_date
                )
            order by 1
            """
        ).fetchall()
    return [r[0] for r in rows]


def _assert_same(expected, got) -> None:
    assert set(got) == set(expected)
    differing = [name for name in expected if got[name] != expected[name]]
    assert differing == []


@pytest.fixture(scope="module")
def landing(tmp_path_factory, warehouse):
    from puhui.simulate import simulate

    path = tmp_path_factory.mktemp("history-landing")
    simulate(START, END, scale=SCALE, seed=SEED, out=path)
    return path


@pytest.fixture(scope="module")
def at_once(landing):
    """The warehouse of a history load: every date extracted, then one build."""
    from puhui.extract.day import extract_range
    from puhui.warehouse.dbt import run_dbt

    settings = _settings(landing, "puhui_history_range")
    _fresh(settings)
    extract_range(START, END, settings)
    run_dbt(["seed"], settings)
    run_dbt(["run"], settings)
    return settings, _marts(settings)


def test_history_load_fills_every_mart(at_once):
    settings, expected = at_once
    kpi_marts = [name for name in expected if name.startswith("kpi_k")]
    assert len(kpi_marts) == 21
    empty = sorted(name for name, rows in expected.items() if not rows)
    assert set(empty) <= MAY_BE_EMPTY, f"empty marts: {empty}"
    dates = _dates_per_mart(settings, [*kpi_marts, *DAILY_MARTS])
    missing = {name: sorted(set(DAYS) - got) for name, got in dates.items() if set(DAYS) - got}
    assert missing == {}, f"business dates missing from marts: {missing}"


def test_range_load_equals_night_by_night_and_reruns(landing, at_once):
    from puhui.extract.day import extract_day
    from puhui.warehouse.dbt import run_dbt

    _, expected = at_once
    nightly = _settings(landing, "puhui_history_nightly")
    _fresh(nightly)
    run_dbt(["seed"], nightly)
    indicators_after: dict[dt.date, dict] = {}  # fct_inclusion_indicators after each night
    balances_after: dict[dt.date, dict] = {}  # fct_loan_balances_daily after each night
    for day in DAYS:
        extract_day(day, nightly)
        run_dbt(["run"], nightly)
        indicators_after[day] = _built_from(nightly, "fct_inclusion_indicators")
        balances_after[day] = _built_from(nightly, "fct_loan_balances_daily")
    # The nights were incremental: the first date's KPI rows were built from the first
    # night's batches and never rewritten after, the last date's from the last night's.
    built = _built_from(nightly, "kpi_k05_agri_small_micro_balance")
    assert max(built[DAYS[0]]) < min(built[DAYS[-1]])
    # A night that closes a known account rewrites the indicators from the closing's
    # month on, not from the account's opening: December stands on a January closing
    # (on a night without a division register, which moves the window back by itself).
    closings = [
        day
        for day in _closing_nights(nightly)
        if day > DAYS[1] and not list(landing.glob(f"{day:%Y%m%d}/AGY/AGY_DIVISION_*"))
    ]
    assert closings, "no night closing a known account to test the window with"
    for day in closings:
        before = indicators_after[day - dt.timedelta(days=1)]
        assert indicators_after[day][DAYS[0]] == before[DAYS[0]], day
        assert indicators_after[day][day] != before.get(day), day

    # A night without low-income register lines rewrites only its own balances: Jan 5's
    # register, loaded after that night's balances, was news to Jan 5's build, not again
    # to Jan 6's (which rewrote every date when its watermark was Jan 5's balances).
    registers = {day: list(landing.glob(f"{day:%Y%m%d}/AGY/AGY_LOWINCOME_*")) for day in DAYS}
    quiet = [day for day in DAYS[1:] if not registers[day]]
    assert registers[dt.date(2016, 1, 5)] and dt.date(2016, 1, 6) in quiet
    for day in quiet:
        before, after = balances_after[day - dt.timedelta(days=1)], balances_after[day]
        assert sorted(d for d in after if after[d] != before.get(d)) == [day]
    # A rerun of an earlier night (a source fix) after later nights were loaded.
    extract_day(DAYS[1], nightly)
    run_dbt(["run"], nightly)

    _assert_same(expected, _marts(nightly))


def _first_partner_day(landing) -> dt.date:
    for day in DAYS[1:]:
        if (landing / day.strftime("%Y%m%d") / "AGY").is_dir():
            return day
    pytest.skip("no partner files after the first date in this simulated history")


def test_late_batch_for_an_old_date_rebuilds_later_dates(landing, at_once):
    """Partner files of an old date loaded after later nights: the same marts as in order."""
    from puhui.extract.day import SOURCES, extract_day
    from puhui.warehouse.dbt import run_dbt

    _, expected = at_once
    late_day = _first_partner_day(landing)
    late = _settings(landing, "puhui_history_late")
    _fresh(late)
    run_dbt(["seed"], late)
    for day in DAYS:
        sources = [s for s in SOURCES if not (day == late_day and s == "agency")]
        extract_day(day, late, sources)
        run_dbt(["run"], late)
    before = _marts(late)
    extract_day(late_day, late, ["agency"])
    run_dbt(["run"], late)
    after = _marts(late)

    # The late batch changed what the marts say (otherwise this test proves nothing) ...
    assert [name for name in after if after[name] != before[name]] != []
    # ... and the later dates were rebuilt to exactly the warehouse of loading in order.
    _assert_same(expected, after)
