"""Settings: the only module that reads the environment.

Every knob is a ``PUHUI_*`` variable (documented in ``.env.example``). A ``.env`` file in the
project root is read too; real environment variables win over it. Nothing else in puhui calls
``os.environ`` for configuration: other modules ask :func:`get_settings`.
"""

from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TIMEZONE = "Asia/Shanghai"


def _read_dotenv(path: Path) -> dict[str, str]:
    """Parse a minimal KEY=VALUE .env file (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


# Partners' batches are small (tens of rows per file): one bad row must not hold back a
# whole day's payroll. Overridable with PUHUI_MAX_REJECT_RATES.
DEFAULT_REJECT_RATES = {"agency.*": 0.20}


def _parse_rates(text: str) -> dict[str, float]:
    """``"core_banking.txn=0.01,agency.*=0.3"`` -> {"core_banking.txn": 0.01, "agency.*": 0.3}."""
    rates = {}
    for item in text.replace(";", ",").split(","):
        if item.strip():
            key, _, value = item.partition("=")
            rates[key.strip()] = float(value)
    return rates


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Paths are absolute."""

    project_root: Path
    home: Path  # all run-time state: embedded database, landing data, Airflow home, logs
    warehouse_url: str | None  # SQLAlchemy URL; None means "start the embedded PostgreSQL"
    warehouse_db: str | None  # database name: on the embedded server (default "puhui"), or
    # overriding the URL's database (tests use it to isolate themselves)
    landing_dir: Path
    airflow_home: Path
    pii_key_value: str | None  # PUHUI_PII_KEY; read through pii_key()
    max_reject_rate: float  # default share of a batch's rows that may be quarantined
    reject_rate_overrides: dict[str, float]  # "<source>.<table>" or "<source>.*" -> share
    sensor_poke_seconds: int
    sensor_timeout_seconds: int
    dbt_threads: int
    task_retries: int  # retries of every Airflow task (the nightly runs use 2)
    alert_urls: tuple[str, ...]
    ebanking_url: str | None  # e-banking OLTP source; None: <landing>/ebanking/ebanking.sqlite
    ebanking_overlap_hours: int  # re-read window before the watermark, for late updates
    bi_role: str = "puhui_bi"  # the read-only role BI tools log in as (marts and ops only)
    bi_password_value: str | None = None  # PUHUI_BI_PASSWORD; read through bi_password()
    retry_delay_seconds: int = 300  # wait between a task's tries
    warehouse_deadline: str = "07:00"  # HH:MM Asia/Shanghai the day after a business date
    airflow_api_url: str | None = None  # a running Airflow's api-server; None: start one
    airflow_api_user: str | None = None  # its user and password (SimpleAuthManager / FAB)
    airflow_api_password: str | None = None
    airflow_api_port: int = 8080  # port of the api-server puhui starts itself
    dbt_select: tuple[str, ...] = ()  # the nightly build's dbt selection; () = everything
    dbt_log_level_file: str = "info"  # level of $PUHUI_HOME/dbt/logs/dbt.log

    def reject_rate(self, source: str, table: str) -> float:
        """The quarantine share above which a batch of ``source.table`` is held back."""
        overrides = self.reject_rate_overrides
        return overrides.get(
            f"{source}.{table}", overrides.get(f"{source}.*", self.max_reject_rate)
        )

    def pii_key(self) -> bytes:
        """The HMAC key for personal data (see :func:`_pii_key`)."""
        return _pii_key(self.pii_key_value, self.home, self.embedded)

    def bi_password(self) -> str:
        """The BI role's password (see :func:`_bi_password`)."""
        return _bi_password(self.bi_password_value, self.home, self.embedded)

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None

    @property
    def pgdata_dir(self) -> Path:
        return self.home / "pg"

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @property
    def dags_dir(self) -> Path:
        return self.project_root / "dags"

    @property
    def plugins_dir(self) -> Path:
        return self.project_root / "plugins"


def _pii_key(raw: str | None, home: Path, embedded: bool) -> bytes:
    """The HMAC key for personal data.

    With a configured warehouse the key must be configured too (a production deployment
    must not invent its own key). In the embedded, single-machine mode a random key is made
    once and kept in the project-local state folder, so hashes stay stable between runs.
    """
    if raw:
        return raw.encode("utf-8")
    if not embedded:
        raise RuntimeError(
            "PUHUI_PII_KEY is not set. A configured warehouse (PUHUI_WAREHOUSE_URL) needs an "
            "explicit PII hashing key; see .env.example."
        )
    key_file = home / "pii.key"
    if not key_file.exists():
        home.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip().encode("utf-8")


def _bi_password(raw: str | None, home: Path, embedded: bool) -> str:
    """The BI role's password: configured, or (embedded mode only) made once and kept
    in ``<home>/bi.password`` for the local BI tool to read."""
    if raw:
        return raw
    if not embedded:
        raise RuntimeError(
            "PUHUI_BI_PASSWORD is not set. A configured warehouse (PUHUI_WAREHOUSE_URL) needs "
            "an explicit password for the read-only BI role; see .env.example."
        )
    password_file = home / "bi.password"
    if not password_file.exists():
        home.mkdir(parents=True, exist_ok=True)
        password_file.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        password_file.chmod(0o600)
    return password_file.read_text(encoding="utf-8").strip()


def _hhmm(text: str) -> str:
    """Validate a wall-clock time ``HH:MM`` (PUHUI_WAREHOUSE_DEADLINE)."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ValueError(f"expected HH:MM (24-hour clock), got {text!r}")
    return f"{int(hours):02d}:{int(minutes):02d}"


DBT_LOG_LEVELS = ("debug", "info", "warn", "error", "none")


def _dbt_log_level(text: str) -> str:
    """Validate PUHUI_DBT_LOG_LEVEL_FILE (dbt's --log-level-file)."""
    level = text.strip().lower()
    if level not in DBT_LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(DBT_LOG_LEVELS)}, got {text!r}")
    return level


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: .env overlaid by os.environ)."""
    if environ is None:
        environ = {**_read_dotenv(PROJECT_ROOT / ".env"), **os.environ}

    def get(name: str, default: str | None = None) -> str | None:
        value = environ.get(f"PUHUI_{name}")
        return value if value not in (None, "") else default

    home = Path(get("HOME", str(PROJECT_ROOT / ".puhui"))).resolve()
    warehouse_url = get("WAREHOUSE_URL")
    return Settings(
        project_root=PROJECT_ROOT,
        home=home,
        warehouse_url=warehouse_url,
        warehouse_db=get("WAREHOUSE_DB"),
        landing_dir=Path(get("LANDING_DIR", str(home / "landing"))).resolve(),
        airflow_home=Path(get("AIRFLOW_HOME", str(home / "airflow"))).resolve(),
        pii_key_value=get("PII_KEY"),
        max_reject_rate=float(get("MAX_REJECT_RATE", "0.05")),
        reject_rate_overrides={
            **DEFAULT_REJECT_RATES,
            **_parse_rates(get("MAX_REJECT_RATES", "") or ""),
        },
        sensor_poke_seconds=int(get("SENSOR_POKE_SECONDS", "60")),
        sensor_timeout_seconds=int(get("SENSOR_TIMEOUT_SECONDS", str(4 * 3600))),
        dbt_threads=int(get("DBT_THREADS", "2")),
        task_retries=int(get("TASK_RETRIES", "2")),
        ebanking_url=get("EBANKING_URL"),
        ebanking_overlap_hours=int(get("EBANKING_OVERLAP_HOURS", "48")),
        alert_urls=tuple(u for u in (get("ALERT_URLS", "") or "").split() if u),
        bi_role=get("BI_ROLE", "puhui_bi"),
        bi_password_value=get("BI_PASSWORD"),
        retry_delay_seconds=int(get("RETRY_DELAY_SECONDS", "300")),
        warehouse_deadline=_hhmm(get("WAREHOUSE_DEADLINE", "07:00")),
        airflow_api_url=(get("AIRFLOW_API_URL") or "").rstrip("/") or None,
        airflow_api_user=get("AIRFLOW_API_USER"),
        airflow_api_password=get("AIRFLOW_API_PASSWORD"),
        airflow_api_port=int(get("AIRFLOW_API_PORT", "8080")),
        dbt_select=tuple((get("DBT_SELECT", "") or "").split()),
        dbt_log_level_file=_dbt_log_level(get("DBT_LOG_LEVEL_FILE", "info")),
    )


@functools.cache
def get_settings() -> Settings:
    """Settings of this process (read once)."""
    return load_settings()
