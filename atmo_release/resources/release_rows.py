"""Every row as the upgrade left it, recorded on release day beside the dumps: what a later
rollback by hand counts as written since the release (restoring a dump would discard it).

The row check proves each table equal to its copy migrated beside the upgrade, but for the
columns the migrations stamp (the clock, chance). So only the stamped tables are read live,
inside the window; every other table is read from the migrated copy once users are back in:
exactly the stopped rows as the migrations left them, without what a task or a tester wrote
after the upgrade (a restore would discard that too, so it must count as written since)."""

from __future__ import annotations

from pathlib import Path

from atmo_release.checks import CheckFailed, require
from atmo_release.commands import files, psql, read
from atmo_release.data import dumps, way_back
from atmo_release.data.fingerprint import timeout_for
from atmo_release.data.sessions import client_env
from atmo_release.resources import Resource
from atmo_release.resources.todays_copy import TABLES_WITH_ID_SQL, tables_with_id
from atmo_release.resources.window_copies import WindowCopies
from atmo_release.target import Result


class ReleaseRows(Resource):
    def save_stamped(self) -> None:
        """Inside the window, the digest of every row of each table a migration stamps, as the
        upgrade left it (its copy holds other stamps): the part of the record no copy has."""
        if self.deployment.planning:
            self.note("the rows of each table the migrations stamp would be recorded row by row")
            return
        for name in self.env.database.names:
            stamped = set((self.state.rehearsed.get(name) or {}).get("stamped") or {})
            listed = self.db.query(name, TABLES_WITH_ID_SQL) if stamped else []
            tables = [t for t in tables_with_id(listed) if t in stamped]
            if not tables:
                self.state.release_rows_stamped[name] = ""
                continue
            path = self._new_file(name, "-stamped")
            size = int(self.db.scalar(name, f"SELECT pg_database_size('{name}')") or 0)
            self._written(
                name,
                path,
                self.target.run_to_file(
                    read(self.db.argv(name, way_back.digests_sql(tables))),  # beside the dumps
                    path,
                    env=client_env(self.deployment.password),
                    timeout=timeout_for(size),
                ),
            )
            self.state.release_rows_stamped[name] = str(path)
        self.record.facts["release_rows_stamped"] = self.state.release_rows_stamped
        read_live = {n: p for n, p in self.state.release_rows_stamped.items() if p}
        self.note(
            "rows of the stamped tables as the upgrade left them, read live: "
            + (", ".join(read_live.values()) or "no migration stamps a table")
        )

    def save_from_copies(self) -> None:
        """Once users are back in, the digest of every other row, read from the copy the row
        check proved equal to the upgraded database, joined after the stamped ones into one
        file per database; its line count must be both parts' rows."""
        if self.deployment.planning:
            self.note(
                "the rows of every other table would be recorded from the copies migrated "
                "beside the upgrade"
            )
            return
        copies = self.resource(WindowCopies)
        for name in self.env.database.names:
            require(
                name in self.state.release_rows_stamped,
                f"the rows of {name}'s stamped tables were not recorded inside the window: "
                "no record of its rows as the upgrade left them can be completed",
            )
            stamped = set((self.state.rehearsed.get(name) or {}).get("stamped") or {})
            expected = copies.expectations()[name].fingerprints
            copy = copies.migrated(name)
            query = copy.query(TABLES_WITH_ID_SQL, database=copy.unmigrated)
            tables = [t for t in tables_with_id(query) if t not in stamped]
            seconds = timeout_for(sum(int(v.get("bytes", 0)) for v in expected.values()))
            argv = copy.exec_argv(
                ["psql", *psql.FLAGS, "-U", copy.owner, "-d", copy.unmigrated]
                + ["-c", way_back.digests_sql(tables)],
                seconds,
            )
            part = self.state.release_rows_stamped[name]
            path = self._new_file(name, "")
            self._written(
                name,
                path,
                self.target.run_to_file(
                    files.preceded_by(part, argv) if part else argv,
                    path,
                    env=copy.CLIENT_ENV,
                    timeout=seconds + 60,
                ),
            )
            rows = sum(int(expected[t]["count"]) for t in tables)
            want = rows + (self._lines(part) if part else 0)
            got = self._lines(str(path))
            if got != want:
                self.target.remove(path)
                raise CheckFailed(
                    f"the record of {name}'s rows as the upgrade left them holds {got} rows, "
                    f"not {want} ({rows} of the migrated copy's tables"
                    + (f", the rest from {part})" if part else ")")
                )
            if part:
                self.target.remove(Path(part))
            self.state.release_rows[name] = str(path)
        self.record.facts["release_rows"] = self.state.release_rows
        self.note(
            "rows as the upgrade left them, row by row: "
            + ", ".join(self.state.release_rows.values())
        )

    def _new_file(self, name: str, part: str) -> Path:
        return dumps.dump_name(
            f"{dumps.kind_for(name)}-after-release{part}",
            self.deployment.day,
            self.env.backup_dir,
            self.target.exists,
            suffix=".rows",
        )

    def _written(self, name: str, path: Path, result: Result) -> None:
        if not result.ok:
            self.target.remove(path)
            raise CheckFailed(
                f"the rows of {name} could not be recorded (exit {result.rc}): "
                f"{self.target.redactor(result.tail(1))}"
            )

    def _lines(self, path: str) -> int:
        result = self.target.run(files.line_count(path))
        require(result.ok, f"{path} could not be read: {self.target.redactor(result.tail(1))}")
        return int(result.stdout.split()[0])
