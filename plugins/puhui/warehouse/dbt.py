"""Run dbt against the warehouse puhui is configured for.

dbt runs as a subprocess of the same virtual environment, with the connection passed
through the ``PUHUI_DBT_*`` variables that ``dbt_project/profiles.yml`` reads.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from puhui import db
from puhui.config import Settings, get_settings

log = logging.getLogger(__name__)


class DbtError(Exception):
    """dbt exited non-zero; the message carries the failing nodes."""


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def _failures(target: Path) -> list[str]:
    results = target / "run_results.json"
    if not results.exists():
        return []
    data = json.loads(results.read_text(encoding="utf-8"))
    return [
        f"{r['unique_id']}: {r['status']}: {(r.get('message') or '').strip()[:300]}"
        for r in data.get("results", [])
        if r.get("status") in ("error", "fail", "runtime error")
    ]


def run_dbt(args: list[str], settings: Settings | None = None) -> str:
    """Run ``dbt <args>`` in the project; return its output, raise DbtError on failure."""
    settings = settings or get_settings()
    project = settings.dbt_project_dir
    env = {**os.environ, **db.dbt_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    target = settings.home / "dbt" / "target"
    log_dir = settings.home / "dbt" / "logs"
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(log_dir),
    ]
    log.info("running %s", " ".join(cmd))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    for line in output.splitlines():
        log.info("dbt | %s", line)
    if proc.returncode != 0:
        failures = _failures(target)
        detail = "\n".join(failures) if failures else output[-3000:]
        raise DbtError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{detail}")
    return output


def build(settings: Settings | None = None) -> str:
    """``dbt build``: seeds, models and their tests; a failing test stops the run."""
    return run_dbt(["build"], settings)
