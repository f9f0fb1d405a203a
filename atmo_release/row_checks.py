"""Judging rows by fingerprints: what a migration explains, and what is a loss.

Three readings of a database meet here: the proven dump (as restored into a throwaway server),
that copy after the release's migrations ran on it (the rehearsal), and the live database once
the apps have stopped (nobody writes after that: the "before" that counts). After the upgrade,
a table the rehearsed migrations did not touch must be identical to before; a touched one must
equal what the rehearsal produced when nobody wrote to it since the dump, and is otherwise
reported as changed by the named migrations, its untouched columns still compared.
"""

from __future__ import annotations

from typing import Any

from atmo_release.fingerprint import Fingerprints, same

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


def differences(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Phrases for how one table's rows differ between two readings (empty when the same)."""
    if before is None and after is None:
        return []
    if after is None:
        return [f"the table is gone ({before['count']} rows before)"] if before else []
    if before is None:
        return [f"the table is new ({after['count']} rows)"]
    phrases = []
    if before["count"] != after["count"]:
        phrases.append(f"{before['count']} rows before, {after['count']} after")
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


def judge_upgrade(
    stopped: Fingerprints,
    after: Fingerprints,
    dumped: Fingerprints,
    rehearsed: Fingerprints,
    tables_by_migration: dict[str, list[str]],
) -> tuple[list[str], list[str]]:
    """(problems, notes) for one database after the upgrade; see the module's docstring.
    `tables_by_migration` names, per rehearsed migration, the tables it changed."""
    changes = migration_changes(dumped, rehearsed)
    problems: list[str] = []
    notes: list[str] = []
    for table in sorted(set(checked(stopped)) | set(checked(after))):
        before, now = stopped.get(table), after.get(table)
        change = changes.get(table)
        if change is None:
            problems += [
                f"table {table}: {p} (no rehearsed migration changes it)"
                for p in differences(before, now)
            ]
            continue
        by = ", ".join(m for m, tables in tables_by_migration.items() if table in tables)
        by = by or "the release's migrations"
        if same(before, dumped.get(table)):
            problems += [
                f"table {table}: {p} compared with what the rehearsed migrations produced"
                for p in differences(rehearsed.get(table), now)
            ]
            notes.append(f"table {table}: {'; '.join(change['how'])}, by {by} (as rehearsed)")
            continue
        if not change["whole_table"] and before is not None and now is not None:
            kept = {c: v for c, v in before["columns"].items() if c not in change["columns"]}
            untouched = {**before, "columns": kept}
            mine = {c: v for c, v in now["columns"].items() if c in kept}
            problems += [
                f"table {table}: {p} (columns no rehearsed migration changes)"
                for p in differences(untouched, {**now, "columns": mine})
            ]
        notes.append(
            f"table {table}: {'; '.join(change['how'])}, by {by} (written since the dump, so "
            "compared with the rehearsal only where the migrations do not reach)"
        )
    return problems, notes


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
