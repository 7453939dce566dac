"""What makes a nightly build run the dbt unit tests again: a change to the project."""

from __future__ import annotations

import shutil

from puhui.config import get_settings
from puhui.warehouse.dbt import project_checksum


def test_checksum_follows_the_sql_not_the_connection(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(
        get_settings().dbt_project_dir,
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    before = project_checksum(project)
    assert before == project_checksum(get_settings().dbt_project_dir)
    assert len(before) == 64

    (project / "profiles.yml").write_text("# where to connect only\n", encoding="utf-8")
    assert project_checksum(project) == before

    model = next((project / "models").rglob("kpi_k09_*.sql"))
    model.write_text(model.read_text(encoding="utf-8") + "\n-- changed\n", encoding="utf-8")
    changed = project_checksum(project)
    assert changed != before

    (project / "macros" / "new_macro.sql").write_text("{% macro m() %}1{% endmacro %}\n")
    assert project_checksum(project) not in (before, changed)
