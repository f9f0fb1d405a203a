"""What users wrote after the proven dump, kept for a rollback: the guard against lost writes.

Users and periodic tasks write until the apps stop, and the proven dump is minutes older than
that. Inside the window, once nothing writes, every table whose fingerprint differs from the
dump's is dumped again (its rows only). A rollback restores the proven dump, then replaces the
rows of those tables with the window dump's, in the same transaction: the database comes back
as it was when the apps stopped, not as it was when the dump began.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from atmo_release.checks import CheckFailed
from atmo_release.commands import pg
from atmo_release.fingerprint import quote
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
