"""Reads the databases through psql on the target: maintenance records and fingerprints."""

from __future__ import annotations

from dataclasses import dataclass

from atmo_release.checks import CheckFailed
from atmo_release.commands import psql
from atmo_release.commands.compose import Compose
from atmo_release.environment import Database
from atmo_release.fingerprint import Fingerprints, fingerprint_database
from atmo_release.target import LocalTarget


@dataclass
class DatabaseClient:
    target: LocalTarget
    config: Database
    password: str
    compose: Compose

    def query(self, database: str, sql: str, timeout: float = 120) -> list[list[str]]:
        if self.config.where == "host":
            argv = psql.host_query(
                self.config.host, self.config.port, self.config.user, database, sql
            )
        else:
            argv = self.compose.exec_(
                self.config.service,
                psql.service_query(self.config.user, database, sql),
                env={"PGPASSWORD": self.password},
            )
        result = self.target.run(argv, env={"PGPASSWORD": self.password}, timeout=timeout)
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

    def fingerprints(self, database: str, tables: list[str] | None = None) -> Fingerprints:
        """Every table (or only `tables`) in one streaming pass each; see fingerprint.py."""
        return fingerprint_database(lambda sql, timeout: self.query(database, sql, timeout), tables)
