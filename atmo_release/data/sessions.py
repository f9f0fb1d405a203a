"""Who else is connected to the deployment's databases, from `pg_stat_activity`: once the apps
have stopped, anything still connected (a cron `manage.py`, a Celery worker elsewhere, an admin's
psql) may write after the "before" is read, and a rollback would remove what it wrote.

The run's own sessions carry the application name `APPLICATION_NAME` (every psql and pg_dump it
starts sets PGAPPNAME, `client_env`), so they are never counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from atmo_release.commands.psql import PGOPTIONS

APPLICATION_NAME = "atmo-release"
# What the address column holds for a session whose details the reading role may not see.
HIDDEN = "?"
_UTC = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''


def client_env(password: str | None = None) -> dict[str, str]:
    """The environment of every psql or pg_dump the run starts (the deployment's server, the
    throwaway copies): its name, the same explicit session settings (`psql.SESSION_SETTINGS`),
    and the password when there is one. Values travel by environment only: a `docker exec` or
    compose exec is given their names (`dict.fromkeys`), never a value in argv."""
    env = {"PGAPPNAME": APPLICATION_NAME, "PGOPTIONS": PGOPTIONS}
    if password is not None:
        env["PGPASSWORD"] = password
    return env


def _utc(column: str) -> str:
    """A timestamp in UTC whatever the session's TimeZone, "" when absent."""
    return f"coalesce(to_char({column} AT TIME ZONE 'UTC', {_UTC}), '')"


def _hex(column: str) -> str:
    """Text hex-encoded in transit, so a tab or a newline in a name cannot break the row."""
    return f"encode(convert_to(coalesce({column}, ''), 'UTF8'), 'hex')"


def sessions_sql(databases: Sequence[str]) -> str:
    """Every client session on `databases` but the run's own, oldest first (the server's view
    is cluster-wide: one query on any database sees them all)."""
    names = ", ".join("'" + name.replace("'", "''") + "'" for name in databases)
    return (
        f"SELECT pid, datname, {_hex('usename')}, {_hex('application_name')}, "
        f"CASE WHEN state IS NULL THEN '{HIDDEN}' WHEN client_addr IS NULL THEN '' "
        f"ELSE host(client_addr) END, {_utc('backend_start')}, coalesce(state, ''), "
        f"{_utc('xact_start')} FROM pg_stat_activity WHERE datname IN ({names}) "
        "AND pid <> pg_backend_pid() AND coalesce(backend_type, 'client backend') = "
        f"'client backend' AND application_name IS DISTINCT FROM '{APPLICATION_NAME}' "
        "ORDER BY backend_start, pid"
    )


@dataclass(frozen=True)
class Session:
    pid: int
    database: str
    user: str
    application: str
    address: str  # "" for the local socket, HIDDEN when the reading role may not see it
    since: str
    state: str
    transaction_since: str

    @property
    def where(self) -> str:
        if self.address == HIDDEN:
            return "an address this role may not see (pg_read_all_stats shows it)"
        return f"from {self.address}" if self.address else "over the local socket"

    def describe(self) -> str:
        """`pid 4242 atmo_app@atmo_prod from 172.18.0.9, application 'psql', connected since
        2026-12-01T09:00:00Z, idle in transaction (its transaction open since ...)`."""
        application = f"application {self.application!r}" if self.application else "no name"
        since = f", connected since {self.since}" if self.since else ""
        state = f", {self.state}" if self.state else ""
        open_since = (
            f" (its transaction open since {self.transaction_since})"
            if self.transaction_since
            else ""
        )
        return (
            f"pid {self.pid} {self.user}@{self.database} {self.where}, {application}"
            f"{since}{state}{open_since}"
        )


def parse(rows: Iterable[Sequence[str]]) -> list[Session]:
    return [
        Session(
            pid=int(pid),
            database=database,
            user=bytes.fromhex(user).decode(),
            application=bytes.fromhex(application).decode(),
            address=address,
            since=since,
            state=state,
            transaction_since=transaction,
        )
        for pid, database, user, application, address, since, state, transaction in rows
    ]


def not_from(sessions: Iterable[Session], addresses: set[str]) -> list[Session]:
    """The sessions that do not come from any of `addresses` (the apps' own)."""
    return [session for session in sessions if session.address not in addresses]
