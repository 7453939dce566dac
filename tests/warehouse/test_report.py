"""The morning report: built from the marts, rendered in headless Chromium."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from puhui.report import build_report, format_value

pytestmark = pytest.mark.integration

DAY = dt.date(2016, 2, 1)
ALL_KPIS = {f"K{n:02d}" for n in range(1, 22)}


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "Debian's chromium is not installed (apt-get install chromium)"
    if os.environ.get("PUHUI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}; PUHUI_REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(message)


def render(page: Path, tmp_path: Path) -> tuple[str, list[str], Path]:
    """Load ``page`` headless: its DOM after load, its console messages, a screenshot."""
    chromium = _chromium()
    common = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    shot = tmp_path / "report.png"
    snap = subprocess.run(
        [*common, "--window-size=1280,4000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    console = [line for line in (dom.stderr + snap.stderr).splitlines() if ":CONSOLE" in line]
    return dom.stdout, console, shot


def test_console_check_catches_a_broken_page(tmp_path):
    """The console check is real: a page that logs and throws is caught."""
    page = tmp_path / "broken.html"
    page.write_text('<html><body><script>throw new Error("boom")</script></body></html>')
    _, console, _ = render(page, tmp_path)
    assert any("Uncaught Error: boom" in line for line in console)


def test_morning_report_in_chromium(kpi_world, tmp_path):
    page = build_report(DAY, kpi_world.settings, out=tmp_path / "report.html")
    dom, console, shot = render(page, tmp_path)
    assert console == []
    scorecard = dom[dom.index('id="scorecard"') :]
    scorecard = scorecard[: scorecard.index("</table>")]
    assert set(re.findall(r'<tr data-kpi="(K\d\d)"', scorecard)) == ALL_KPIS
    statuses = set(re.findall(r'data-status="(\w+)"', scorecard))
    assert statuses <= {"achieved", "on_track", "behind", "reported", "no_data"}
    assert "reported" in statuses  # K18, K19, K21 have no numeric target
    assert set(re.findall(r'<div class="chart" data-kpi="(K\d\d)"', dom)) == ALL_KPIS
    assert re.search(r'<table class="town-table" data-kpi="K09"', dom)
    assert f"Morning report, {DAY}" in dom
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_shows_the_scorecard_values(kpi_world, tmp_path):
    page = build_report(DAY, kpi_world.settings, out=tmp_path / "report.html")
    text = page.read_text(encoding="utf-8")
    row = kpi_world.query(
        "select actual_value, unit from marts.scorecard where kpi_id = 'K09' and as_of_date = %s",
        (DAY,),
    )[0]
    cell = re.search(r'<tr data-kpi="K09".*?<td class="num">(.*?)</td>', text, re.S).group(1)
    assert cell == format_value(row["actual_value"], row["unit"])


def test_value_formats():
    from decimal import Decimal

    assert format_value(Decimal("0.615267"), "ratio") == "61.5%"
    assert format_value(Decimal("27000000000"), "CNY") == "270.00亿"
    assert format_value(Decimal("35000"), "CNY") == "3.5万"
    assert format_value(Decimal("150000"), "customers") == "150,000"
    assert format_value(None, "CNY") == "–"
