"""Every row as the upgrade left it, recorded on release day beside the dumps: what a later
rollback by hand counts as written since the release (restoring a dump would discard it)."""

from __future__ import annotations

from atmo_release.checks import CheckFailed
from atmo_release.commands import read
from atmo_release.data import dumps, way_back
from atmo_release.data.fingerprint import timeout_for
from atmo_release.data.sessions import client_env
from atmo_release.resources import Resource
from atmo_release.resources.todays_copy import TABLES_WITH_ID_SQL, tables_with_id


class ReleaseRows(Resource):
    def save(self) -> None:
        """Every row's digest as the upgrade left it, into a file beside the dumps: what a
        later rollback counts as written since (a dump would discard it)."""
        if self.deployment.planning:
            self.note("each table's rows would be recorded row by row beside the dumps")
            return
        for name in self.env.database.names:
            tables = tables_with_id(self.db.query(name, TABLES_WITH_ID_SQL))
            path = dumps.dump_name(
                f"{dumps.kind_for(name)}-after-release",
                self.deployment.day,
                self.env.backup_dir,
                self.target.exists,
                suffix=".rows",
            )
            size = int(self.db.scalar(name, f"SELECT pg_database_size('{name}')") or 0)
            result = self.target.run_to_file(
                read(self.db.argv(name, way_back.digests_sql(tables))),  # beside the dumps
                path,
                env=client_env(self.deployment.password),
                timeout=timeout_for(size),
            )
            if not result.ok:
                self.target.remove(path)
                raise CheckFailed(
                    f"the rows of {name} could not be recorded (exit {result.rc}): "
                    f"{self.target.redactor(result.tail(1))}"
                )
            self.state.release_rows[name] = str(path)
        self.record.facts["release_rows"] = self.state.release_rows
        self.note(
            "rows as the upgrade left them, row by row: "
            + ", ".join(self.state.release_rows.values())
        )
