"""Test session setup: an isolated puhui home, warehouse and Airflow home per session.

Tests never touch the developer's ``.puhui/``: ``PUHUI_HOME`` points at a temporary folder
and the embedded PostgreSQL runs there. To run the suite against a server instead, set
``PUHUI_TEST_WAREHOUSE_URL`` (its database is used as is).

Services a test may need (MariaDB, Redis) are skipped with a reason when absent, unless
``PUHUI_REQUIRE_SERVICES=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="puhui-test-"))
for _name in list(os.environ):
    if _name.startswith("PUHUI_") and _name not in (
        "PUHUI_TEST_WAREHOUSE_URL",
        "PUHUI_REQUIRE_SERVICES",
    ):
        del os.environ[_name]
os.environ["PUHUI_HOME"] = str(_HOME)
os.environ["PUHUI_PII_KEY"] = "test-only-pii-key"
os.environ["PUHUI_SENSOR_POKE_SECONDS"] = "5"
os.environ["PUHUI_SENSOR_TIMEOUT_SECONDS"] = "30"
if os.environ.get("PUHUI_TEST_WAREHOUSE_URL"):
    os.environ["PUHUI_WAREHOUSE_URL"] = os.environ["PUHUI_TEST_WAREHOUSE_URL"]

from puhui.airflow_env import airflow_env  # noqa: E402  (after PUHUI_HOME is set)
from puhui.config import get_settings  # noqa: E402

# Airflow must never fall back to ~/airflow: fix its environment before it is imported.
os.environ.update({k: v for k, v in airflow_env().items() if k.startswith("AIRFLOW")})


@pytest.fixture(scope="session")
def settings():
    return get_settings()


@pytest.fixture(scope="session")
def warehouse(settings):
    """The session's warehouse, initialised; the embedded server is stopped at the end."""
    from puhui import db

    db.init_warehouse(settings)
    yield db.conninfo(settings)
    if settings.embedded:
        db.stop_embedded(settings)


@pytest.fixture(scope="module")
def own_airflow(tmp_path_factory):
    """Settings whose Airflow home (SQLite metadata, logs) belongs to this test module.

    Tests that assert which runs exist (backfills, the asset schedule, the Celery night)
    must not see the runs and pending asset events that other tests' ``dags test`` and
    embedded schedulers left in the session's metadata database. The module's own
    home is set in the environment for the module's duration, so settings loaded from
    ``os.environ`` and every Airflow process started meanwhile use it.
    """
    from puhui.config import load_settings

    home = tmp_path_factory.mktemp("airflow-home")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "PUHUI_AIRFLOW_HOME": str(home),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        }.items():
            patch.setenv(name, value)
        yield load_settings(dict(os.environ))


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("PUHUI_TEST_KEEP_HOME") == "1":  # keep logs and data to investigate
        print(f"\npuhui test home kept: {_HOME}")
        return
    shutil.rmtree(_HOME, ignore_errors=True)


def airflow_task_logs(settings, dag_id: str, tail: int = 3000) -> str:
    """The end of every task log of ``dag_id`` in the session's Airflow home, for a failed
    assertion's message (the home is removed when the session ends)."""
    root = settings.airflow_home / "logs" / f"dag_id={dag_id}"
    parts = []
    for path in sorted(root.rglob("*.log")) if root.exists() else []:
        text = path.read_text(errors="replace")
        parts.append(f"--- {path.relative_to(root)}\n{text[-tail:]}")
    return "\n".join(parts) or f"(no task logs under {root})"


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or, under CI, fail) when a local service is not listening."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} is not reachable on {host}:{port} ({exc})"
        if os.environ.get("PUHUI_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; PUHUI_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(message)
