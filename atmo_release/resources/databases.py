"""The databases' rows and schema: read while users write, read once nothing writes, and
judged after the upgrade or the rollback against that stopped reading."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

from atmo_release.checks import require
from atmo_release.data import change_markers, row_checks, stamps
from atmo_release.data.fingerprint import Fingerprints, total_rows
from atmo_release.resources import Resource
from atmo_release.resources.window_copies import WindowCopies

CLOCK_SQL = "SELECT extract(epoch FROM clock_timestamp())"


class Databases(Resource):
    def schema(self, database: str) -> str:
        """Tables, columns and applied migrations: what a careless rollback would leave newer."""
        return self.db.scalar(
            database,
            "SELECT md5(coalesce(string_agg(table_name || '.' || column_name || ':' || data_type,"
            " ',' ORDER BY table_name, column_name), '') || coalesce((SELECT string_agg(app || "
            "'.' || name, ',' ORDER BY app, name) FROM django_migrations), '')) "
            "FROM information_schema.columns WHERE table_schema = 'public'",
        )

    def read_running(self) -> None:
        """Rows and schema while the release still serves: what users write from now on
        is told apart later, never mistaken for a loss."""
        names = self.env.database.names
        self.state.snapshot_preflight = {name: self.db.fingerprints(name) for name in names}
        self.record.facts["snapshot_preflight"] = self.state.snapshot_preflight
        self.state.schema_before = {name: self.schema(name) for name in names}
        self.record.facts["schema_before"] = self.state.schema_before
        self.note("rows in preflight: " + counts(self.state.snapshot_preflight))

    def read_stopped(self) -> None:
        """The "before" that counts: read once nothing writes. What users and tasks wrote while
        the run prepared is noted, never mistaken for a loss. A table whose change markers
        prove it unwritten since its proven dump began is taken from the dump's reading; the
        others are read again."""
        names = self.env.database.names
        self.state.clock["stopped"] = self.clock()
        for name in names:
            dump = self.state.dumps.get(name) or {}
            markers, since = self._read_since(
                name,
                change_markers.Markers.from_record(dump.get("markers")),
                dump.get("fingerprints") or {},
                ("stopped_reading", "since the proven dump began", "its reading"),
            )
            self.state.markers_stopped[name] = markers.as_record()
            self.state.snapshot_before[name] = since.reading
            self.state.grown_since_dump[name] = since.grown
        self.record.facts["markers_stopped"] = self.state.markers_stopped
        self.record.facts["snapshot_before"] = self.state.snapshot_before
        self.record.facts["clock"] = self.state.clock
        written: dict[str, list[str]] = {}
        for name, stopped in self.state.snapshot_before.items():
            preflight = row_checks.checked(self.state.snapshot_preflight.get(name, {}))
            for table, how in self.changes_from(preflight, name, stopped).items():
                written.setdefault(name, []).append(f"{table}: {how}")
        self.record.facts["written_while_preparing"] = written
        rows = sum(total_rows(f) for f in self.state.snapshot_before.values())
        self.note(
            f"{rows} rows read with the apps stopped; written while the run prepared: "
            + ("; ".join(f"{db}: {', '.join(t)}" for db, t in written.items()) or "nothing")
        )

    def _read_since(
        self,
        name: str,
        then: change_markers.Markers | None,
        earlier: Fingerprints,
        said: tuple[str, str, str],
    ) -> tuple[change_markers.Markers, change_markers.Since]:
        """`name`'s markers and tables now: `earlier`'s reading of each table untouched since
        `then` (and of the rows up to its highest id then of each that only grew), a fresh
        reading of the rest; what was taken from where, and why, goes in the record under
        `said`'s fact key, with its phrases for since when and from what."""
        key, since, source = said
        now = self.db.markers(name)
        since_then = change_markers.reading_since(
            then,
            earlier,
            now,
            lambda tables, above: self.db.fingerprints(name, tables, after=above),
            lambda upto: self.db.counts_upto(name, upto),
        )
        reading, kept, grown = since_then.reading, since_then.kept, since_then.grown
        self.record.facts.setdefault(key, {})[name] = {
            "from_earlier": kept,
            "only_grew": grown,
            "read": sorted(set(reading) - set(kept) - set(grown)),
            "markers": "trusted" if now.trusted else f"not trusted: {now.why}",
        }
        if now.trusted:
            self.note(
                f"{name}: {len(reading) - len(kept) - len(grown)} tables read again; "
                f"{len(kept)} unwritten {since}, by their change markers, taken from {source}"
                + (
                    f"; of {', '.join(grown)}, which only had rows added, only the rows "
                    "above its highest id then were read"
                    if grown
                    else ""
                )
            )
        else:
            self.note(
                f"{name}: every table read again (the change markers prove nothing: {now.why})"
            )
        return now, since_then

    def changes_from(
        self, before: dict[str, Any], name: str, now: dict[str, Any] | None = None
    ) -> dict[str, str]:
        """{table: how it differs} between `before` and `name` as read now (or `now`)."""
        after = row_checks.checked(self.db.fingerprints(name) if now is None else now)
        return {
            table: "; ".join(row_checks.differences(before.get(table), after.get(table)))
            for table in row_checks.changed_tables(before, after)
        }

    def clock(self) -> float:
        """The database server's time (seconds since the epoch): what stamps a row."""
        return float(self.db.scalar(self.env.database.names[0], CLOCK_SQL))

    def check_rows_kept(self) -> None:
        """Every table as the release's migrations made it of the stopped rows on a copy
        migrated beside the upgrade: exactly, stamped columns in shape."""
        span = (self.state.clock.get("stopped", 0.0), self.clock())
        with ThreadPoolExecutor(max_workers=1) as copies:  # other servers: read side by side
            expecting = copies.submit(copy_context().run, self.resource(WindowCopies).expectations)
            after = {name: self._read_after(name) for name in self.state.snapshot_before}
            expected = expecting.result()
        problems: list[str] = []
        for name, stopped in self.state.snapshot_before.items():
            want = expected[name]
            shapes = (
                stamps.read_shapes(lambda sql, t, db=name: self.db.query(db, sql, t), want.stamped)
                if want.stamped
                else {}
            )
            lost, notes = row_checks.judge_upgrade(
                stopped,
                after[name],
                shapes,
                want,
                span,
                dict((self.state.rehearsed.get(name) or {}).get("tables_by_migration") or {}),
            )
            problems += [f"{name}: {p}" for p in lost]
            for text in notes:
                self.note(f"{name}: {text}")
        self.note("rows after: " + counts(after))
        require(not problems, "; ".join(problems))

    def _read_after(self, name: str) -> Fingerprints:
        """`name` after the upgrade: the stopped reading of each table its change markers
        prove unwritten since the apps stopped (no migration, app or task wrote it), a fresh
        reading of the rest."""
        return self._read_since(
            name,
            change_markers.Markers.from_record(self.state.markers_stopped.get(name)),
            self.state.snapshot_before[name],
            ("reading_after_upgrade", "since the apps stopped", "the stopped reading"),
        )[1].reading

    def check_rows_as_stopped(self) -> None:
        """Every table exactly as the apps left it when they stopped: no write lost, none
        added (after a rollback)."""
        problems = [
            f"{name}: table {table}: {how}"
            for name, before in self.state.snapshot_before.items()
            for table, how in self.changes_from(row_checks.checked(before), name).items()
        ]
        require(
            not problems,
            "after the rollback the data is not as before the deploy: " + "; ".join(problems),
        )


def counts(snapshots: dict[str, Any]) -> str:
    return "; ".join(
        f"{db}: " + ", ".join(f"{t}={v['count']}" for t, v in tables.items())
        for db, tables in snapshots.items()
    )
