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

import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from atmo_release.checks import CheckFailed
from atmo_release.commands import pg, psql
from atmo_release.commands.compose import Compose
from atmo_release.database import DatabaseClient
from atmo_release.environment import Database
from atmo_release.labels import run_labels
from atmo_release.target import Target

KINDS = ("atmo", "tropo")
KIND_OF_DATABASE = {"atmo_prod": "atmo", "troposphere": "tropo"}
VERIFY_IMAGE = "atmo-rehearsal/postgres:15"
# The last lines pg_dump writes; a plain dump without them was cut short.
TRAILER = b"-- PostgreSQL database dump complete"
_TAIL_BYTES = 4096
_VERSION_LINE = re.compile(rb"^-- Dumped from database version (\d+)", re.MULTILINE)
# The throwaway server may lose everything on a crash: it trades durability for restore speed.
THROWAWAY_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "maintenance_work_mem=256MB",
    "max_wal_size=4GB",
)


@dataclass(frozen=True)
class DumpResult:
    """One dump file: where it is, how big, and how long pg_dump took."""

    database: str
    path: Path
    bytes: int
    seconds: float

    def as_record(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path), "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class VerifyResult:
    """A dump restored into a throwaway server: its size, the counts it gave, the times taken."""

    path: Path
    bytes: int
    server_major: int
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def as_record(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "bytes": self.bytes,
            "server_major": self.server_major,
            "tables": len(self.counts),
            "rows": self.rows,
            "seconds": {key: round(value, 2) for key, value in self.seconds.items()},
        }


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


def check_complete(path: Path) -> int:
    """The dump's size; CheckFailed when it is missing, empty or lacks pg_dump's trailer."""
    if not path.is_file():
        raise CheckFailed(f"dump {path} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise CheckFailed(f"dump {path} is empty (0 bytes)")
    with path.open("rb") as dump:
        dump.seek(max(0, size - _TAIL_BYTES))
        tail = dump.read()
    if TRAILER not in tail:
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
    env = {"PGPASSWORD": password}
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
            compose, database_config.service, database_config.user, dbname, env=env, extra=extra
        )
        result = target.run_to_file(argv, path, env=env, timeout=timeout)
        where = f"the compose service {database_config.service}"
    if result.planned:
        return DumpResult(dbname, path, 0, 0.0)
    if not result.ok:
        path.unlink(missing_ok=True)
        raise CheckFailed(
            f"pg_dump of {dbname} from {where} failed (exit {result.rc}): {result.tail(2)}"
        )
    try:
        size = check_complete(path)
    except CheckFailed:
        path.unlink(missing_ok=True)
        raise
    return DumpResult(dbname, path, size, time.monotonic() - started)


def row_counts(db_client: DatabaseClient, dbname: str) -> dict[str, int]:
    """Exact row count of every table in the public schema, in one query."""
    tables = [row[0] for row in db_client.query(dbname, pg.LIST_TABLES_SQL)]
    if not tables:
        return {}
    return {row[0]: int(row[1]) for row in db_client.query(dbname, pg.count_rows_sql(tables))}


def _dump_major(path: Path) -> int | None:
    with path.open("rb") as dump:
        match = _VERSION_LINE.search(dump.read(_TAIL_BYTES))
    return int(match.group(1)) if match else None


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


def _first_error(stderr: str) -> str:
    """psql's first ERROR/FATAL line (its later lines only point at the error), else the last."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR:" in line or "FATAL:" in line]
    return (errors or lines or ["no output"])[0 if errors else -1][:300]


class RestoredCopy:
    """A labelled throwaway PostgreSQL holding one dump restored as database `verify`.

    `open()` starts it and restores the dump; it stays up for more reads (fingerprints, the
    release's migrations) until `close()`. The container carries the rehearsal and pid labels,
    so a sweeper removes it if this process dies.
    """

    DATABASE = "verify"

    def __init__(self, path: Path, image: str, owner: str, run_id: str) -> None:
        from testcontainers.community.postgres import PostgresContainer

        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
        self.path, self.image, self.owner = Path(path), image, owner
        self.password = secrets.token_urlsafe(18)
        self.mounted = f"/dump/{self.path.name}"
        self.container = PostgresContainer(
            image, username=owner, password=self.password, dbname=self.DATABASE, driver=None
        )
        self.container.ports["5432/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
        self.container.with_command(
            ["postgres", *(arg for item in THROWAWAY_SETTINGS for arg in ("-c", item))]
        )
        self.container.with_volume_mapping(str(self.path.resolve()), self.mounted, "ro")
        self.container.with_kwargs(labels=run_labels(run_id))
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.server_major = 0

    @property
    def container_id(self) -> str:
        return str(self.container.get_wrapped_container().id)

    def open(self, roles: Sequence[str] = (), timeout: float = 3600) -> RestoredCopy:
        """Start the server, restore the dump and count its rows; CheckFailed when it cannot."""
        step = time.monotonic()
        self.container.start()
        self.seconds["start"] = time.monotonic() - step
        self.server_major = int(self.query("SHOW server_version_num")[0][0]) // 10000
        dump_major = _dump_major(self.path)
        if dump_major is not None and dump_major != self.server_major:
            raise CheckFailed(
                f"dump {self.path} comes from PostgreSQL {dump_major}, but the throwaway server "
                f"({self.image}) is PostgreSQL {self.server_major}: restore it on the same "
                "major version"
            )
        for role in roles:
            self.query('CREATE ROLE "' + role.replace('"', '""') + '"')
        step = time.monotonic()
        rc, _, err = self.exec(pg.restore_plain(self.owner, self.DATABASE, self.mounted), timeout)
        self.seconds["restore"] = time.monotonic() - step
        if rc != 0:
            reason = "timed out" if rc == 124 else _first_error(err)
            raise CheckFailed(f"dump {self.path} could not be restored into {self.image}: {reason}")
        step = time.monotonic()
        tables = [row[0] for row in self.query(pg.LIST_TABLES_SQL)]
        self.counts = (
            {row[0]: int(row[1]) for row in self.query(pg.count_rows_sql(tables))} if tables else {}
        )
        self.seconds["count"] = time.monotonic() - step
        return self

    def exec(self, argv: Sequence[str], timeout: float) -> tuple[int, str, str]:
        """Run in the container as root (it can read any dump file); (rc, stdout, stderr)."""
        wrapped = self.container.get_wrapped_container()
        rc, (out, err) = wrapped.exec_run(
            ["timeout", str(int(timeout)), *argv], user="root", demux=True
        )
        return rc, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")

    def query(self, sql: str, timeout: float = 600) -> list[list[str]]:
        argv = ["psql", *psql.FLAGS, "-U", self.owner, "-d", self.DATABASE, "-c", sql]
        rc, out, err = self.exec(argv, timeout)
        if rc != 0:
            raise CheckFailed(
                f"the throwaway PostgreSQL could not be queried: {err.strip()[-300:]}"
            )
        return [line.split("\t") for line in out.splitlines() if line]

    def close(self) -> None:
        step = time.monotonic()
        self.container.stop()
        self.seconds["remove"] = time.monotonic() - step


def verify_dump(
    path: Path,
    source_counts: Mapping[str, int],
    image: str = VERIFY_IMAGE,
    *,
    owner: str = "atmo_app",
    roles: Sequence[str] = (),
    run_id: str | None = None,
    timeout: float = 3600,
) -> VerifyResult:
    """Restore `path` into a throwaway PostgreSQL and require `source_counts` per table.

    `owner` becomes the throwaway server's superuser, so the dump's `OWNER TO` lines apply;
    `roles` are other roles its GRANTs name. The server is removed before returning.
    Raises CheckFailed for an empty, truncated or unrestorable dump and for differing counts.
    """
    started = time.monotonic()
    size = check_complete(Path(path))
    copy = RestoredCopy(path, image, owner, run_id or f"verify-{uuid.uuid4().hex[:10]}")
    try:
        copy.open(roles, timeout)
    finally:
        copy.close()
    copy.seconds["total"] = time.monotonic() - started
    require_counts(Path(path), source_counts, copy.counts)
    return VerifyResult(Path(path), size, copy.server_major, copy.counts, copy.seconds)


def require_counts(path: Path, source: Mapping[str, int], restored: Mapping[str, int]) -> None:
    problems = compare_counts(source, restored)
    if problems:
        raise CheckFailed(
            f"dump {path} restored, but its row counts differ from the source's: "
            + "; ".join(problems[:10])
            + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
        )
