"""Reading the marts back, for the CLI and the demo."""

from __future__ import annotations

import datetime as dt
import unicodedata

from puhui import db
from puhui.config import Settings


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def archiving_rate_report(
    business_date: dt.date | None = None, settings: Settings | None = None
) -> str:
    """K09 by town and for the district on ``business_date`` (default: latest loaded)."""
    with db.connect(settings) as conn:
        if business_date is None:
            business_date = conn.execute(
                "select max(business_date) from marts.kpi_k09_archiving_rate"
            ).fetchone()[0]
        rows = conn.execute(
            """
            select region_level, region_code, region_name, households_in_scope,
                   archived_households, archiving_rate
            from marts.kpi_k09_archiving_rate
            where business_date = %s and region_level in ('district', 'town')
            order by region_level = 'district', region_code
            """,
            (business_date,),
        ).fetchall()
        trend = conn.execute(
            """
            select business_date, archiving_rate from marts.kpi_k09_archiving_rate
            where region_level = 'district' and business_date <= %s
            order by business_date desc limit 7
            """,
            (business_date,),
        ).fetchall()
    if not rows:
        return f"no K09 rows for {business_date}"
    lines = [
        f"K09 information archiving rate (普惠信息建档率) on {business_date}; target >= 90%",
        f"{_pad('code', 11)}{_pad('town', 12)}{'households':>11}{'archived':>10}{'rate':>9}",
    ]
    for level, code, name, households, archived, rate in rows:
        if level == "district":
            lines.append("-" * 53)
        shown = "-" if rate is None else f"{float(rate):.1%}"
        lines.append(f"{_pad(code, 11)}{_pad(name, 12)}{households:>11,}{archived:>10,}{shown:>9}")
    lines.append(
        "district by day: "
        + ", ".join(f"{d:%m-%d} {float(r):.2%}" for d, r in reversed(trend) if r is not None)
    )
    return "\n".join(lines)


def load_summary(settings: Settings | None = None) -> str:
    """Rows read, loaded and quarantined per source and table, from the run audit."""
    with db.connect(settings) as conn:
        rows = conn.execute(
            """
            select source_system, table_name, count(*) as batches,
                   sum(rows_read), sum(rows_loaded), sum(rows_quarantined),
                   count(*) filter (where status not in ('loaded', 'superseded', 'duplicate'))
            from ops.load_audit
            where status <> 'superseded'
            group by 1, 2
            order by 1, 2
            """
        ).fetchall()
    lines = [
        f"{'source.table':<34}{'batches':>8}{'read':>10}{'loaded':>10}{'quarant.':>9}{'failed':>7}"
    ]
    for source, table, batches, read, loaded, quarantined, failed in rows:
        lines.append(
            f"{source + '.' + table:<34}{batches:>8}{read or 0:>10,}{loaded or 0:>10,}"
            f"{quarantined or 0:>9,}{failed:>7}"
        )
    return "\n".join(lines)


def _shown(value, unit: str) -> str:
    from puhui.report import format_value

    return format_value(value, unit)


def scorecard_report(business_date: dt.date | None = None, settings: Settings | None = None) -> str:
    """Every plan target on ``business_date`` (default: latest loaded), from marts.scorecard."""
    with db.connect(settings) as conn:
        if business_date is None:
            latest = conn.execute("select max(as_of_date) from marts.scorecard").fetchone()
            business_date = latest[0]
        rows = conn.execute(
            """
            select kpi_id, measure, kpi_name_zh, unit, actual_value, target_value,
                   share_of_target, status
            from marts.scorecard
            where as_of_date = %s
            order by kpi_id, measure
            """,
            (business_date,),
        ).fetchall()
    if not rows:
        return f"no scorecard rows for {business_date}"
    lines = [
        f"plan scorecard on {business_date} (marts.scorecard)",
        f"{'KPI':<5}{_pad('指标', 26)}{'measure':<22}{'actual':>12}{'target':>12}"
        f"{'of target':>11}  status",
    ]
    for kpi, measure, name, unit, actual, target, share, status in rows:
        of_target = "" if share is None else f"{float(share):.0%}"
        lines.append(
            f"{kpi:<5}{_pad(name[:12], 26)}{measure:<22}{_shown(actual, unit):>12}"
            f"{_shown(target, unit):>12}{of_target:>11}  {status}"
        )
    return "\n".join(lines)
