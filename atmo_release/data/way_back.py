"""The way back from a release that has been in use: its own migrations run backwards.

Users wrote since the release: a restore of the release day's dump would discard all of it, so
going back prefers the migrations' own reverse, `manage.py migrate <app> <the old release's last
migration>` with the *new* release's code (it holds the reverse operations). Which migrations
that reverses is read from the two releases' `showmigrations --plan` on today's data; a reverse
that cannot run (`RunPython` without `reverse_code`, `RunSQL` without `reverse_sql`) leaves only
the dump, and then what the restore would discard is counted row by row against the release's
own reading after its upgrade.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from atmo_release.commands.psql import SET_SESSION_SQL
from atmo_release.data.fingerprint import Fingerprints, quote, same
from atmo_release.data.row_checks import checked, differences, migration_changes

# `showmigrations --plan`: "[X]  core.0002_x" (applied) or "[ ]  core.0003_y", in order.
_PLAN_LINE = re.compile(r"^\[([ X])\]\s+(\S+)", re.MULTILINE)
# `migrate <app> <target> -v 2` going back: "  Unapplying core.0002_x... OK (0.030s)".
_UNAPPLIED_LINE = re.compile(r"Unapplying (\S+)\.\.\. OK \((\d+(?:\.\d+)?)s\)")
_IRREVERSIBLE = re.compile(r"IrreversibleError: Operation .* in (\S+) is not reversible")
# The same text for a value in every session: the digests are compared across servers (the
# run's session settings, set again in the statement itself).
SESSION_SQL = SET_SESSION_SQL
DIGESTS_TABLE = "atmo_release_rows"


def plan_entries(showmigrations_plan: str) -> list[tuple[str, bool]]:
    """(`app.name`, applied) of each migration, in the order Django applies them."""
    return [(name, mark == "X") for mark, name in _PLAN_LINE.findall(showmigrations_plan)]


def reverse_targets(new_plan: str, old_plan: str) -> dict[str, str]:
    """{app label: the migration to go back to} for each app where today's database has
    migrations the old release does not know: the old release's last one, or `zero`."""
    old = [name for name, _ in plan_entries(old_plan)]
    targets: dict[str, str] = {}
    for name, applied in plan_entries(new_plan):
        label = name.split(".", 1)[0]
        if applied and name not in old and label not in targets:
            known = [m for m in old if m.split(".", 1)[0] == label]
            targets[label] = known[-1].split(".", 1)[1] if known else "zero"
    return targets


def planned_reversal(migrate_plan: str) -> tuple[list[str], list[str]]:
    """(migrations `migrate <app> <target> --plan` would reverse, those of them that cannot
    be: an operation it marks `-> IRREVERSIBLE`)."""
    migrations: list[str] = []
    irreversible: list[str] = []
    for line in migrate_plan.splitlines():
        if not line.strip() or line.startswith("Planned operations"):
            continue
        if not line.startswith(" "):
            migrations.append(line.strip())
        elif line.rstrip().endswith("-> IRREVERSIBLE") and migrations:
            if migrations[-1] not in irreversible:
                irreversible.append(migrations[-1])
    return migrations, irreversible


def unapplied_timings(stdout: str) -> dict[str, float]:
    return {name: float(seconds) for name, seconds in _UNAPPLIED_LINE.findall(stdout)}


def irreversible_in(output: str) -> str | None:
    """The migration an `IrreversibleError` names, if the output has one."""
    found = _IRREVERSIBLE.search(output)
    return found.group(1) if found else None


def digests_sql(tables: Sequence[str]) -> str:
    """`table<TAB>id<TAB>hash of the row` for every row of `tables` (each has an `id`), in
    COPY's text format: a reading that tells row by row what changed since."""
    parts = [
        f'SELECT {_literal(table)}, "id"::text, hashtextextended(t::text, 0) '
        f"FROM public.{quote(table)} t"
        for table in tables
    ]
    return f"{SESSION_SQL}; COPY ({' UNION ALL '.join(parts)}) TO STDOUT"


def losses_sql(tables: Sequence[str]) -> list[str]:
    """psql commands, one session: the release's digests from stdin into a temporary table,
    then per table the rows added, deleted and changed since (`table<TAB>added<TAB>deleted
    <TAB>changed`)."""
    now = " UNION ALL ".join(
        f'SELECT {_literal(table)} AS tbl, "id"::text AS id, hashtextextended(t::text, 0) AS h '
        f"FROM public.{quote(table)} t"
        for table in tables
    )
    return [
        f"CREATE TEMPORARY TABLE {DIGESTS_TABLE} (tbl text, id text, h bigint)",
        f"\\copy {DIGESTS_TABLE} FROM STDIN",
        f"{SESSION_SQL}; WITH now_rows AS ({now}) "
        "SELECT coalesce(n.tbl, r.tbl), count(*) FILTER (WHERE r.id IS NULL), "
        "count(*) FILTER (WHERE n.id IS NULL), count(*) FILTER (WHERE r.h <> n.h) "
        f"FROM now_rows n FULL JOIN {DIGESTS_TABLE} r ON r.tbl = n.tbl AND r.id = n.id "
        "GROUP BY 1 ORDER BY 1",
    ]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parse_losses(rows: Sequence[Sequence[str]]) -> dict[str, dict[str, int]]:
    """Per table with any difference: {added, changed, deleted}."""
    found = {}
    for table, added, deleted, changed in rows:
        counts = {"added": int(added), "changed": int(changed), "deleted": int(deleted)}
        if any(counts.values()):
            found[table] = counts
    return found


def describe_losses(losses: Mapping[str, Mapping[str, Mapping[str, int]]]) -> str:
    """`atmo_prod.core_instance: 1 added, 0 changed, 0 deleted; ...`, or that nothing was."""
    parts = [
        f"{database}.{table}: {c['added']} added, {c['changed']} changed, {c['deleted']} deleted"
        for database, tables in losses.items()
        for table, c in tables.items()
    ]
    return "; ".join(parts) or "no row written since the release"


@dataclass
class RehearsedWayBack:
    """What going back did to a copy of today's data, or why it cannot go back."""

    database: str
    targets: dict[str, str] = field(default_factory=dict)
    migrations: list[str] = field(default_factory=list)
    irreversible: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables_by_migration: dict[str, list[str]] = field(default_factory=dict)
    losses: dict[str, dict[str, int]] | None = None  # None: not counted (nothing to restore)
    restore_seconds: float | None = None

    def summary(self) -> str:
        if self.irreversible:
            return (
                f"{self.database}: {', '.join(self.irreversible)} cannot be reversed; the only "
                "way back is the release day's dump"
            )
        if not self.migrations:
            return f"{self.database}: no migration to reverse"
        ran = ", ".join(
            f"{m} ({self.timings.get(m, 0):g} s; "
            f"{', '.join(self.tables_by_migration.get(m, [])) or 'no table changed'})"
            for m in self.migrations
        )
        return f"{self.database}: reversed {ran}, in {self.seconds:.1f} s"


def judge_rows(
    stopped: Fingerprints,
    after: Fingerprints,
    before: Fingerprints,
    rehearsed: Fingerprints,
    tables_by_migration: dict[str, list[str]],
) -> tuple[list[str], list[str]]:
    """(problems, notes) for one database after its migrations were reversed: a table the
    reversal rehearsed on today's copy (`before` to `rehearsed`) does not change must be as
    `stopped`; a changed one must be as on the copy, or, when written between the copy's dump
    and the stop, the same where the reversal does not reach (the copy holds no later rows:
    unlike the upgrade's, this judgement cannot be exact there)."""
    changes = migration_changes(before, rehearsed)
    problems: list[str] = []
    notes: list[str] = []
    for table in sorted(set(checked(stopped)) | set(checked(after))):
        was, now = stopped.get(table), after.get(table)
        change = changes.get(table)
        if change is None:
            problems += [
                f"table {table}: {p} (no rehearsed migration changes it)"
                for p in differences(was, now)
            ]
            continue
        by = ", ".join(m for m, tables in tables_by_migration.items() if table in tables)
        by = by or "the release's migrations"
        if same(was, before.get(table)):
            problems += [
                f"table {table}: {p} compared with what the rehearsed migrations produced"
                for p in differences(rehearsed.get(table), now)
            ]
            notes.append(f"table {table}: {'; '.join(change['how'])}, by {by} (as rehearsed)")
            continue
        if not change["whole_table"] and was is not None and now is not None:
            kept = {c: v for c, v in was["columns"].items() if c not in change["columns"]}
            mine = {c: v for c, v in now["columns"].items() if c in kept}
            problems += [
                f"table {table}: {p} (columns no rehearsed migration changes)"
                for p in differences({**was, "columns": kept}, {**now, "columns": mine})
            ]
        notes.append(
            f"table {table}: {'; '.join(change['how'])}, by {by} (written since the dump, so "
            "compared with the rehearsal only where the migrations do not reach)"
        )
    return problems, notes
