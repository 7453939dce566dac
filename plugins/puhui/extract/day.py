"""Extract every source system for business dates in one process, without Airflow.

The nightly DAGs call the same functions task by task; this module calls them in the
DAGs' order (core banking: verify the control files, regions, then every other table;
e-banking: users, logins, transactions; agency: discover, then every entity) for the
history loads and test fixtures that must not pay Airflow's start-up cost per task.
A failing step raises, exactly as the task would fail.

:func:`extract_range` loads history many dates at a time (:func:`extract_window`) and
leaves the same warehouse as :func:`extract_day` date after date
(tests/test_extract_range.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from puhui.config import Settings, get_settings

log = logging.getLogger(__name__)

SOURCES = ("core_banking", "ebanking", "agency")


@dataclass
class DayResult:
    business_date: dt.date
    batches: list = field(default_factory=list)  # BatchResult of every table loaded
    replayed: bool = False  # extract_range loaded it by extract_day (its window failed)

    @property
    def rows_loaded(self) -> int:
        return sum(getattr(b, "rows_loaded", 0) or 0 for b in self.batches)


def extract_core_banking_day(business_date: dt.date, settings: Settings) -> list:
    from puhui.extract.core_banking import TABLES, extract_table, verify_control_files

    verify_control_files(business_date, settings)
    entities = ["regions", *(name for name in TABLES if name != "regions")]
    return [extract_table(entity, business_date, settings) for entity in entities]


def extract_ebanking_day(business_date: dt.date, settings: Settings) -> list:
    from puhui.extract.ebanking import TABLES, extract_ebanking

    return [extract_ebanking(entity, business_date, settings) for entity in TABLES]


def extract_agency_day(business_date: dt.date, settings: Settings) -> list:
    from puhui.extract.agency import ENTITIES, discover_partner_files, extract_entity

    discover_partner_files(business_date, settings)
    return [extract_entity(entity, business_date, settings) for entity in ENTITIES]


_EXTRACTORS = {
    "core_banking": extract_core_banking_day,
    "ebanking": extract_ebanking_day,
    "agency": extract_agency_day,
}


def extract_day(
    business_date: dt.date,
    settings: Settings | None = None,
    sources: Iterable[str] = SOURCES,
) -> DayResult:
    """Load one business date of the given sources into raw (each batch replaced whole)."""
    settings = settings or get_settings()
    result = DayResult(business_date)
    for source in sources:
        try:
            extractor = _EXTRACTORS[source]
        except KeyError:
            raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}") from None
        result.batches.extend(extractor(business_date, settings))
    log.info("%s: %s rows loaded", business_date, f"{result.rows_loaded:,}")
    return result


WINDOW_DAYS = 31
"""Business dates loaded together by :func:`extract_range`: one pandera pass per table and
one transaction per window. At scale 0.1 a month of changes is a few hundred thousand rows."""


def extract_range(
    start: dt.date,
    end: dt.date,
    settings: Settings | None = None,
    sources: Iterable[str] = SOURCES,
    *,
    window_days: int = WINDOW_DAYS,
) -> list[DayResult]:
    """Load every date from ``start`` to ``end`` inclusive: the warehouse of :func:`extract_day`
    date after date, in a fraction of its time.

    Dates are taken ``window_days`` at a time (:func:`extract_window`). A window that fails
    (a bad control file, a batch over its reject threshold, a stopped partner file, ...)
    is rolled back and replayed date by date with :func:`extract_day`, which then stops
    exactly where, and leaves exactly what, the night-by-night load would.
    """
    from puhui import db

    settings = settings or get_settings()
    sources = tuple(sources)
    if window_days < 1:
        raise ValueError(f"window_days must be at least 1, got {window_days}")
    dates = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    db.init_warehouse(settings)
    results: list[DayResult] = []
    for first in range(0, len(dates), window_days):
        window = dates[first : first + window_days]
        try:
            # autocommit, so that the window's transaction is a real one and every batch's
            # own transaction inside it a savepoint
            with db.connect(settings, autocommit=True) as conn, conn.transaction():
                days = extract_window(conn, window, settings, sources)
        except Exception as exc:  # noqa: BLE001 - replayed below, which raises it again
            log.warning(
                "%s..%s: %s: %s; rolled back, replaying date by date",
                window[0],
                window[-1],
                type(exc).__name__,
                exc,
            )
            for day in window:
                results.append(extract_day(day, settings, sources))
                results[-1].replayed = True
            continue
        results.extend(days)
        log.info(
            "%s..%s: %s rows loaded",
            window[0],
            window[-1],
            f"{sum(d.rows_loaded for d in days):,}",
        )
    return results


def extract_window(
    conn, dates: list[dt.date], settings: Settings, sources: Iterable[str] = SOURCES
) -> list[DayResult]:
    """Load consecutive business dates on ``conn`` (the caller commits), source by source.

    Core banking and e-banking validate each table's dates in one pandera pass; every
    batch is loaded, quarantined and audited as its own (table, business date), so the
    warehouse equals that of :func:`extract_day` per date. Raises on the first failure
    without the day-by-day order's partial loads: roll back (see :func:`extract_range`).
    """
    from puhui.extract.agency import ENTITIES, discover_partner_files, load_entity_dates
    from puhui.extract.core_banking import extract_tables_of_dates
    from puhui.extract.ebanking import TABLES as EBANKING_TABLES
    from puhui.extract.ebanking import extract_ebanking_nights

    days = {day: DayResult(day) for day in dates}
    for source in sources:
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
        if source == "core_banking":
            for day, batches in extract_tables_of_dates(conn, dates, settings).items():
                days[day].batches.extend(batches)
        elif source == "ebanking":
            for entity in EBANKING_TABLES:
                nights = extract_ebanking_nights(conn, entity, dates, settings)
                for day, batch in zip(dates, nights, strict=True):
                    days[day].batches.append(batch)
        else:
            for day in dates:
                discover_partner_files(day, settings)
            for entity in ENTITIES:
                loaded = load_entity_dates(conn, entity, dates, settings)
                for day, batch in zip(dates, loaded, strict=True):
                    days[day].batches.append(batch)
    return list(days.values())
