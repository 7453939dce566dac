"""The environment Airflow runs in when puhui starts it (CLI, demo, tests).

Airflow's own metadata lives in SQLite under the project-local ``AIRFLOW_HOME`` unless an
``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` is already set (the multi-machine stack sets one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from puhui import db
from puhui.config import Settings, get_settings


def airflow_env(
    settings: Settings | None = None, base: dict[str, str] | None = None
) -> dict[str, str]:
    settings = settings or get_settings()
    env = dict(os.environ if base is None else base)
    home = settings.airflow_home
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.plugins_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": r"(airflow|puhui)\..*",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "PUHUI_HOME": str(settings.home),
        "PYTHONPATH": os.pathsep.join(
            p
            for p in (
                str(settings.plugins_dir),
                str(settings.project_root),
                env.get("PYTHONPATH", ""),
            )
            if p
        ),
    }
    # The warehouse as an Airflow connection (puhui_warehouse), for operators and the UI.
    info = db.conninfo(settings)
    defaults["AIRFLOW_CONN_PUHUI_WAREHOUSE"] = json.dumps(
        {
            "conn_type": "postgres",
            "host": info.host,
            "port": info.port,
            "login": info.user,
            "password": info.password,
            "schema": info.dbname,
        }
    )
    always = {
        "AIRFLOW_HOME",
        "PUHUI_HOME",
        "PYTHONPATH",
        "AIRFLOW__CORE__DAGS_FOLDER",
        "AIRFLOW__CORE__PLUGINS_FOLDER",
    }
    for key, value in defaults.items():
        if key in always or key not in env:
            env[key] = value
    return env


def airflow_executable() -> str:
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


def run_airflow(
    args: list[str],
    settings: Settings | None = None,
    *,
    check: bool = True,
    capture: bool = False,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run the ``airflow`` CLI with puhui's environment."""
    env = {**airflow_env(settings), **(extra_env or {})}
    return subprocess.run(
        [airflow_executable(), *args],
        env=env,
        check=check,
        text=True,
        capture_output=capture,
    )


def ensure_metadata_db(settings: Settings | None = None) -> None:
    """``airflow db migrate`` once per Airflow home (a stamp file skips the ~7 s later)."""
    settings = settings or get_settings()
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    from importlib.metadata import version

    stamp = settings.airflow_home / f".migrated-{version('apache-airflow-core')}"
    if stamp.exists():
        return
    run_airflow(["db", "migrate"], settings, capture=True)
    stamp.touch()
