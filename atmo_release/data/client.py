"""Reads the databases through psql on the target: maintenance records and fingerprints,
every session with the same explicit settings (`sessions.client_env`)."""

from __future__ import annotations

from dataclasses import dataclass

from atmo_release.checks import CheckFailed
from atmo_release.commands import Read, psql
from atmo_release.commands.compose import Compose
from atmo_release.data import change_markers
from atmo_release.data.fingerprint import Fingerprints, fingerprint_database
from atmo_release.data.sessions import client_env
from atmo_release.environment import Database
from atmo_release.target import Target


@dataclass
class DatabaseClient:
    target: Target
    config: Database
    password: str
    compose: Compose

    def query(self, database: str, sql: str, timeout: float = 120) -> list[list[str]]:
        """Rows of a statement that only reads (a plan runs it)."""
        return self._psql(database, Read(self.argv(database, sql)), timeout)

    def execute(self, database: str, sql: str, timeout: float = 120) -> list[list[str]]:
        """Rows of a statement that writes (a plan records it instead)."""
        return self._psql(database, self.argv(database, sql), timeout)

    def argv(self, database: str, sql: str, *more: str) -> list[str]:
        """psql running `sql` (then `more`, in one session) where the database is (a change
        unless wrapped as a `Read`)."""
        if self.config.where == "host":
            return psql.host_query(
                self.config.host, self.config.port, self.config.user, database, sql, *more
            )
        return self.compose.exec_(
            self.config.service,
            psql.service_query(self.config.user, database, sql, *more),
            env=dict.fromkeys(client_env(self.password)),
        )

    def _psql(self, database: str, argv: list[str], timeout: float) -> list[list[str]]:
        result = self.target.run(argv, env=client_env(self.password), timeout=timeout)
        if not result.ok:
            raise CheckFailed(f"database {database} could not be queried: {result.tail(2)}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def scalar(self, database: str, sql: str) -> str:
        rows = self.query(database, sql)
        return rows[0][0] if rows else ""

    def active_maintenance(self, database: str, table: str) -> int:
        return int(self.scalar(database, f"SELECT count(*) FROM {table} WHERE end_date IS NULL"))

    def active_records(self, database: str, table: str) -> list[tuple[str, str]]:
        """(title, message) of each active record, hex-encoded in transit so any text survives."""
        rows = self.query(
            database,
            f"SELECT encode(convert_to(title, 'UTF8'), 'hex'), "
            f"encode(convert_to(message, 'UTF8'), 'hex') FROM {table} "
            "WHERE end_date IS NULL ORDER BY id",
        )
        return [(bytes.fromhex(t).decode(), bytes.fromhex(m).decode()) for t, m in rows]

    def fingerprints(
        self,
        database: str,
        tables: list[str] | None = None,
        upto: dict[str, int] | None = None,
        after: dict[str, int] | None = None,
    ) -> Fingerprints:
        """Every table (or only `tables`, up to an id or above one) in one streaming pass
        each."""
        return fingerprint_database(
            lambda sql, timeout: self.query(database, sql, timeout),
            tables,
            upto,
            after,
            batch=lambda sqls, timeout: self.batch(database, sqls, timeout),
        )

    def counts_upto(self, database: str, upto: dict[str, int]) -> dict[str, int]:
        """Per table, its rows with an id up to the one given (or with none), in one session."""
        tables = sorted(upto)
        sqls = [change_markers.count_upto_sql(table, upto[table]) for table in tables]
        rows = self.batch(database, sqls, 3600)
        return {table: int(row[0]) for table, row in zip(tables, rows, strict=True)}

    def markers(self, database: str) -> change_markers.Markers:
        """Every table's change markers, and whether they can be trusted (taken again while
        a session that just ended may still be leaving)."""
        return change_markers.settled(
            lambda: change_markers.read(
                lambda sql: self.scalar(database, sql),
                lambda sqls: self.batch(database, sqls, 60),
            )
        )

    def batch(self, database: str, sqls: list[str], timeout: float) -> list[list[str]]:
        """The rows of statements that only read, run one after another in one session."""
        return self._psql(database, Read(self.argv(database, *sqls)), timeout)
