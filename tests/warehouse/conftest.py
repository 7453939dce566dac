"""A small simulated county, loaded and built once per session, for the KPI tests.

``kpi_world`` simulates Shangyu at scale 0.01 (seed 20160101) from the plan's baseline
date 2015-12-31 to 2016-02-03, loads every date of all three sources with the same
functions the extract DAGs' tasks call (``puhui.extract.day``, no Airflow start-up cost
per task), and runs ``dbt build`` over the whole project, in a database of its own on the
session's server. Tests recompute the KPIs from ``landing`` and compare.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from puhui.config import Settings, load_settings

START = dt.date(2015, 12, 31)
END = dt.date(2016, 2, 3)
SCALE = 0.01
SEED = 20160101


@dataclass
class KpiWorld:
    settings: Settings
    landing: Path
    dates: list[dt.date]
    scale: float = SCALE
    seed: int = SEED
    pii_key: bytes = field(default=b"", repr=False)

    def connect(self) -> psycopg.Connection:
        from puhui import db

        return db.connect(self.settings, row_factory=dict_row)

    def query(self, sql: str, params=None) -> list[dict]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def kpi_world(warehouse, tmp_path_factory) -> KpiWorld:
    from puhui import db
    from puhui.extract.day import extract_range
    from puhui.simulate import simulate
    from puhui.warehouse.dbt import build

    landing = tmp_path_factory.mktemp("kpi-landing")
    settings = load_settings(
        {**os.environ, "PUHUI_LANDING_DIR": str(landing), "PUHUI_WAREHOUSE_DB": "puhui_kpi_tests"}
    )
    simulate(START, END, scale=SCALE, seed=SEED, out=landing)
    db.init_warehouse(settings)
    days = extract_range(START, END, settings)
    build(settings)
    return KpiWorld(
        settings=settings,
        landing=landing,
        dates=[d.business_date for d in days],
        pii_key=settings.pii_key(),
    )
