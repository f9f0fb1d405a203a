"""Per-table fingerprints that scale: one streaming pass per table, constant memory.

A fingerprint is, per table, the row count and, per column, the count of non-NULL values and
the sum of a 64-bit hash of each value seeded with its row's id. A sum is order-independent
(nothing is sorted), PostgreSQL keeps one accumulator per column (nothing is concatenated: no
value over 1 GB can be built), and the runner receives one line per table. Seeding with the id
binds each value to its row, so values moved between rows change the sum.

The shape, kept in the record: `{table: {"count": n, "bytes": size, "columns": {col: "n:sum"}}}`,
plus `"max_id"` where the id is an integer (rows above it were added since the reading). The
readings of two disjoint sets of a table's rows add up (`combine`) to the reading of both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from atmo_release.checks import CheckFailed

# Seconds granted to one table's pass: a floor for small tables, plus the table's size read at a
# pessimistic 8 MiB/s (a healthy server reads and hashes at over 100 MiB/s).
TIMEOUT_FLOOR_S = 60.0
TIMEOUT_BYTES_PER_S = 8 * 2**20

TABLES_SQL = (
    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
)
COLUMNS_SQL = (
    "SELECT table_name, column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
)
# Both of the above in one query: each table, its size and its columns ([name, data_type], in
# order) as JSON; a reading asks the server once before its passes.
SCHEMA_SQL = (
    "SELECT c.relname, pg_total_relation_size(c.oid), coalesce(i.columns, '[]') "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN ("
    "SELECT table_name::text AS name, json_agg(json_build_array(column_name, data_type) "
    "ORDER BY ordinal_position) AS columns FROM information_schema.columns "
    "WHERE table_schema = 'public' GROUP BY table_name) i ON i.name = c.relname::text "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
)
_INTEGER_TYPES = {"smallint", "integer", "bigint"}

# query(sql, timeout_s) -> rows of text fields
Query = Callable[[str, float], list[list[str]]]
# batch(statements, timeout_s) -> the one row of each statement, all run in one session
Batch = Callable[[list[str], float], list[list[str]]]
Fingerprints = dict[str, dict[str, Any]]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def timeout_for(size_bytes: int) -> float:
    return TIMEOUT_FLOOR_S + size_bytes / TIMEOUT_BYTES_PER_S


def table_sql(
    table: str, columns: list[tuple[str, str]], upto: int | None = None, after: int | None = None
) -> str:
    """The one query that fingerprints `table` (only its rows with an id up to `upto`, or above
    `after`, when given); `columns` are (name, data_type) in order."""
    types = dict(columns)
    if types.get("id") in _INTEGER_TYPES:
        seed = '"id"'
    elif "id" in types:
        seed = 'hashtextextended("id"::text, 0)'
    else:
        seed = "0"
    parts = ["count(*)"]
    for name, _ in columns:
        column = quote(name)
        parts += [f"count({column})", f"coalesce(sum(hashtextextended({column}::text, {seed})), 0)"]
    if "id" not in types:
        parts += ["coalesce(sum(hashtextextended(t::text, 0)), 0)"]
    if types.get("id") in _INTEGER_TYPES:
        parts += ['max("id")']
    where = [f'"id" <= {int(upto)}'] if upto is not None else []
    where += [f'"id" > {int(after)}'] if after is not None else []
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {', '.join(parts)} FROM public.{quote(table)} t{condition}"


def parse_row(row: list[str], columns: list[tuple[str, str]], size: int) -> dict[str, Any]:
    names = [name for name, _ in columns]
    values = row[1:]
    fingerprint = {name: f"{values[2 * i]}:{values[2 * i + 1]}" for i, name in enumerate(names)}
    result: dict[str, Any] = {"count": int(row[0]), "bytes": size, "columns": fingerprint}
    if dict(columns).get("id") in _INTEGER_TYPES:
        result["max_id"] = int(values[-1]) if values[-1] else None
    elif len(values) > 2 * len(names):
        fingerprint["<row>"] = values[-1]
    return result


def fingerprint_database(
    query: Query,
    tables: list[str] | None = None,
    upto: dict[str, int] | None = None,
    after: dict[str, int] | None = None,
    batch: Batch | None = None,
) -> Fingerprints:
    """Every table of the public schema (or only `tables`), one streaming pass each; a table
    named in `upto` is read only up to that id, one named in `after` only above it. With
    `batch`, the tables' passes run in one session (one client started, not one per table)."""
    schema = query(SCHEMA_SQL, TIMEOUT_FLOOR_S)
    sizes = {row[0]: int(row[1]) for row in schema}
    columns = {row[0]: [(name, kind) for name, kind in json.loads(row[2])] for row in schema}
    wanted = sorted(sizes) if tables is None else [t for t in sorted(tables) if t in sizes]
    sqls = [
        table_sql(table, columns[table], (upto or {}).get(table), (after or {}).get(table))
        for table in wanted
    ]
    if batch is not None and sqls:
        rows = batch(sqls, sum(timeout_for(sizes[table]) for table in wanted))
    else:
        rows = [
            query(sql, timeout_for(sizes[table]))[0]
            for sql, table in zip(sqls, wanted, strict=True)
        ]
    if len(rows) != len(wanted):
        raise CheckFailed(f"{len(wanted)} tables were read, but {len(rows)} readings came back")
    return {
        table: parse_row(row, columns[table], sizes[table])
        for table, row in zip(wanted, rows, strict=True)
    }


def same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Equal rows and values; the size on disk is ignored (it changes with vacuum, not data)."""
    if a is None or b is None:
        return a is b
    return a["count"] == b["count"] and a["columns"] == b["columns"]


def combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The reading of a table's rows in `a` and in `b` together (disjoint sets of its rows)."""

    def add(x: str, y: str) -> str:  # "count:sum" of a column, or the sum of whole rows
        return ":".join(
            str(int(i) + int(j)) for i, j in zip(x.split(":"), y.split(":"), strict=True)
        )

    combined = {
        "count": a["count"] + b["count"],
        "bytes": a.get("bytes", 0),
        "columns": {c: add(a["columns"][c], b["columns"][c]) for c in a["columns"]},
    }
    if "max_id" in a:
        combined["max_id"] = max((i for i in (a["max_id"], b.get("max_id")) if i), default=None)
    return combined


def total_rows(fingerprints: Fingerprints) -> int:
    return sum(int(table["count"]) for table in fingerprints.values())
