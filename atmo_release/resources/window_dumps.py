"""What users and tasks wrote after the proven dumps, dumped again once the apps stopped, so a
rollback loses none of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atmo_release.checks import CheckFailed, require
from atmo_release.commands import pg
from atmo_release.data import dumps, row_checks, window_rows
from atmo_release.data.fingerprint import Fingerprints, same
from atmo_release.data.sessions import client_env
from atmo_release.resources import Resource


class WindowDumps(Resource):
    def dump_written_tables(self) -> None:
        """Dump again each table written since the proven dump: only its new rows when it just
        grew, else all its rows (maintenance records aside: a rollback carries the active ones
        over itself)."""
        if self.deployment.planning:
            self.note("the tables written since the proven dumps would be dumped again")
            return
        for name, info in self.state.dumps.items():
            maintenance = {
                self.service(app).maintenance_table
                for app in self.apps
                if self.service(app).database == name
            }
            dumped, stopped = info.get("fingerprints") or {}, self.state.snapshot_before[name]
            changed = [
                table
                for table in row_checks.changed_tables(dumped, stopped)
                if table in stopped and table not in maintenance
            ]
            grown = self._grown_only(name, dumped, changed)
            window: dict[str, Any] = {"tables": [t for t in changed if t not in grown]}
            if window["tables"]:
                path = self._new_file(f"{dumps.kind_for(name)}-window")
                result = dumps.dump(
                    self.target,
                    self.env.database,
                    self.deployment.password,
                    self.compose,
                    name,
                    path,
                    extra=pg.tables_only(window["tables"]),
                )
                window.update(result.as_record())
            window["grown"] = {t: self._dump_new_rows(name, t, last) for t, last in grown.items()}
            info["window"] = window
            parts = [f"all rows of {', '.join(window['tables'])}"] if window["tables"] else []
            parts += [f"the new rows of {table}" for table in window["grown"]]
            self.note(
                f"{name}: dumped again, as written since the proven dump: "
                + ("; ".join(parts) or "nothing")
            )
        self.record.facts["dumps"] = self.state.dumps

    def _new_file(self, kind: str, suffix: str = ".sql") -> Path:
        return dumps.dump_name(
            kind, self.deployment.day, self.env.backup_dir, self.target.exists, suffix=suffix
        )

    def _grown_only(self, name: str, dumped: Fingerprints, tables: list[str]) -> dict[str, int]:
        """The tables whose rows up to the dump's highest id are still the dump's: {table: id};
        those the stopped reading's change markers proved so are not read again."""
        last = {t: dumped[t]["max_id"] for t in tables if (dumped.get(t) or {}).get("max_id")}
        proven = set(self.state.grown_since_dump.get(name) or []) & set(last)
        doubt = {t: n for t, n in last.items() if t not in proven}
        old = self.db.fingerprints(name, list(doubt), upto=doubt) if doubt else {}
        return {t: n for t, n in last.items() if t in proven or same(old.get(t), dumped[t])}

    def _dump_new_rows(self, name: str, table: str, last_id: int) -> dict[str, Any]:
        path = self._new_file(f"{dumps.kind_for(name)}-window-{table}", ".rows")
        result = self.target.run_to_file(
            self.db.argv(name, window_rows.rows_after_sql(table, last_id)),
            path,
            env=client_env(self.deployment.password),
        )
        if not result.ok:
            self.target.remove(path)
            raise CheckFailed(
                f"the new rows of {name}.{table} could not be dumped (exit {result.rc}): "
                f"{self.target.redactor(result.tail(1))}"
            )
        sequence = self.db.scalar(name, window_rows.sequence_value_sql(table))
        return {
            "path": str(path),
            "after_id": last_id,
            "sequence": int(sequence) if sequence else None,
            "seconds": round(result.seconds, 2),
        }

    def check(self) -> None:
        """Each window dump holds what the stopped database has: all rows of a rewritten
        table, and exactly the rows a grown table gained since the proven dump."""
        for name, info in self.state.dumps.items():
            window = info.get("window")
            require(window is not None, f"no window dump of {name} was considered")
            stopped, dumped = self.state.snapshot_before[name], info.get("fingerprints") or {}
            if window["tables"]:
                path = Path(window["path"])
                dumps.check_complete(self.target, path)
                window_rows.require_rows(
                    path,
                    window_rows.rows_in_dump(self.target, path),
                    {t: stopped[t]["count"] for t in window["tables"]},
                )
            for table, grown in window.get("grown", {}).items():
                path = Path(grown["path"])
                lines = self.run(window_rows.count_lines(path), f"wc -l {path}").stdout
                window_rows.require_rows(
                    path,
                    {table: int(lines.split()[0])},
                    {table: stopped[table]["count"] - dumped[table]["count"]},
                )
