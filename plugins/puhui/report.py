"""The morning report: one self-contained HTML file of where every plan target stands.

Built after each successful warehouse build (and by ``puhui report --date D``) from the
marts only, the same tables BI tools read:

- the scorecard of every KPI measure on the date (actual, target, gap, share of target,
  status in colour), from ``marts.scorecard``;
- a chart per KPI measure of its monthly trajectory against the straight line from the
  baseline to the target (inline SVG, drawn here: no script, no network);
- for the KPIs with a town breakdown, the towns on the date, weakest first, from
  ``marts.fct_kpi_values``;
- the night's loads from ``ops.load_audit`` (rows read, loaded, quarantined, failures).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from psycopg.rows import dict_row

from puhui import db
from puhui.config import Settings, get_settings

log = logging.getLogger(__name__)

STATUS_STYLE = {
    "achieved": ("#1a7f37", "达成 achieved"),
    "on_track": ("#0969da", "进度正常 on track"),
    "behind": ("#cf222e", "落后 behind"),
    "reported": ("#6e7781", "报告 reported"),
    "no_data": ("#9a6700", "无数据 no data"),
}

CSS = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.meta { color: #59636e; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #d1d9e0; padding: 4px 8px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { color: #fff; border-radius: 10px; padding: 1px 8px; white-space: nowrap; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { border: 1px solid #d1d9e0; border-radius: 6px; padding: 6px; width: 340px; }
.chart h3 { font-size: 13px; margin: 0 0 4px; }
.towns { display: flex; flex-wrap: wrap; gap: 16px; }
.bar { background: #0969da; height: 10px; display: inline-block; vertical-align: middle; }
.failed { color: #cf222e; font-weight: bold; }
"""


@dataclass
class ScoreRow:
    kpi_id: str
    measure: str
    kpi_name: str
    kpi_name_zh: str
    unit: str
    as_of_date: dt.date
    actual_value: Decimal | None
    target_value: Decimal | None
    gap: Decimal | None
    share_of_target: Decimal | None
    status: str
    direction: str
    baseline_value: Decimal | None
    baseline_value_date: dt.date | None
    target_date: dt.date


def format_value(value: Decimal | float | None, unit: str) -> str:
    """A value in its unit, the way the bank writes it (亿/万 for yuan, % for ratios)."""
    if value is None:
        return "–"
    v = float(value)
    if unit == "ratio":
        return f"{v:.1%}"
    if unit == "CNY":
        if abs(v) >= 1e8:
            return f"{v / 1e8:,.2f}亿"
        if abs(v) >= 1e4:
            return f"{v / 1e4:,.1f}万"
        return f"{v:,.0f}元"
    if v == int(v):
        return f"{int(v):,}"
    return f"{v:,.2f}"


def _esc(text: object) -> str:
    return html.escape("" if text is None else str(text))


def _fetch(conn, sql: str, params=()) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def load_report_data(conn, business_date: dt.date | None, plan_id: str | None) -> dict:
    """Everything the report shows, read from the marts and ops."""
    plan = _fetch(
        conn,
        "select plan_id, plan_name, max(as_of_date) as latest from marts.scorecard"
        " where (%(plan)s::text is null or plan_id = %(plan)s)"
        " group by plan_id, plan_name order by max(as_of_date) desc limit 1",
        {"plan": plan_id},
    )
    if not plan:
        raise LookupError("marts.scorecard is empty: build the warehouse first")
    plan = plan[0]
    day = business_date or plan["latest"]
    as_of = _fetch(
        conn,
        "select max(as_of_date) as d from marts.scorecard where plan_id = %s and as_of_date <= %s",
        (plan["plan_id"], day),
    )[0]["d"]
    if as_of is None:
        raise LookupError(f"no scorecard rows on or before {day} for plan {plan['plan_id']}")
    # The monthly series up to the date, ending with the date itself.
    history = _fetch(
        conn,
        "select kpi_id, measure, as_of_date, actual_value from marts.scorecard"
        " where plan_id = %(plan)s and as_of_date <= %(day)s"
        " and (is_month_figure or as_of_date = %(day)s) order by kpi_id, measure, as_of_date",
        {"plan": plan["plan_id"], "day": as_of},
    )
    scores = _fetch(
        conn,
        """
        select kpi_id, measure, kpi_name, kpi_name_zh, unit, as_of_date, actual_value,
               target_value, gap, share_of_target, status, direction, baseline_value,
               baseline_value_date, target_date
        from marts.scorecard
        where plan_id = %s and as_of_date = %s
        order by kpi_id, measure
        """,
        (plan["plan_id"], as_of),
    )
    towns = _fetch(
        conn,
        """
        select kpi_id, measure, region_code, region_name, value, numerator, denominator
        from marts.fct_kpi_values
        where business_date = %s and region_level = 'town'
        order by kpi_id, measure, value nulls first, region_code
        """,
        (as_of,),
    )
    loads = _fetch(
        conn,
        """
        select source_system, count(*) as batches,
               coalesce(sum(rows_read), 0) as rows_read,
               coalesce(sum(rows_loaded), 0) as rows_loaded,
               coalesce(sum(rows_quarantined), 0) as rows_quarantined,
               count(*) filter (where status = 'failed') as failed
        from ops.load_audit where business_date = %s
        group by source_system order by source_system
        """,
        (as_of,),
    )
    return {
        "plan": plan,
        "as_of": as_of,
        "scores": [ScoreRow(**row) for row in scores],
        "history": history,
        "towns": towns,
        "loads": loads,
    }


def _chart(score: ScoreRow, points: list[tuple[dt.date, Decimal | None]]) -> str:
    """Inline SVG: monthly actuals against the straight line from baseline to target."""
    width, height, pad_l, pad_r, pad_t, pad_b = 320, 150, 52, 10, 10, 22
    points = [(d, float(v)) for d, v in points if v is not None]
    start = score.baseline_value_date or (points[0][0] if points else score.as_of_date)
    end = max(score.target_date, points[-1][0] if points else score.target_date)
    values = [v for _, v in points]
    line = []
    if score.baseline_value is not None and score.target_value is not None:
        line = [
            (start, float(score.baseline_value)),
            (score.target_date, float(score.target_value)),
        ]
        values += [v for _, v in line]
    if not values:
        return '<svg width="320" height="150" role="img"><text x="10" y="70">no data</text></svg>'
    low, high = min(values + [0.0]), max(values)
    if high == low:
        high = low + 1
    span = max((end - start).days, 1)

    def x(d: dt.date) -> float:
        return pad_l + (width - pad_l - pad_r) * (d - start).days / span

    def y(v: float) -> float:
        return pad_t + (height - pad_t - pad_b) * (1 - (v - low) / (high - low))

    parts = [
        f'<svg width="{width}" height="{height}" role="img" '
        f'aria-label="{_esc(score.kpi_id)} {_esc(score.measure)} trajectory">',
        f'<line x1="{pad_l}" y1="{y(low):.1f}" x2="{width - pad_r}" y2="{y(low):.1f}" '
        'stroke="#d1d9e0"/>',
        f'<text x="2" y="{y(high) + 4:.1f}" font-size="10">'
        f"{_esc(format_value(high, score.unit))}</text>",
        f'<text x="2" y="{y(low):.1f}" font-size="10">{_esc(format_value(low, score.unit))}</text>',
        f'<text x="{pad_l}" y="{height - 6}" font-size="10">{start:%Y-%m}</text>',
        f'<text x="{width - pad_r - 40}" y="{height - 6}" font-size="10">{end:%Y-%m}</text>',
    ]
    if line:
        parts.append(
            f'<line class="target-line" x1="{x(line[0][0]):.1f}" y1="{y(line[0][1]):.1f}" '
            f'x2="{x(line[1][0]):.1f}" y2="{y(line[1][1]):.1f}" stroke="#9a6700" '
            'stroke-dasharray="4 3"/>'
        )
    if points:
        path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in points)
        parts.append(
            f'<polyline class="actual" points="{path}" fill="none" stroke="#0969da" '
            'stroke-width="2"/>'
        )
        last_d, last_v = points[-1]
        parts.append(f'<circle cx="{x(last_d):.1f}" cy="{y(last_v):.1f}" r="3" fill="#0969da"/>')
    parts.append("</svg>")
    return "".join(parts)


def render_report(data: dict) -> str:
    plan, as_of, scores = data["plan"], data["as_of"], data["scores"]
    history: dict[tuple[str, str], list] = {}
    for row in data["history"]:
        history.setdefault((row["kpi_id"], row["measure"]), []).append(
            (row["as_of_date"], row["actual_value"])
        )
    counts = {status: sum(s.status == status for s in scores) for status in STATUS_STYLE}
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>普惠金融晨报 puhui morning report {as_of}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>普惠金融提升工程 · 晨报 Morning report, {as_of}</h1>",
        f'<p class="meta">{_esc(plan["plan_name"])} ({_esc(plan["plan_id"])}). Figures as of '
        f"business date {as_of}. "
        + ", ".join(
            f"{counts[s]} {STATUS_STYLE[s][1].split(' ', 1)[1]}" for s in STATUS_STYLE if counts[s]
        )
        + ".</p>",
        "<h2>Scorecard 指标完成情况</h2>",
        '<table id="scorecard"><thead><tr><th>KPI</th><th>指标</th><th>measure</th>'
        "<th>actual</th><th>target</th><th>gap</th><th>% of target</th><th>status</th>"
        "</tr></thead><tbody>",
    ]
    for s in scores:
        colour, label = STATUS_STYLE.get(s.status, ("#6e7781", s.status))
        share = "–" if s.share_of_target is None else f"{float(s.share_of_target):.0%}"
        out.append(
            f'<tr data-kpi="{_esc(s.kpi_id)}" data-status="{_esc(s.status)}">'
            f"<td>{_esc(s.kpi_id)}</td><td>{_esc(s.kpi_name_zh)}<br>"
            f'<span class="meta">{_esc(s.kpi_name)}</span></td><td>{_esc(s.measure)}</td>'
            f'<td class="num">{_esc(format_value(s.actual_value, s.unit))}</td>'
            f'<td class="num">{_esc(format_value(s.target_value, s.unit))}</td>'
            f'<td class="num">{_esc(format_value(s.gap, s.unit))}</td>'
            f'<td class="num">{share}</td>'
            f'<td><span class="status" style="background:{colour}">{_esc(label)}</span></td></tr>'
        )
    out.append("</tbody></table>")

    out.append(
        "<h2>Monthly trajectory 月度走势 (blue: actual, dashed: straight line to target)</h2>"
    )
    out.append('<div class="charts">')
    for s in scores:
        out.append(
            f'<div class="chart" data-kpi="{_esc(s.kpi_id)}"><h3>{_esc(s.kpi_id)} '
            f"{_esc(s.kpi_name_zh)} ({_esc(s.measure)})</h3>"
            f"{_chart(s, history.get((s.kpi_id, s.measure), []))}</div>"
        )
    out.append("</div>")

    towns: dict[tuple[str, str], list[dict]] = {}
    for row in data["towns"]:
        towns.setdefault((row["kpi_id"], row["measure"]), []).append(row)
    units = {(s.kpi_id, s.measure): s for s in scores}
    out.append("<h2>Towns 分乡镇 (weakest first)</h2>")
    out.append('<div class="towns">')
    for key, rows in sorted(towns.items()):
        score = units.get(key)
        if score is None:
            continue
        top = max((float(r["value"]) for r in rows if r["value"] is not None), default=0) or 1
        out.append(
            f'<table class="town-table" data-kpi="{_esc(key[0])}"><caption>{_esc(key[0])} '
            f"{_esc(score.kpi_name_zh)} ({_esc(key[1])})</caption>"
            "<tr><th>town</th><th>value</th><th></th></tr>"
        )
        for r in rows:
            value = None if r["value"] is None else float(r["value"])
            bar = 0 if value is None else max(0, int(80 * value / top))
            out.append(
                f"<tr><td>{_esc(r['region_name'])}</td>"
                f'<td class="num">{_esc(format_value(r["value"], score.unit))}</td>'
                f'<td><span class="bar" style="width:{bar}px"></span></td></tr>'
            )
        out.append("</table>")
    out.append("</div>")

    out.append("<h2>Last night's loads 数据加载</h2>")
    out.append(
        "<table><tr><th>source</th><th>batches</th><th>rows read</th><th>loaded</th>"
        "<th>quarantined</th><th>failed batches</th></tr>"
    )
    for r in data["loads"]:
        failed = f'<span class="failed">{r["failed"]}</span>' if r["failed"] else "0"
        out.append(
            f"<tr><td>{_esc(r['source_system'])}</td><td class='num'>{r['batches']}</td>"
            f"<td class='num'>{r['rows_read']:,}</td><td class='num'>{r['rows_loaded']:,}</td>"
            f"<td class='num'>{r['rows_quarantined']:,}</td><td class='num'>{failed}</td></tr>"
        )
    out.append("</table>")
    out.append('<p class="meta">Generated by puhui from the marts and ops schemas.</p>')
    out.append("</body></html>")
    return "\n".join(out)


def report_path(settings: Settings, business_date: dt.date) -> Path:
    return settings.home / "reports" / f"morning-report-{business_date:%Y%m%d}.html"


def build_report(
    business_date: dt.date | None = None,
    settings: Settings | None = None,
    out: Path | None = None,
    plan_id: str | None = None,
) -> Path:
    """Write the report for ``business_date`` (default: the latest loaded); return its path."""
    settings = settings or get_settings()
    with db.connect(settings) as conn:
        data = load_report_data(conn, business_date, plan_id)
    path = out or report_path(settings, data["as_of"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(data), encoding="utf-8")
    log.info("morning report for %s: %s", data["as_of"], path)
    return path
