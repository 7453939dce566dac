"""Alerts reach a webhook: once per finally failed task, once per missed deadline, with the
fields a person needs; data-quality failures carry counts and top reasons.

A tiny ``http.server`` in the test is the alert target (Apprise ``json://`` URL), so the
assertions are on the message as delivered.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from puhui import db
from puhui.config import load_settings


class Webhook:
    """Collects the JSON bodies POSTed to it (Apprise's json:// sends title and message)."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, **json.loads(body or b"{}")})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "alerts") -> str:
        return f"json://127.0.0.1:{self.server.server_port}/{path}"

    def wait_for(self, count: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.5)
        return list(self.received)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


def alert_settings(settings, webhook, **extra):
    import os

    return load_settings({**os.environ, "PUHUI_ALERT_URLS": webhook.url(), **extra})


# --- the message, from real quarantine / audit rows ----------------------------------------


def test_send_delivers_to_the_webhook_and_records_history(settings, warehouse, webhook):
    from puhui.alerts import Alert, send

    mine = alert_settings(settings, webhook)
    alert = Alert(
        "task_failed", "[puhui] test title", "line one\nline two", dag_id="d", task_id="t"
    )
    assert send(alert, mine) is True
    (got,) = webhook.wait_for(1, 10)
    assert got["title"] == "[puhui] test title"
    assert "line two" in got["message"]
    with db.connect(mine) as conn:
        row = conn.execute(
            "select kind, dag_id, task_id, delivered, targets from ops.alert_history"
            " where title = %s",
            ("[puhui] test title",),
        ).fetchone()
    assert row == ("task_failed", "d", "t", True, 1)


class FakeTI:
    dag_id = "extract_core_banking"
    task_id = "load_households"
    run_id = "scheduled__2016-01-07T16:00:00+00:00"
    try_number = 3
    max_tries = 2
    map_index = -1
    log_url = "http://airflow.example/dags/extract_core_banking/runs/r/tasks/load_households"


def test_data_quality_failure_names_quarantine_counts_and_top_reasons(settings, warehouse):
    from puhui.alerts import failure_alert

    day = dt.date(2016, 1, 8)
    with db.connect(settings) as conn:
        conn.execute(
            "delete from quarantine.rejected_rows where business_date = %s and source_system"
            " = 'core_banking'",
            (day,),
        )
        conn.execute("delete from ops.load_audit where batch_id = 'alert-test-batch'")
        rows = [("id_check_digit", "id_number")] * 7 + [("unknown_village", "village_code")] * 3
        for rule, column in rows:
            conn.execute(
                "insert into quarantine.rejected_rows (batch_id, source_system, table_name,"
                " business_date, source_file, line_number, raw_line, rule, column_name, detail)"
                " values ('alert-test-batch', 'core_banking', 'households', %s, 'f.dat', 1,"
                " 'SECRET|RAW|LINE', %s, %s, '330622199001011234')",
                (day, rule, column),
            )
        conn.execute(
            "insert into ops.load_audit (batch_id, source_system, table_name, business_date,"
            " source_file, rows_read, rows_loaded, rows_quarantined, started_at, status, error)"
            " values ('alert-test-batch', 'core_banking', 'households', %s, 'f.dat', 100, 0, 10,"
            " now(), 'rejected', 'quarantined 10.0%% of rows > 5.0%%')",
            (day,),
        )
        conn.commit()
    context = {
        "ti": FakeTI(),
        "logical_date": dt.datetime(2016, 1, 7, 16, tzinfo=dt.UTC),
        "exception": RuntimeError("households: 10 of 100 rows rejected, above 5%"),
    }
    alert = failure_alert(context, settings)
    assert alert.title.startswith("[puhui] FAILED extract_core_banking.load_households")
    assert "2016-01-08" in alert.title and "try 3/3" in alert.title
    body = alert.body
    for needle in (
        "DAG: extract_core_banking",
        "Task: load_households",
        "Business date: 2016-01-08",
        "Try: 3 of 3",
        "Log: http://airflow.example/",
        "attempt=3.log",
        "households: rejected, 100 read, 10 quarantined",
        "Quarantined rows (quarantine.rejected_rows) of core_banking on 2016-01-08: 10",
        "households.id_number: id_check_digit x 7",
        "households.village_code: unknown_village x 3",
    ):
        assert needle in body, f"{needle!r} not in:\n{body}"
    # no personal data: neither the raw line nor the rejected value
    assert "SECRET" not in body and "330622199001011234" not in body


def test_dbt_failure_names_the_failing_tests(settings):
    from puhui.alerts import failure_alert
    from puhui.warehouse.dbt import DbtError, NodeResult

    failures = [
        NodeResult("test.puhui.unique_kpi_k09_archiving_rate_region_code.abc", "fail", 4),
        NodeResult("model.puhui.kpi_k09_archiving_rate", "error", None, message="relation x"),
    ]
    ti = FakeTI()
    ti.dag_id, ti.task_id = "build_warehouse", "build_models"

    class Run:
        partition_key = "2016-01-08"

    context = {"ti": ti, "dag_run": Run(), "exception": DbtError("dbt build failed", failures)}
    body = failure_alert(context, settings).body
    assert "Business date: 2016-01-08" in body
    assert "Failing dbt nodes (2):" in body
    assert "test unique_kpi_k09_archiving_rate_region_code.abc: fail (4 rows)" in body
    assert "model kpi_k09_archiving_rate: error: relation x" in body


# --- a real DAG run: one alert, after the last retry --------------------------------------


@pytest.mark.integration
def test_forced_task_failure_alerts_once_after_the_last_retry(
    settings, warehouse, webhook, tmp_path
):
    """extract_agency for a date whose partner file is still being written (a ``.part``
    remains): discover_partner_files fails on each of its 3 tries; one alert, try 3/3."""
    from puhui.airflow_env import ensure_metadata_db, run_airflow

    day = dt.date(2016, 2, 3)
    agy = tmp_path / f"{day:%Y%m%d}" / "AGY"
    agy.mkdir(parents=True)
    (agy / "PAYROLL_330604_20160203.csv.part").write_bytes(b"partial")
    ensure_metadata_db(settings)
    proc = run_airflow(
        ["dags", "test", "extract_agency", f"{day.isoformat()}T00:00:00+08:00"],
        settings,
        check=False,
        capture=True,
        extra_env={
            "PUHUI_ALERT_URLS": webhook.url(),
            "PUHUI_TASK_RETRIES": "2",
            "PUHUI_RETRY_DELAY_SECONDS": "1",
            "PUHUI_LANDING_DIR": str(tmp_path),
        },
    )
    assert proc.returncode != 0, "the run must fail"
    received = webhook.wait_for(2, 5)  # wait a little for a (wrong) second alert
    assert len(received) == 1, [r["title"] for r in received]
    alert = received[0]
    title, message = alert["title"], alert["message"]
    assert "extract_agency.discover_partner_files" in title
    assert "2016-02-03" in title and "try 3/3" in title
    for needle in (
        "DAG: extract_agency",
        "Task: discover_partner_files",
        "Business date: 2016-02-03",
        "Try: 3 of 3",
        "Log file: ",
        "task_id=discover_partner_files/attempt=3.log",
        "PartnerFilesInProgress",
    ):
        assert needle in message, f"{needle!r} not in:\n{message}"
    with db.connect(settings) as conn:
        history = conn.execute(
            "select count(*), max(try_number) from ops.alert_history"
            " where kind = 'task_failed' and dag_id = 'extract_agency' and business_date = %s",
            (day,),
        ).fetchone()
    assert history == (1, 3)


# --- the deadline --------------------------------------------------------------------------


@pytest.mark.integration
def test_missed_deadline_alerts(own_airflow, warehouse, webhook):
    """A watch run for a business date whose warehouse was never built, past its 07:00
    deadline: the scheduler finds the deadline missed and the executor sends the alert."""
    from puhui.backfill import AirflowApi, EmbeddedAirflow

    day = dt.date(2016, 2, 10)  # nothing is built for it: the sensor keeps waiting
    stack = EmbeddedAirflow(own_airflow, extra_env={"PUHUI_ALERT_URLS": webhook.url()})
    try:
        stack.start(["check_warehouse_deadline"])
        api = AirflowApi(stack.base_url)
        api.unpause("check_warehouse_deadline")
        api.request(
            "POST",
            "/dags/check_warehouse_deadline/dagRuns",
            json={
                "logical_date": f"{day.isoformat()}T00:00:00+08:00",
                "dag_run_id": "deadline_test",
            },
        )
        received = webhook.wait_for(1, 180)
    finally:
        stack.stop()
    deadline_alerts = [r for r in received if "DEADLINE" in r["title"]]
    assert len(deadline_alerts) == 1, [r["title"] for r in received]
    title, message = deadline_alerts[0]["title"], deadline_alerts[0]["message"]
    assert "2016-02-10" in title and "2016-02-11 07:00" in title
    for needle in (
        "DAG: build_warehouse",
        "Business date: 2016-02-10",
        "PUHUI_WAREHOUSE_DEADLINE=07:00 Asia/Shanghai",
        "Watch run: deadline_test",
        "No dbt build for the date yet",
    ):
        assert needle in message, f"{needle!r} not in:\n{message}"
