"""Columns the release's migrations stamp with the clock or with chance, found by running the
migrations twice on the same data, and judged by their shape instead of their values.

`default=timezone.now` on a new column, a `RunPython` filling `uuid4()` or `now()`: such values
differ between any two runs, so the upgrade cannot give what a copy gave. Before the window the
migrations run on the rehearsal copy and again on a file copy of the same dump; a column whose
values differ between the two runs is stamped by the migrations that changed it. Every other
column is computed from the rows and must match exactly. A stamped column must match in shape:
how many rows hold a value and which ones (a sum of a hash of their ids), whether it is one value
everywhere or a different one in every row, and for a time, whether it lies within the window.
Each shape is one pass over the table; `count(DISTINCT ...)` is its only sort, for these
columns only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from atmo_release.data.fingerprint import COLUMNS_SQL, Fingerprints, Query, quote, timeout_for

# {table: {column: [the migrations that changed it]}}
Stamped = dict[str, dict[str, list[str]]]
Shapes = dict[str, dict[str, dict[str, Any]]]
Span = tuple[float, float]

TIME_TYPE = "timestamp with time zone"
# The database's clock and the apps' clock (the same host) may disagree by this much.
CLOCK_SLACK_S = 5.0
WHOLE_ROW = "<row>"  # the fingerprint of a table without id: no column of its own


def differing_columns(first: Fingerprints, second: Fingerprints) -> tuple[dict, list[str]]:
    """({table: [columns whose values differ]}, [tables whose rows differ]) between two runs
    of the same migrations on the same data."""
    columns: dict[str, list[str]] = {}
    rows: list[str] = []
    for table in sorted(set(first) & set(second)):
        a, b = first[table], second[table]
        if a["count"] != b["count"]:
            rows.append(table)
            continue
        differ = sorted(c for c in a["columns"] if a["columns"][c] != b["columns"].get(c))
        if differ:
            columns[table] = differ
    return columns, rows


def attribute(columns: dict[str, list[str]], steps: list[tuple[str, dict[str, Any]]]) -> Stamped:
    """Each stamped column with the migrations that changed it in the first run; `steps` are
    (migration, `row_checks.migration_changes` of its step), in order."""
    return {
        table: {
            column: [
                migration
                for migration, changes in steps
                if table in changes
                and (changes[table]["whole_table"] or column in changes[table]["columns"])
            ]
            or ["the release's migrations"]
            for column in names
        }
        for table, names in columns.items()
    }


def by_migration(stamped: Stamped) -> dict[str, list[str]]:
    """{migration: ["table.column", ...]}, for the record."""
    found: dict[str, list[str]] = {}
    for table, columns in sorted(stamped.items()):
        for column, migrations in sorted(columns.items()):
            for migration in migrations:
                found.setdefault(migration, []).append(f"{table}.{column}")
    return found


def shape_sql(table: str, columns: list[tuple[str, str]], stamped: list[str]) -> str:
    """One pass over `table`: per stamped column, its values, distinct values, earliest and
    latest (times only) and the hash-sum of the ids of the rows holding a value."""
    types = dict(columns)
    parts = []
    for name in stamped:
        column = quote(name)
        time = types[name] == TIME_TYPE
        ids = (
            f'coalesce(sum(hashtextextended("id"::text, 0)) FILTER (WHERE {column} IS NOT NULL), 0)'
            if "id" in types
            else "0"
        )
        parts += [
            f"count({column})",
            f"count(DISTINCT {column})",
            f"extract(epoch FROM min({column}))" if time else "NULL",
            f"extract(epoch FROM max({column}))" if time else "NULL",
            ids,
        ]
    return f"SELECT {', '.join(parts)} FROM public.{quote(table)}"


def read_shapes(query: Query, stamped: Stamped, sizes: dict[str, int] | None = None) -> Shapes:
    """The shape of every stamped column found in the database `query` reads."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in query(COLUMNS_SQL, 60):
        columns.setdefault(table, []).append((column, data_type))
    shapes: Shapes = {}
    for table, marked in sorted(stamped.items()):
        names = [c for c in sorted(marked) if c in dict(columns.get(table, []))]
        if not names:
            continue
        row = query(
            shape_sql(table, columns[table], names), timeout_for((sizes or {}).get(table, 0))
        )
        shapes[table] = {}
        for i, name in enumerate(names):
            values, distinct, first, last, ids = row[0][5 * i : 5 * i + 5]
            shapes[table][name] = {
                "values": int(values),
                "distinct": int(distinct),
                "first": float(first) if first else None,
                "last": float(last) if last else None,
                "ids": ids,
            }
    return shapes


def kind(shape: dict[str, Any]) -> str:
    if shape["values"] == 0:
        return "no value"
    if shape["distinct"] == 1:
        return "one value everywhere"
    if shape["distinct"] == shape["values"]:
        return "a different value in every row"
    return "some values repeated"


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def shape_problems(
    expected: dict[str, Any] | None, after: dict[str, Any] | None, span: Span
) -> list[str]:
    """How `after` differs in shape from `expected` (empty when it does not)."""
    if expected is None or after is None:
        return (
            [] if expected is after else ["the column is " + ("gone" if after is None else "new")]
        )
    if after["values"] != expected["values"]:
        return [f"{after['values']} values, {expected['values']} expected"]
    problems = []
    if after["ids"] != expected["ids"]:
        problems.append("the values are in other rows than expected")
    if kind(after) != kind(expected):
        problems.append(f"{kind(after)}, expected {kind(expected)}")
    start, end = span
    if after["first"] is not None and (
        after["first"] < start - CLOCK_SLACK_S or after["last"] > end + CLOCK_SLACK_S
    ):
        problems.append(
            f"times from {_when(after['first'])} to {_when(after['last'])}, outside the window "
            f"({_when(start)} to {_when(end)})"
        )
    return problems


def describe(shape: dict[str, Any]) -> str:
    where = ", within the window" if shape["first"] is not None else ""
    return f"{shape['values']} values in the rows expected, {kind(shape)}{where}"
