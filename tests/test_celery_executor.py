"""The same DAGs run distributed: CeleryExecutor, the local Redis as broker, two workers.

The multi-machine stack (docker-compose.yml) runs Airflow with CeleryExecutor and two
workers; here the same components run as processes on this machine: api-server,
scheduler, dag-processor and two ``airflow celery worker`` processes consuming from Redis
(127.0.0.1:6379, a queue private to this test). One business date goes through the whole
night: a ``puhui backfill`` of the three extract DAGs, then ``build_warehouse`` started by
their partitioned assets. Both workers must have run tasks.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets

import pytest

from puhui.config import load_settings

pytestmark = pytest.mark.integration

DAY = dt.date(2016, 1, 1)
REDIS = ("127.0.0.1", 6379)
WORKERS = ("worker-1", "worker-2")


def test_nightly_dags_run_on_two_celery_workers(own_airflow, warehouse, tmp_path):
    from conftest import require_service

    require_service("Redis (Celery broker)", *REDIS)
    from puhui import db
    from puhui.backfill import AirflowApi, EmbeddedAirflow, free_port, run_backfill
    from puhui.simulate import simulate

    landing = tmp_path / "landing"
    simulate(DAY, DAY, scale=0.005, seed=20160101, out=landing)
    dbname = "puhui_celery"
    settings = load_settings(
        {**os.environ, "PUHUI_LANDING_DIR": str(landing), "PUHUI_WAREHOUSE_DB": dbname}
    )
    db.init_warehouse(settings)
    queue = f"puhui-test-{secrets.token_hex(4)}"
    broker = f"redis://{REDIS[0]}:{REDIS[1]}/7"
    worker_components = tuple(
        f"celery worker --concurrency 2 --queues {queue} --celery-hostname {name}@puhui-test"
        for name in WORKERS
    )
    stack = EmbeddedAirflow(
        settings,
        components=("api-server", "scheduler", "dag-processor", *worker_components),
        component_env={
            c: {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
            for c in worker_components
        },
        extra_env={
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": broker,
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
            "PUHUI_LANDING_DIR": str(landing),
            "PUHUI_WAREHOUSE_DB": dbname,
            "PUHUI_TASK_RETRIES": "0",
            "PUHUI_DBT_SELECT": "+kpi_k09_archiving_rate",
        },
    )
    lines: list[str] = []
    try:
        stack.start(
            ["extract_core_banking", "extract_ebanking", "extract_agency", "build_warehouse"]
        )
        api = AirflowApi(stack.base_url)
        report = run_backfill(DAY, DAY, settings=settings, api=api, echo=lines.append, timeout=900)
        builds = api.dag_runs("build_warehouse")
    finally:
        stack.stop()
    from conftest import airflow_task_logs

    assert report.ok, "\n".join(lines) + "\n" + airflow_task_logs(settings, "build_warehouse")
    assert [(r["partition_key"], r["state"]) for r in builds] == [(DAY.isoformat(), "success")]
    # the work was spread: each worker's log shows tasks it executed
    log_dir = settings.airflow_home / "logs" / "embedded"
    for name in WORKERS:
        text = next(log_dir.glob(f"celery-worker-*{name}*.log")).read_text(errors="replace")
        assert "execute_workload" in text or "Executing workload" in text, (
            f"{name} ran no task:\n{text[-2000:]}"
        )
    with db.connect(settings) as conn:
        loaded = conn.execute(
            "select count(distinct source_system) from ops.load_audit where business_date = %s",
            (DAY,),
        ).fetchone()[0]
        built = conn.execute(
            "select status from ops.dbt_invocations where business_date = %s", (DAY,)
        ).fetchall()
    assert loaded == 3
    assert built and built[0][0] in ("success", "warn")
