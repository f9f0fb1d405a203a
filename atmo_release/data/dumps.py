"""Database dumps that are proven by restoring them, before anything is stopped.

The runbook's `pg_dump`s are its only safety net and nobody checks them. Here each dump is taken
as the database owner (from the host or from a compose service), named as the runbook names it
without overwriting an earlier dump of the day, then restored into a throwaway PostgreSQL of the
same major version, whose per-table row counts must equal the source's.

Format: plain SQL, as the runbook takes it, because the first deployment loads the dumps with
`psql` or through the Postgres init directory, which only runs `*.sql` and `*.sh`; a plain dump
also ends with a trailer line, so truncation is seen before a restore is even tried.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from atmo_release.checks import CheckFailed
from atmo_release.commands import files, pg
from atmo_release.commands.compose import Compose
from atmo_release.data.client import DatabaseClient
from atmo_release.data.sessions import client_env
from atmo_release.environment import Database
from atmo_release.target import Target

KINDS = ("atmo", "tropo")
KIND_OF_DATABASE = {"atmo_prod": "atmo", "troposphere": "tropo"}
VERIFY_IMAGE = "atmo-rehearsal/postgres:15"
# The last lines pg_dump writes; a plain dump without them was cut short.
TRAILER = b"-- PostgreSQL database dump complete"
TAIL_BYTES = 4096


@dataclass(frozen=True)
class DumpResult:
    """One dump file: where it is, how big, and how long pg_dump took."""

    database: str
    path: Path
    bytes: int
    seconds: float

    def as_record(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path), "seconds": round(self.seconds, 2)}


def kind_for(dbname: str) -> str:
    """The runbook's file prefix for a database: atmo_prod -> atmo, troposphere -> tropo."""
    return KIND_OF_DATABASE.get(dbname, dbname)


def dump_name(
    kind: str, day: date, directory: Path, exists: Callable[[Path], bool], suffix: str = ".sql"
) -> Path:
    """`<kind>-YYYY-MM-DD.sql`, or `.2.sql`, `.3.sql`... so an earlier dump of the day survives."""
    stem = f"{kind}-{day.isoformat()}"
    candidate = directory / f"{stem}{suffix}"
    number = 2
    while exists(candidate):
        candidate = directory / f"{stem}.{number}{suffix}"
        number += 1
    return candidate


def check_complete(target: Target, path: Path) -> int:
    """The dump's size; CheckFailed when it is missing, empty or lacks pg_dump's trailer.

    Read by `stat` and `tail` on the target, where the dump is: only its last bytes travel.
    """
    found = target.run(files.mode_and_size(path))
    fields = found.stdout.split()
    if not found.ok or len(fields) != 2 or not stat.S_ISREG(int(fields[0], 16)):
        raise CheckFailed(f"dump {path} does not exist")
    size = int(fields[1])
    if size == 0:
        raise CheckFailed(f"dump {path} is empty (0 bytes)")
    if TRAILER.decode() not in read_dump(target, files.last_bytes(path, TAIL_BYTES), path):
        raise CheckFailed(
            f"dump {path} is truncated or not a plain pg_dump: its {size} bytes do not end "
            f"with pg_dump's '{TRAILER.decode()}' line"
        )
    return size


def dump(
    target: Target,
    database_config: Database,
    password: str,
    compose: Compose,
    dbname: str,
    path: Path,
    timeout: float = 3600,
    extra: Sequence[str] = (),
) -> DumpResult:
    """pg_dump `dbname` as the database owner into the new file `path`, from the host or service.

    A failed or incomplete dump raises CheckFailed and its file is removed, so nothing half
    written can later be taken for a backup.
    """
    started = time.monotonic()
    env = client_env(password)
    if database_config.where == "host":
        argv = pg.host_dump(
            database_config.host,
            database_config.port,
            database_config.user,
            dbname,
            str(path),
            extra,
        )
        # pg_dump -f keeps the mode of the file it finds: readable by its owner only
        if not target.create_exclusive(path, "", 0o600):
            raise CheckFailed(f"dump {path} exists already: it is never overwritten")
        result = target.run(argv, env=env, timeout=timeout)
        where = f"the host database at {database_config.host}:{database_config.port}"
    else:
        argv = pg.service_dump(
            compose,
            database_config.service,
            database_config.user,
            dbname,
            env=dict.fromkeys(env),
            extra=extra,
        )
        result = target.run_to_file(argv, path, env=env, timeout=timeout)
        where = f"the compose service {database_config.service}"
    if result.planned:
        return DumpResult(dbname, path, 0, 0.0)
    if not result.ok:
        target.remove(path)
        raise CheckFailed(
            f"pg_dump of {dbname} from {where} failed (exit {result.rc}): {result.tail(2)}"
        )
    try:
        size = check_complete(target, path)
    except CheckFailed:
        target.remove(path)
        raise
    return DumpResult(dbname, path, size, time.monotonic() - started)


def row_counts(db_client: DatabaseClient, dbname: str) -> dict[str, int]:
    """Exact row count of every table in the public schema, in one query."""
    tables = [row[0] for row in db_client.query(dbname, pg.LIST_TABLES_SQL)]
    if not tables:
        return {}
    return {row[0]: int(row[1]) for row in db_client.query(dbname, pg.count_rows_sql(tables))}


# The roles a dump of a database names (its OWNER TO and GRANT lines): owners and grantees in
# schema public, the schema's own (after pg_upgrade, `postgres`), and the database's owner.
NAMED_ROLES_SQL = (
    "SELECT DISTINCT pg_get_userbyid(r) FROM ("
    "SELECT nspowner AS r FROM pg_namespace WHERE nspname = 'public' "
    "UNION SELECT (aclexplode(nspacl)).grantee FROM pg_namespace WHERE nspname = 'public' "
    "UNION SELECT relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' "
    "UNION SELECT (aclexplode(relacl)).grantee FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
    "UNION SELECT datdba FROM pg_database WHERE datname = current_database()"
    ") AS named WHERE r <> 0 AND pg_get_userbyid(r) <> 'pg_database_owner' ORDER BY 1"
)


def named_roles(db_client: DatabaseClient, dbname: str, besides: str) -> list[str]:
    """The roles other than `besides` that a throwaway server needs to restore a dump of
    `dbname`: the roles its OWNER TO and GRANT lines name."""
    return [row[0] for row in db_client.query(dbname, NAMED_ROLES_SQL) if row[0] != besides]


def read_dump(target: Target, argv: Sequence[str], path: Path) -> str:
    """What a read of the dump prints, as text: the target replaces bytes that are not."""
    result = target.run(argv)
    if not result.ok:
        raise CheckFailed(f"dump {path} could not be read: {result.tail(1)}")
    return result.stdout


def compare_counts(source: Mapping[str, int], restored: Mapping[str, int]) -> list[str]:
    """One phrase per table whose rows differ, is missing from the restore, or is extra."""
    problems = [
        f"{table}: {count} rows in the source, {restored[table]} restored"
        for table, count in sorted(source.items())
        if table in restored and restored[table] != count
    ]
    problems += [
        f"{table} is missing from the restore" for table in sorted(source) if table not in restored
    ]
    problems += [
        f"{table} is not in the source" for table in sorted(restored) if table not in source
    ]
    return problems


def require_counts(path: Path, source: Mapping[str, int], restored: Mapping[str, int]) -> None:
    problems = compare_counts(source, restored)
    if problems:
        raise CheckFailed(
            f"dump {path} restored, but its row counts differ from the source's: "
            + "; ".join(problems[:10])
            + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
        )
