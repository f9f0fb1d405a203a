"""psql command lines for the host database or a compose service; the password goes by env.

Every session the run opens (psql, pg_dump, the throwaway copies' psql) carries the same
explicit settings in `PGOPTIONS` (`sessions.client_env`), whatever the cluster's defaults:
`value::text`, which the fingerprints hash and COPY writes, depends on the session's time zone,
date, interval, float and bytea styles. A cluster initialised on an Arizona host renders
`timestamptz` in America/Phoenix, the throwaway copy in UTC, and every table with a timestamp
would differ.
"""

from __future__ import annotations

FLAGS = ["-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1"]

SESSION_SETTINGS = (
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO,MDY"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),  # shortest exact floats, as pg_dump reads them
    ("bytea_output", "hex"),
    ("lc_monetary", "C"),
)
PGOPTIONS = " ".join(f"-c {name}={value}" for name, value in SESSION_SETTINGS)
# The same settings inside a statement, for a reading kept in a file and compared later.
SET_SESSION_SQL = "; ".join(f"SET {name} = '{value}'" for name, value in SESSION_SETTINGS)


def connection(user: str, database: str, host: str | None = None, port: int = 5432) -> list[str]:
    """The flags naming one database for psql and pg_dump: over TCP to `host`, else (inside
    the database's own container) its local socket."""
    where = ["-h", host, "-p", str(port)] if host is not None else []
    return [*where, "-U", user, "-d", database]


def host_query(host: str, port: int, user: str, database: str, sql: str, *more: str) -> list[str]:
    """psql running `sql` (then each of `more`, in one session); a change unless wrapped by
    `read` (for a SELECT)."""
    return ["psql", *connection(user, database, host, port), *FLAGS, *_c(sql, *more)]


def service_query(user: str, database: str, sql: str, *more: str) -> list[str]:
    return ["psql", *connection(user, database), *FLAGS, *_c(sql, *more)]


def _c(*statements: str) -> list[str]:
    return [item for sql in statements for item in ("-c", sql)]
