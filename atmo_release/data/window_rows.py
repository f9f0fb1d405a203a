"""What users wrote after the proven dump, kept for a rollback: the guard against lost writes.

Users and periodic tasks write until the apps stop, and the proven dump is minutes older than
that. Inside the window, once nothing writes, every table whose fingerprint differs from the
dump's is dumped again. A table that only grew (its rows up to the dump's highest id are as the
dump has them: events, logs) gives only its new rows; any other gives all its rows. A rollback
restores the proven dump, then replaces the rows of the rewritten tables and adds the new rows
of the grown ones, in the same transaction: the database comes back as it was when the apps
stopped, not as it was when the dump began, without dumping a large table again for a few rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from atmo_release.checks import CheckFailed
from atmo_release.commands import Read, pg
from atmo_release.data.fingerprint import quote
from atmo_release.target import Target


def rows_in_dump(target: Target, path: Path) -> dict[str, int]:
    """Rows per table that a plain dump holds, counted on the target in one streaming pass."""
    result = target.run(pg.count_copy_rows(str(path)), env={"LC_ALL": "C"}, timeout=3600)
    if not result.ok:
        raise CheckFailed(f"the rows of dump {path} could not be counted: {result.tail(2)}")
    counts = {}
    for line in result.stdout.splitlines():
        name, _, rows = line.rpartition("\t")
        table = name.split(".", 1)[-1]
        if table.startswith('"') and table.endswith('"'):
            table = table[1:-1].replace('""', '"')
        counts[table] = int(rows)
    return counts


def rows_after_sql(table: str, last_id: int) -> str:
    """The rows a grown table gained since the dump, in COPY's text format."""
    return f'COPY (SELECT * FROM public.{quote(table)} WHERE "id" > {int(last_id)}) TO STDOUT'


def sequence_value_sql(table: str) -> str:
    """The last value of the table's id sequence (NULL when it has none or never ran)."""
    return (
        "SELECT pg_sequence_last_value(pg_get_serial_sequence("
        f"'public.{quote(table)}', 'id')::regclass)"
    )


def count_lines(path: Path) -> Read:
    """One row per line in COPY's text format (newlines inside values are escaped)."""
    return Read(["wc", "-l", str(path)])


def sequence_sql(table: str, sequence: int | None) -> str:
    """The grown table's id sequence set back to where it was when the apps stopped, in the
    restore's transaction (nothing when it had none)."""
    if sequence is None:
        return ""
    return (
        "SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence("
        f"'public.{quote(table)}', 'id'), {int(sequence)});\n"
    )


def files(window: dict[str, Any] | None) -> list[str]:
    """The files a window dump decision made: all rows of some tables, new rows of others."""
    window = window or {}
    whole = [window["path"]] if window.get("tables") else []
    return whole + [grown["path"] for grown in (window.get("grown") or {}).values()]


def replace_rows_sql(tables: Sequence[str]) -> list[str]:
    """Statements run before the window dump's rows are loaded, in the restore's transaction.
    Django's foreign keys are deferrable, so the rows may arrive in any order."""
    return ["SET CONSTRAINTS ALL DEFERRED", *(f"DELETE FROM public.{quote(t)}" for t in tables)]


def require_rows(path: Path, in_file: dict[str, int], expected: dict[str, int]) -> None:
    """The window dump holds exactly the stopped database's row count of each table."""
    problems = [
        f"{table}: {count} rows in the stopped database, {in_file.get(table, 'none')} in the dump"
        for table, count in sorted(expected.items())
        if in_file.get(table) != count
    ]
    if problems:
        raise CheckFailed(
            f"window dump {path} does not hold what was written: " + "; ".join(problems)
        )
