"""What the release's migrations do to the data as it was when the apps stopped, known table by
table: the unmigrated copy of each proven dump, brought to the stopped state inside the window
from the window dumps (loaded as a rollback loads them, which rehearses the rollback's data
path), then migrated by the release beside the real `up -d`. After the upgrade every table must
equal its copy (`row_checks.judge_upgrade`). The copies are read once; they go at the end of
the run (`ProvenDumps.close_copies`), out of the window.

A run without the copy (it resumes a run that ended, or the copy went with a failed step)
restores one from the proven dump when it needs it, and says so: it never judges without one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atmo_release.checks import require
from atmo_release.commands import restore
from atmo_release.data import change_markers, restore_stream, row_checks, stamps, throwaway_copy
from atmo_release.data.fingerprint import Fingerprints, Query, combine
from atmo_release.data.restore_stream import Part
from atmo_release.data.row_checks import Expected
from atmo_release.data.throwaway_copy import ThrowawayCopy
from atmo_release.resources import Resource
from atmo_release.resources.migrations_on_copy import CopyMigrations, MigrationsOnCopy
from atmo_release.resources.proven_dumps import ProvenDumps

if TYPE_CHECKING:
    from atmo_release.resources.run import Run


class WindowCopies(Resource):
    def __init__(self, deployment: Run) -> None:
        super().__init__(deployment)
        self.loaded: set[str] = set()
        # per database, its copy's change markers once loaded and proven, before migrating
        self.markers: dict[str, change_markers.Markers] = {}
        self.migrations: CopyMigrations | None = None
        self.expected: dict[str, Expected] = {}
        self.facts: dict[str, dict[str, Any]] = {}
        self.swept = False  # the throwaway containers of the run this one resumes
        self._sweeping = threading.Lock()  # copies restored side by side sweep once

    def load(self) -> None:
        """Each unmigrated copy with its window dumps loaded, in one transaction, as the
        rollback loads them onto the proven dump: it must then read as the stopped database.
        Each copy is a server of its own, so they are loaded and read side by side."""
        if self.deployment.planning:
            self.note("the window dumps would be loaded into the unmigrated copies of the dumps")
            return
        self.record.side_by_side(self._stopped_copy, list(self.state.dumps))

    def migrate_beside(self, up: Callable[[], None]) -> None:
        """`up`, the real `up -d`, while the release's migrations start, detached, on each copy
        of the stopped databases: they run beside the real ones, and starting them costs the
        window nothing that `up` does not outlast. A copy that cannot start them fails the step
        once `up` has returned (the halt then rolls back)."""
        if self.deployment.planning:
            self.note("the release's migrations would start on the copies of the stopped data")
            up()
            return
        with ThreadPoolExecutor(max_workers=1) as beside:
            starting = beside.submit(self._start)
            up()
            starting.result()
        self.note("the release's migrations started on the copies of the stopped databases")

    def expectations(self) -> dict[str, Expected]:
        """Per database, the stopped rows as the release's migrations changed them on its copy
        (read once)."""
        if self.expected:
            return self.expected
        if self.migrations is None:
            self.note(
                "the release's migrations did not start beside up -d on the copies of the "
                "stopped databases (this run resumes another): they run on them now"
            )
            self._start()
        assert self.migrations is not None
        results = self.migrations.finish()
        failed = [
            f"{app} on {name} (exit {rc}): {' '.join(output.splitlines()[-2:])}"
            for name, runs in results.items()
            for app, rc, output in runs
            if rc != 0
        ]
        require(
            not failed,
            "the release's migrations failed on the copies of the stopped databases, so the "
            "upgrade cannot be judged against them: " + "; ".join(failed),
        )
        copies = self.resource(ProvenDumps).copies

        def read(name: str) -> Expected:  # each copy a server of its own: side by side
            started = time.monotonic()
            reading = self._read_migrated(name, copies[name])
            stamped = (self.state.rehearsed.get(name) or {}).get("stamped") or {}
            sizes = {table: value.get("bytes", 0) for table, value in reading.items()}
            query = self._query(copies[name])
            shapes = stamps.read_shapes(query, stamped, sizes) if stamped else {}
            self.facts.setdefault(name, {})["read_seconds"] = round(time.monotonic() - started, 2)
            return Expected(reading, stamped, shapes)

        names = list(self.state.dumps)
        self.expected = dict(zip(names, self.record.side_by_side(read, names), strict=True))
        for name, waited in self.migrations.waited.items():
            self.facts.setdefault(name, {})["waited_for_migrations_seconds"] = waited
        self.record.facts["window_copies"] = self.facts
        return self.expected

    def migrated(self, name: str) -> ThrowawayCopy:
        """The copy of `name` the release's migrations ran on, its database `unmigrated` (the
        name it had before), once `expectations` read it."""
        self.expectations()
        return self.resource(ProvenDumps).copies[name]

    def _read_migrated(self, name: str, copy: ThrowawayCopy) -> Fingerprints:
        """The migrated copy: the stopped reading of each table its change markers prove the
        migrations left alone (the copy was proven equal to it before they ran), a fresh
        reading of the rest."""
        now = copy.markers(copy.unmigrated)
        since_stop = change_markers.reading_since(
            self.markers.get(name),
            self.state.snapshot_before[name],
            now,
            lambda tables, above: copy.fingerprints(copy.unmigrated, tables=tables, after=above),
        )
        reading, kept = since_stop.reading, since_stop.kept
        self.facts.setdefault(name, {}).update(
            {
                "left_alone_by_migrations": kept,
                "read": sorted(set(reading) - set(kept)),
                "markers": "trusted" if now.trusted else f"not trusted: {now.why}",
            }
        )
        return reading

    def _start(self) -> None:
        names = list(self.state.dumps)
        copies = dict(zip(names, self.record.side_by_side(self._stopped_copy, names), strict=True))
        self.migrations = CopyMigrations(
            self.resource(MigrationsOnCopy),
            {name: (copy, copy.unmigrated) for name, copy in copies.items()},
        ).start()

    def remove_left(self) -> None:
        """What the run this one resumes left of its copies (each holds a whole database): its
        throwaway containers and their networks, once; also at the end of a resumed run that
        never needed a copy (it resumed past the upgrade)."""
        with self._sweeping:
            if self.deployment.planning or not self.state.resumed_from or self.swept:
                return
            self.swept = True
            left = throwaway_copy.remove_left_by(self.target, self.state.resumed_from)
        if left:
            self.note(f"removed {left} throwaway containers run {self.state.resumed_from} left")

    @staticmethod
    def _query(copy: ThrowawayCopy) -> Query:
        return lambda sql, timeout: copy.query(sql, timeout, database=copy.unmigrated)

    def _stopped_copy(self, name: str) -> ThrowawayCopy:
        """The copy of `name` holding the stopped database (loaded once, then proven)."""
        copy = self._unmigrated(name)
        if name in self.loaded:
            return copy
        info = self.state.dumps[name]
        window = info.get("window")
        require(window is not None, f"no window dump of {name} was considered")
        started = time.monotonic()
        load = restore_stream.window_parts(window)
        if load:
            transaction = [Part("begin.sql", "BEGIN;\n"), *load, Part("commit.sql", "COMMIT;\n")]
            psql = [*restore.PSQL_FLAGS, "-U", copy.owner, "-d", copy.unmigrated, "-f", "-"]
            inputs = restore_stream.inline(transaction, lambda path: copy.in_container(Path(path)))
            rc, _, err = copy.exec(restore.fed_parts(inputs, ["psql", *psql]), 3600)
            require(
                rc == 0,
                f"the window dumps of {name} could not be loaded onto the copy of "
                f"{info['path']}, as a rollback would load them (exit {rc}): "
                f"{err.strip()[-300:]}",
            )
        self.loaded.add(name)
        reading = row_checks.checked(self._read_loaded(copy, info["fingerprints"], window))
        stopped = row_checks.checked(self.state.snapshot_before[name])
        differ = [
            f"table {table}: "
            + "; ".join(row_checks.differences(stopped.get(table), reading.get(table)))
            for table in row_checks.changed_tables(stopped, reading)
        ]
        require(
            not differ,
            f"the proven dump {info['path']} with the window dumps loaded as a rollback loads "
            f"them is not the stopped {name}: " + "; ".join(differ),
        )
        self.markers[name] = copy.markers(copy.unmigrated)  # after the proof, before migrating
        self.facts.setdefault(name, {})["load_seconds"] = round(time.monotonic() - started, 2)
        self.note(
            f"{name}: the window dumps loaded onto a copy of {info['path']} give the stopped "
            "database, table for table"
        )
        return copy

    def _read_loaded(
        self, copy: ThrowawayCopy, dumped: Fingerprints, window: dict[str, Any]
    ) -> Fingerprints:
        """The copy's reading, from the dump's reading and only what the load changed: the
        rewritten tables whole, the new rows of the grown ones."""
        after = {table: rows["after_id"] for table, rows in (window.get("grown") or {}).items()}
        tables = [*(window.get("tables") or []), *after]
        read = copy.fingerprints(copy.unmigrated, tables=tables, after=after) if tables else {}
        return {
            **dumped,
            **{t: combine(dumped[t], v) if t in after else v for t, v in read.items()},
        }

    def _unmigrated(self, name: str) -> ThrowawayCopy:
        """The copy kept unmigrated since the dump was proven, or, when this run has none, a
        new one restored from the proven dump."""
        copy = self.resource(ProvenDumps).copies.get(name)
        if copy is not None and copy.unmigrated:
            return copy
        info = self.state.dumps.get(name) or {}
        require(
            bool(info.get("path")) and bool(info.get("fingerprints")),
            f"no proven dump of {name} is recorded: the upgrade cannot be judged against it",
        )
        why = (
            f"this run resumes run {self.state.resumed_from}"
            if self.state.resumed_from
            else "it went with a failed step"
        )
        self.remove_left()
        started = time.monotonic()
        copy = self.resource(ProvenDumps).open_copy(name, Path(info["path"]))
        copy.unmigrated = copy.DATABASE
        self.note(
            f"{name}: no unmigrated copy of the proven dump was up ({why}): {info['path']} "
            f"restored again in {time.monotonic() - started:.1f} s, to judge the upgrade by"
        )
        return copy
