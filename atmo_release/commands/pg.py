"""pg_dump and restore command lines; passwords go by environment, never into argv."""

from __future__ import annotations

from collections.abc import Sequence

from atmo_release.commands import Read
from atmo_release.commands.compose import Compose
from atmo_release.commands.psql import connection

# Plain SQL, as the runbook takes it: psql and the Postgres init directory can load it.
# -w: never prompt for a password (no TTY here); a missing or wrong one fails at once.
_DUMP_FLAGS = ["--format=plain", "-w"]


def tables_only(tables: Sequence[str]) -> list[str]:
    """pg_dump flags for the rows of exactly these public tables (and their sequences)."""
    patterns = ['public."' + table.replace('"', '""') + '"' for table in tables]
    return ["--data-only", *(item for pattern in patterns for item in ("-t", pattern))]


def host_dump(
    host: str, port: int, user: str, database: str, path: str, extra: Sequence[str] = ()
) -> list[str]:
    """pg_dump on the target against the host database, written by pg_dump itself to `path`."""
    return ["pg_dump", *connection(user, database, host, port), *_DUMP_FLAGS, *extra, "-f", path]


def service_dump(
    compose: Compose,
    service: str,
    user: str,
    database: str,
    env: dict[str, str | None] | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """pg_dump in the compose service; the dump is its stdout (exec -T: no TTY to corrupt it)."""
    argv = ["pg_dump", *connection(user, database), *_DUMP_FLAGS, *extra]
    return compose.exec_(service, argv, env=env)


# Counts the data lines of each COPY block of a plain dump in one streaming pass. Inside a block
# a data line is never `\.` alone (pg_dump escapes backslashes), so that line ends the block.
_COUNT_COPY_ROWS = (
    't != "" && $0 == "\\\\." { t = ""; next } '
    't != "" { n[t]++; next } '
    '/^COPY / { t = substr($0, 6); sub(/ (\\(.*\\) )?FROM stdin;$/, "", t); n[t] += 0 } '
    'END { for (k in n) print k "\\t" n[k] }'
)


def count_copy_rows(path: str) -> Read:
    """awk printing `schema.table<TAB>rows` for each table whose rows a plain dump holds."""
    return Read(["awk", _COUNT_COPY_ROWS, path])


def restore_plain(user: str, database: str, path: str) -> list[str]:
    """psql loading a plain dump in one transaction, stopping at the first error."""
    return [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "--single-transaction",
        "-w",
        *connection(user, database),
        "-f",
        path,
    ]


def count_rows_sql(tables: list[str]) -> str:
    """One query with the exact row count of each table: a line `table<TAB>count` per table."""
    quoted = ['"' + table.replace('"', '""') + '"' for table in tables]
    literals = ["'" + table.replace("'", "''") + "'" for table in tables]
    return " UNION ALL ".join(
        f"SELECT {literal}, count(*) FROM public.{name}"
        for literal, name in zip(literals, quoted, strict=True)
    )


LIST_TABLES_SQL = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
)


def host_restore(host: str, port: int, user: str, database: str, path: str) -> list[str]:
    """restore_plain against a server reached over TCP (the host database)."""
    return ["psql", "-h", host, "-p", str(port), *restore_plain(user, database, path)[1:]]


def ready(user: str) -> Read:
    """pg_isready over TCP, run beside the server: the postgres images' init server listens on
    the socket only, so this answers only from the server that stays once init has finished."""
    return Read(["pg_isready", "-h", "127.0.0.1", "-U", user])


def service_ready(compose: Compose, service: str, user: str) -> list[str]:
    return compose.exec_(service, ready(user))
