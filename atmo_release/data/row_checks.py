"""Judging rows by fingerprints: what a migration explains, and what is a loss.

The readings of a database that meet here: the proven dump (as restored into a throwaway
server), that copy after the release's migrations ran on it (the rehearsal: which migration
changes which table, and which columns it stamps), the live database once the apps have stopped
(nobody writes after that: the "before" that counts), and an unmigrated copy of the dump brought
to that stopped state from the window dumps and migrated beside the real upgrade: what the
migrations do to the data as it was at the stop. After the upgrade every table must equal that
copy, written or not, migrated or not; stamped columns match in shape (`stamps`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atmo_release.data.fingerprint import Fingerprints, same
from atmo_release.data.stamps import WHOLE_ROW, Shapes, Span, Stamped, describe, shape_problems

# Tables the deployment itself writes (maintenance, migrations, sessions of the testers).
IGNORED = frozenset(
    {
        "django_migrations",
        "maintenance_record",
        "api_maintenancerecord",
        "django_session",
        "django_admin_log",
    }
)


def checked(fingerprints: Fingerprints) -> Fingerprints:
    return {table: value for table, value in fingerprints.items() if table not in IGNORED}


def differences(
    before: dict[str, Any] | None, after: dict[str, Any] | None, was: str = "before"
) -> list[str]:
    """Phrases for how one table's rows differ between two readings (empty when the same);
    `was` names the first reading's rows ("3 rows before, 2 after")."""
    if before is None and after is None:
        return []
    if after is None:
        return [f"the table is gone ({before['count']} rows {was})"] if before else []
    if before is None:
        return [f"the table is new ({after['count']} rows)"]
    phrases = []
    if before["count"] != after["count"]:
        phrases.append(f"{before['count']} rows {was}, {after['count']} after")
    old, new = before["columns"], after["columns"]
    changed = [c for c in old if c in new and old[c] != new[c]]
    if changed and before["count"] == after["count"]:
        phrases.append("values changed in " + ", ".join(changed))
    phrases += [f"column {c} dropped" for c in old if c not in new]
    phrases += [f"column {c} added" for c in new if c not in old]
    return phrases


def changed_tables(reference: Fingerprints, now: Fingerprints) -> list[str]:
    """Tables whose rows differ between two readings, ignored tables included (for dumps)."""
    return sorted(t for t in set(reference) | set(now) if not same(reference.get(t), now.get(t)))


def migration_changes(dumped: Fingerprints, rehearsed: Fingerprints) -> dict[str, dict[str, Any]]:
    """Per table the rehearsed migrations changed: how (the phrases) and which columns."""
    changes: dict[str, dict[str, Any]] = {}
    for table in sorted(checked({**dumped, **rehearsed})):
        before, after = dumped.get(table), rehearsed.get(table)
        phrases = differences(before, after)
        if not phrases:
            continue
        whole = before is None or after is None or before["count"] != after["count"]
        columns = (
            []
            if whole
            else sorted(
                c
                for c in set(before["columns"]) | set(after["columns"])  # type: ignore[index]
                if before["columns"].get(c) != after["columns"].get(c)  # type: ignore[index]
            )
        )
        changes[table] = {"how": phrases, "whole_table": whole, "columns": columns}
    return changes


@dataclass(frozen=True)
class Expected:
    """One database as it must be after the upgrade: the stopped rows as the release's
    migrations change them (a copy brought to the stop from the window dumps, migrated beside
    the real upgrade), the columns those migrations stamp, and their shapes on that copy."""

    fingerprints: Fingerprints
    stamped: Stamped = field(default_factory=dict)
    shapes: Shapes = field(default_factory=dict)


def judge_upgrade(
    stopped: Fingerprints,
    after: Fingerprints,
    after_shapes: Shapes,
    expected: Expected,
    span: Span,
    tables_by_migration: dict[str, list[str]],
) -> tuple[list[str], list[str]]:
    """(problems, notes) for one database after the upgrade: every table equals `expected`,
    row for row and value for value but for the stamped columns, which match in shape (their
    times within `span`, the window). `tables_by_migration` names, per rehearsed migration, the
    tables it changed, for the messages."""
    problems: list[str] = []
    notes: list[str] = []
    tables = set(checked(stopped)) | set(checked(after)) | set(checked(expected.fingerprints))
    for table in sorted(tables):
        want, now = expected.fingerprints.get(table), after.get(table)
        marked = {
            column: migrations
            for column, migrations in expected.stamped.get(table, {}).items()
            if want is not None and column in want["columns"]
        }
        by = ", ".join(m for m, names in tables_by_migration.items() if table in names)
        by = by or "the release's migrations"
        migrated = not same(stopped.get(table), want)
        why = (
            f"compared with the stopped rows as {by} change them, on a copy"
            if migrated
            else "no migration changes it"
        )
        found = [
            f"table {table}: {p} ({why})"
            for p in differences(_unstamped(want, marked), _unstamped(now, marked), "expected")
        ]
        for column, migrations in sorted(marked.items()):
            shape = after_shapes.get(table, {}).get(column)
            issues = shape_problems(expected.shapes.get(table, {}).get(column), shape, span)
            stamped_by = ", ".join(migrations)
            found += [
                f"table {table}: column {column} stamped by {stamped_by}: {p} (compared by shape)"
                for p in issues
            ]
            if not issues and shape is not None:
                notes.append(
                    f"table {table}: column {column} stamped by {stamped_by} (the clock or "
                    f"chance), compared by shape: {describe(shape)}"
                )
        problems += found
        if migrated and not found:
            how = "; ".join(differences(stopped.get(table), want))
            notes.append(
                f"table {table}: {how}, by {by}, exactly as on a copy of the stopped database "
                "migrated beside the upgrade"
            )
    return problems, notes


def _unstamped(reading: dict[str, Any] | None, stamped: dict[str, Any]) -> dict[str, Any] | None:
    """A table's reading without its stamped columns (and the whole-row hash they are in)."""
    if reading is None or not stamped:
        return reading
    drop = {*stamped, WHOLE_ROW}
    return {**reading, "columns": {c: v for c, v in reading["columns"].items() if c not in drop}}


def compare_snapshots(before: Fingerprints, after: Fingerprints) -> tuple[list[str], list[str]]:
    """(problems, notes) without a rehearsal: rows lost or values changed in place are
    problems; columns and tables added or dropped are notes (the first deployment's view)."""
    problems: list[str] = []
    notes: list[str] = []
    before, after = _without_framework(before), _without_framework(after)
    for table, old in checked(before).items():
        new = after.get(table)
        if new is None:
            problems.append(f"table {table} is gone ({old['count']} rows before)")
            continue
        if new["count"] != old["count"]:
            problems.append(f"table {table}: {old['count']} rows before, {new['count']} after")
        for column, digest in old["columns"].items():
            if column not in new["columns"]:
                notes.append(f"{table}.{column} was dropped by a migration")
            elif new["columns"][column] != digest and new["count"] == old["count"]:
                problems.append(f"table {table}: values of column {column} changed")
        notes += [f"{table}.{c} was added" for c in new["columns"] if c not in old["columns"]]
    notes += [f"table {table} was added" for table in checked(after) if table not in before]
    return problems, notes


def _without_framework(fingerprints: Fingerprints) -> Fingerprints:
    """Without Django's own tables, which a first start fills anew (permissions, types)."""
    return {t: v for t, v in fingerprints.items() if not t.startswith(("auth_", "django_"))}
