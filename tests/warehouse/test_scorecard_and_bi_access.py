"""The scorecard over the small county, and what the read-only BI role may read."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.integration

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
RESTRICTED = ("raw", "quarantine", "staging", "intermediate")
READABLE = ("marts", "ops")


def _targets() -> list[dict]:
    with (SEEDS / "plan_targets.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_plan_target_has_a_scorecard_row_for_every_loaded_date(kpi_world):
    rows = kpi_world.query(
        "select kpi_id, measure, as_of_date, period_month, is_month_figure from marts.scorecard"
    )
    got = {(r["kpi_id"], r["measure"], r["as_of_date"]): r for r in rows}
    month_figures = {dt.date(2015, 12, 31), dt.date(2016, 1, 31), kpi_world.dates[-1]}
    for target in _targets():
        for day in kpi_world.dates:
            row = got[(target["kpi_id"], target["measure"], day)]
            assert row["period_month"] == day.replace(day=1)
            assert row["is_month_figure"] == (day in month_figures)


def test_scorecard_status_recomputed_from_the_kpi_values(kpi_world):
    """Status, gap and the on-track line recomputed in Python from fct_kpi_values."""
    scale = Decimal(str(kpi_world.scale))
    values = {
        (r["kpi_id"], r["measure"], r["business_date"]): r["value"]
        for r in kpi_world.query(
            "select kpi_id, measure, business_date, value from marts.fct_kpi_values"
            " where region_level = 'district'"
        )
    }
    rows = kpi_world.query("select * from marts.scorecard")
    assert rows
    for row in rows:
        target = next(
            t for t in _targets() if (t["kpi_id"], t["measure"]) == (row["kpi_id"], row["measure"])
        )
        actual = values.get((row["kpi_id"], row["measure"], row["as_of_date"]))
        assert row["actual_value"] == (None if actual is None else round(actual, 6))
        if target["direction"] == "report":
            assert row["status"] == "reported" and row["target_value"] is None
            continue
        goal = Decimal(target["target_value"]) * (
            scale if target["scales_with_size"] == "true" else 1
        )
        assert row["target_value"] == round(goal, 6)
        # The line starts at the baseline date's value, or at the first value loaded.
        baseline_date, baseline = min(
            (
                (day, value)
                for (kpi, measure, day), value in values.items()
                if (kpi, measure) == (row["kpi_id"], row["measure"]) and value is not None
            ),
            default=(None, None),
        )
        if actual is None:
            assert row["status"] == "no_data"
            continue
        met = {
            "at_least": actual >= goal,
            "more_than": actual > goal,
            "at_most": actual <= goal,
        }[target["direction"]]
        if met:
            expected = "achieved"
        elif baseline is None:
            expected = "behind"
        else:
            assert row["baseline_value_date"] == baseline_date
            elapsed = Decimal((row["as_of_date"] - baseline_date).days)
            line = baseline + (goal - baseline) * elapsed / Decimal(
                (dt.date(2020, 12, 31) - baseline_date).days
            )
            ahead = actual <= line if target["direction"] == "at_most" else actual >= line
            expected = "on_track" if ahead else "behind"
            assert abs(row["on_track_value"] - line) < Decimal("0.000001")
        assert row["status"] == expected, row
        gap = actual - goal if target["direction"] == "at_most" else goal - actual
        assert abs(row["gap"] - gap) < Decimal("0.000001")


def _bi_connect(kpi_world) -> psycopg.Connection:
    from puhui import db

    info = db.conninfo(kpi_world.settings)
    kwargs = {**info.kwargs(), "user": kpi_world.settings.bi_role}
    kwargs["password"] = kpi_world.settings.bi_password()
    return psycopg.connect(**kwargs, autocommit=True)


def _tables(kpi_world, schemas) -> list[tuple[str, str]]:
    rows = kpi_world.query(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema = any(%s) order by 1, 2",
        (list(schemas),),
    )
    return [(r["table_schema"], r["table_name"]) for r in rows]


def test_bi_role_reads_marts_and_ops(kpi_world):
    tables = _tables(kpi_world, READABLE)
    assert ("marts", "scorecard") in tables and ("ops", "load_audit") in tables
    with _bi_connect(kpi_world) as conn:
        for schema, table in tables:
            conn.execute(f'select * from "{schema}"."{table}" limit 1').fetchall()


def test_bi_role_is_refused_everything_else(kpi_world):
    tables = _tables(kpi_world, RESTRICTED)
    assert {schema for schema, _ in tables} == set(RESTRICTED)
    with _bi_connect(kpi_world) as conn:
        for schema, table in tables:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f'select 1 from "{schema}"."{table}" limit 1')
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table marts.bi_scratch (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from marts.scorecard")


# Raw personal values: resident IDs, bank card numbers, mobile numbers, and Chinese names
# in plain form (a masked name has "*"; these are the surnames the simulator draws from).
PERSONAL = [
    re.compile(r"\b\d{6}(19|20)\d{2}(0[1-9]|1[0-2])\d{5}[\dX]\b"),
    re.compile(r"\b62\d{14,17}\b"),
    re.compile(r"\b1[3-9]\d{9}\b"),
]


def test_no_personal_information_in_what_bi_can_read(kpi_world):
    with _bi_connect(kpi_world) as conn:
        for schema, table in _tables(kpi_world, READABLE):
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = %s"
                    " and table_name = %s and data_type in ('text', 'character varying')",
                    (schema, table),
                ).fetchall()
            ]
            for column in columns:
                values = conn.execute(
                    f'select distinct "{column}" from "{schema}"."{table}"'
                    f' where "{column}" is not null limit 5000'
                ).fetchall()
                for (value,) in values:
                    for pattern in PERSONAL:
                        assert not pattern.search(value), (schema, table, column, value)
