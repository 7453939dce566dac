"""Settings: defaults, per-table reject thresholds, and the PII key rules."""

from __future__ import annotations

import pytest

from puhui.config import load_settings


def test_reject_rate_defaults_and_overrides(tmp_path):
    base = {"PUHUI_HOME": str(tmp_path)}
    settings = load_settings(base)
    assert settings.reject_rate("core_banking", "archives") == 0.05
    assert settings.reject_rate("agency", "payroll") == 0.20  # built-in for small batches
    tuned = load_settings(
        {
            **base,
            "PUHUI_MAX_REJECT_RATE": "0.02",
            "PUHUI_MAX_REJECT_RATES": "core_banking.txn=0.001, agency.*=0.5,agency.payroll=0.3",
        }
    )
    assert tuned.reject_rate("core_banking", "txn") == 0.001
    assert tuned.reject_rate("core_banking", "loans") == 0.02
    assert tuned.reject_rate("agency", "payroll") == 0.3
    assert tuned.reject_rate("agency", "withholding") == 0.5


def test_configured_warehouse_needs_an_explicit_pii_key(tmp_path):
    settings = load_settings(
        {"PUHUI_HOME": str(tmp_path), "PUHUI_WAREHOUSE_URL": "postgresql+psycopg://u@h/db"}
    )
    with pytest.raises(RuntimeError, match="PUHUI_PII_KEY"):
        settings.pii_key()


def test_embedded_mode_makes_one_stable_private_key(tmp_path):
    first = load_settings({"PUHUI_HOME": str(tmp_path)}).pii_key()
    assert first == load_settings({"PUHUI_HOME": str(tmp_path)}).pii_key()
    assert len(first) == 64
    assert (tmp_path / "pii.key").stat().st_mode & 0o777 == 0o600


def test_paths_live_under_the_state_folder(tmp_path):
    settings = load_settings({"PUHUI_HOME": str(tmp_path)})
    assert settings.landing_dir == tmp_path / "landing"
    assert settings.airflow_home == tmp_path / "airflow"
    assert settings.pgdata_dir == tmp_path / "pg"
    assert settings.embedded and settings.ebanking_url is None


def test_dbt_log_level_of_the_file_is_checked(tmp_path):
    base = {"PUHUI_HOME": str(tmp_path)}
    assert load_settings(base).dbt_log_level_file == "info"
    assert load_settings({**base, "PUHUI_DBT_LOG_LEVEL_FILE": "DEBUG"}).dbt_log_level_file == (
        "debug"
    )
    with pytest.raises(ValueError, match="debug, info, warn, error, none"):
        load_settings({**base, "PUHUI_DBT_LOG_LEVEL_FILE": "verbose"})
