"""Extract every source system for business dates in one process, without Airflow.

The nightly DAGs call the same functions task by task; this module calls them in the
DAGs' order (core banking: verify the control files, regions, then every other table;
e-banking: users, logins, transactions; agency: discover, then every entity) for the
history loads and test fixtures that must not pay Airflow's start-up cost per task.
A failing step raises, exactly as the task would fail.
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


def extract_range(
    start: dt.date,
    end: dt.date,
    settings: Settings | None = None,
    sources: Iterable[str] = SOURCES,
) -> list[DayResult]:
    """:func:`extract_day` for every date from ``start`` to ``end`` inclusive, in order."""
    sources = tuple(sources)
    days = (end - start).days + 1
    return [extract_day(start + dt.timedelta(days=i), settings, sources) for i in range(days)]
