"""Reads the databases through psql on the target: maintenance records and row snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atmo_release.checks import CheckFailed
from atmo_release.commands import psql
from atmo_release.commands.compose import Compose
from atmo_release.environment import Database
from atmo_release.target import LocalTarget

# Tables whose rows the deployment itself changes.
_NOT_SNAPSHOT = {
    "django_migrations",
    "maintenance_record",
    "api_maintenancerecord",
    "django_session",
    "django_admin_log",
}


@dataclass
class DatabaseClient:
    target: LocalTarget
    config: Database
    password: str
    compose: Compose

    def query(self, database: str, sql: str) -> list[list[str]]:
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
        result = self.target.run(argv, env={"PGPASSWORD": self.password}, timeout=120)
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

    def tables(self, database: str) -> list[str]:
        rows = self.query(
            database,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        return [
            row[0]
            for row in rows
            if row[0] not in _NOT_SNAPSHOT and not row[0].startswith(("auth_", "django_"))
        ]

    def snapshot(self, database: str) -> dict[str, Any]:
        """Per table: the row count and an md5 of each column over all rows in id order."""
        tables: dict[str, Any] = {}
        for table in self.tables(database):
            columns = [
                row[0]
                for row in self.query(
                    database,
                    "SELECT column_name FROM information_schema.columns "
                    f"WHERE table_schema = 'public' AND table_name = '{table}' "
                    "ORDER BY ordinal_position",
                )
            ]
            order = "id" if "id" in columns else f"{table}::text"
            parts = ", ".join(
                f"md5(coalesce(string_agg(coalesce(\"{column}\"::text, '<null>'), '|' "
                f"ORDER BY {order}), ''))"
                for column in columns
            )
            row = self.query(database, f"SELECT count(*), {parts} FROM {table}")[0]
            tables[table] = {
                "count": int(row[0]),
                "columns": dict(zip(columns, row[1:], strict=True)),
            }
        return tables


def compare_snapshots(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(problems, notes): rows lost or changed are problems; columns and tables added are notes."""
    problems: list[str] = []
    notes: list[str] = []
    for table, old in before.items():
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
        notes += [
            f"{table}.{column} was added"
            for column in new["columns"]
            if column not in old["columns"]
        ]
    notes += [f"table {table} was added" for table in after if table not in before]
    return problems, notes
