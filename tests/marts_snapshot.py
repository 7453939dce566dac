"""Every table of a warehouse schema (``marts``, ``raw``, ...) as sorted rows, for comparing
two warehouses built from the same data in different ways (backfilled vs in order, nightly
vs at once, loaded date by date vs many dates at a time)."""

from __future__ import annotations

from collections.abc import Callable


def marts_snapshot(settings, volatile: Callable[[str], bool]) -> dict[str, list[tuple]]:
    """Table -> its rows sorted, without the columns ``volatile`` names (load and build
    bookkeeping that legitimately differs between two builds of the same data)."""
    return schema_snapshot(settings, "marts", volatile)


def schema_snapshot(
    settings, schema: str, volatile: Callable[[str], bool]
) -> dict[str, list[tuple]]:
    """:func:`marts_snapshot` of any schema of the warehouse."""
    from puhui import db

    snapshot = {}
    with db.connect(settings) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables"
                " where table_schema = %s and table_type = 'BASE TABLE' order by 1",
                (schema,),
            ).fetchall()
        ]
        for table in tables:
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, table),
                ).fetchall()
                if not volatile(r[0])
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(f'select {listed} from "{schema}"."{table}"').fetchall()
            snapshot[table] = sorted(rows, key=repr)
    return snapshot
