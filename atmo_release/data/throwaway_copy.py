"""A throwaway PostgreSQL on the target holding one dump: the proof that the dump restores,
the copy the release's migrations are rehearsed on, and an unmigrated twin of it kept for the
maintenance window."""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atmo_release.checks import CheckFailed
from atmo_release.commands import Read, docker, files, pg, psql
from atmo_release.data import change_markers
from atmo_release.data.dumps import (
    TAIL_BYTES,
    VERIFY_IMAGE,
    check_complete,
    read_dump,
    require_counts,
)
from atmo_release.data.fingerprint import Fingerprints, fingerprint_database, quote
from atmo_release.data.sessions import client_env
from atmo_release.labels import RUN_LABEL, run_labels
from atmo_release.target import Target

_VERSION_LINE = re.compile(r"^-- Dumped from database version (\d+)", re.MULTILINE)
# The throwaway server may lose everything on a crash: it trades durability for restore speed.
THROWAWAY_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "maintenance_work_mem=256MB",
    "max_wal_size=4GB",
)


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


def dump_major(target: Target, path: Path) -> int | None:
    """The source server's major version, from the header pg_dump writes first."""
    match = _VERSION_LINE.search(read_dump(target, files.first_bytes(path, TAIL_BYTES), path))
    return int(match.group(1)) if match else None


def _first_error(stderr: str) -> str:
    """psql's first ERROR/FATAL line (its later lines only point at the error), else the last."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR:" in line or "FATAL:" in line]
    return (errors or lines or ["no output"])[0 if errors else -1][:300]


class ThrowawayCopy:
    """A labelled throwaway PostgreSQL holding one dump restored as database `verify`.

    `open()` starts it on the target with the docker CLI and restores the dump; it stays up for
    more reads (fingerprints, the release's migrations) until `close()`. `keep_unmigrated()`
    copies `verify` to database `window` inside the same server (a file copy, no second
    restore), which stays as the dump has it while `verify` is migrated. The container, its
    volumes and the containers in `helpers` (migrations run against it) carry the rehearsal and
    pid labels, so a sweeper removes them if this process dies. Every command it runs only
    creates, uses or removes throwaway things: each is a `Read`, so a plan runs them as a run
    does. Every session runs with `sessions.client_env()`'s settings (`exec_argv`).
    """

    DATABASE = "verify"
    WINDOW = "window"
    MOUNTED = "/dump"  # where the dump's folder is bind-mounted, read-only, in the container
    # The name the copy answers to on its internal network, the only thing there besides the
    # containers that use it (the release's migrations): no route to the host or anything else.
    HOST = "atmo-release-copy"
    # What every psql run in the container is given: the run's name and session settings.
    CLIENT_ENV = client_env()
    # How long the server may take to accept connections, and how often it is asked.
    ready_timeout = 120.0
    poll = 0.25

    def __init__(self, target: Target, path: Path, image: str, owner: str, run_id: str) -> None:
        self.target, self.path, self.image, self.owner = target, Path(path), image, owner
        if not self.path.is_absolute():
            raise ValueError(f"dump {path}: a bind mount needs an absolute path on the target")
        self.password = secrets.token_urlsafe(18)
        target.redactor.add([self.password])
        self.mounted = self.in_container(self.path)
        self.labels = run_labels(run_id)
        self.network = f"atmo-release-copy-{uuid.uuid4().hex[:12]}"
        self.network_made = False
        self.container_id = ""
        self.helpers: list[str] = []  # containers working on this server, removed with it
        self.unmigrated = ""  # the database holding the dump as it is, once kept
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.server_major = 0

    def open(self, roles: Sequence[str] = (), timeout: float = 3600) -> ThrowawayCopy:
        """Start the server, restore the dump and count its rows; CheckFailed when it cannot."""
        step = time.monotonic()
        self._start()
        self._wait_ready()
        self.seconds["start"] = time.monotonic() - step
        self.server_major = int(self.query("SHOW server_version_num")[0][0]) // 10000
        major = dump_major(self.target, self.path)
        if major is not None and major != self.server_major:
            raise CheckFailed(
                f"dump {self.path} comes from PostgreSQL {major}, but the throwaway server "
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

    def _image_volumes(self) -> list[str]:
        """The paths the image keeps in volumes (its PGDATA), pulling the image if it is not on
        the target: each gets a labelled volume instead of an anonymous one nobody can trace."""
        found = self.target.run(docker.image_volumes(self.image))
        if not found.ok:
            pulled = self.target.run(docker.pull_throwaway(self.image), timeout=1800)
            if not pulled.ok:
                raise CheckFailed(
                    f"the image {self.image} of the throwaway PostgreSQL could not be pulled: "
                    f"{pulled.tail(1)}"
                )
            found = self.target.run(docker.image_volumes(self.image))
        if not found.ok:
            raise CheckFailed(f"the image {self.image} cannot be inspected: {found.tail(1)}")
        return sorted(json.loads(found.stdout or "null") or {})

    def _start(self) -> None:
        """Its internal network, then the container on it, then start: once created, `close()`
        removes each even if the next never comes."""
        made = self.target.run(docker.create_internal_network(self.network, self.labels))
        if not made.ok:
            raise CheckFailed(
                f"the internal network of the throwaway PostgreSQL could not be created: "
                f"{made.tail(2)}"
            )
        self.network_made = True
        argv = docker.create_throwaway(
            self.image,
            ["postgres", *(arg for item in THROWAWAY_SETTINGS for arg in ("-c", item))],
            labels=self.labels,
            env={
                "POSTGRES_USER": self.owner,
                "POSTGRES_DB": self.DATABASE,
                "POSTGRES_PASSWORD": None,
            },
            mounts={str(self.path.parent): self.MOUNTED},
            volumes=self._image_volumes(),
            network=(self.network, self.HOST),
        )
        created = self.target.run(argv, env={"POSTGRES_PASSWORD": self.password}, timeout=300)
        if not created.ok:
            raise CheckFailed(
                f"the throwaway PostgreSQL ({self.image}) could not be created: {created.tail(2)}"
            )
        self.container_id = created.stdout.split()[-1]
        started = self.target.run(docker.start_throwaway(self.container_id), timeout=300)
        if not started.ok:
            raise CheckFailed(
                f"the throwaway PostgreSQL ({self.image}) could not be started: {started.tail(2)}"
            )

    def _wait_ready(self) -> None:
        """Until the server that stays answers. The entrypoint first runs an init server that
        listens on the socket only, then restarts: `pg_isready` over TCP answers only from the
        final server, and a `SELECT 1` then proves the database is there. A container that
        stops fails at once, one still silent after `ready_timeout` seconds fails then: both
        with its last log lines."""
        deadline = time.monotonic() + self.ready_timeout
        while True:
            rc = self.exec(pg.ready(self.owner), 10)[0]
            if rc == 0 and self.exec(self._psql("SELECT 1"), 10)[0] == 0:
                return
            status = self.target.run(docker.state(self.container_id)).stdout.strip()
            if status not in ("created", "running") or time.monotonic() >= deadline:
                logs = self.target.run(docker.logs(self.container_id, tail=5))
                what = (
                    f"did not accept connections within {self.ready_timeout:.0f} s"
                    if status == "running"
                    else f"stopped before accepting connections ({status or 'no container'})"
                )
                raise CheckFailed(
                    f"the throwaway PostgreSQL ({self.image}) {what}: "
                    f"{(logs.stderr + logs.stdout).strip()[-500:] or 'no log'}"
                )
            time.sleep(self.poll)

    def in_container(self, path: Path) -> str:
        """Where a file beside the dump (a window dump of the same backup folder) is seen."""
        if Path(path).parent != self.path.parent:
            raise ValueError(f"{path} is not in {self.path.parent}, the folder of the dump")
        return f"{self.MOUNTED}/{Path(path).name}"

    def exec_argv(self, argv: Sequence[str], timeout: float, *, stdin: bool = False) -> Read:
        """`argv` as root in the container (it can read any dump file), its PostgreSQL clients
        given `CLIENT_ENV` by name: run it with `env=CLIENT_ENV`, so no value is in argv."""
        return docker.exec_throwaway(
            self.container_id, argv, timeout, stdin=stdin, env=self.CLIENT_ENV
        )

    def exec(self, argv: Sequence[str], timeout: float) -> tuple[int, str, str]:
        """Run in the container as root (it can read any dump file); (rc, stdout, stderr)."""
        result = self.target.run(
            self.exec_argv(argv, timeout), env=self.CLIENT_ENV, timeout=timeout + 60
        )
        return result.rc, result.stdout, result.stderr

    def _psql(self, sql: str, database: str | None = None) -> list[str]:
        return ["psql", *psql.FLAGS, "-U", self.owner, "-d", database or self.DATABASE, "-c", sql]

    def rows_of(
        self, statements: list[str], timeout: float, database: str | None = None
    ) -> list[list[str]]:
        """The one row of each statement, all run by one psql in `database` (default
        `verify`)."""
        argv = ["psql", *psql.FLAGS, "-U", self.owner, "-d", database or self.DATABASE]
        rc, out, err = self.exec([*argv, *(i for sql in statements for i in ("-c", sql))], timeout)
        if rc != 0:
            raise CheckFailed(f"the throwaway PostgreSQL could not be read: {err.strip()[-300:]}")
        return [line.split("\t") for line in out.splitlines() if line]

    def fingerprints(self, database: str | None = None, **only: Any) -> Fingerprints:
        """`fingerprint.fingerprint_database` of `database` (default `verify`); `only` its
        `tables`, `upto` or `after`."""
        return fingerprint_database(
            lambda sql, timeout: self.query(sql, timeout, database),
            batch=lambda sqls, timeout: self.rows_of(sqls, timeout, database),
            **only,
        )

    def markers(self, database: str | None = None) -> change_markers.Markers:
        """`change_markers` of `database` (default `verify`), taken again while a client that
        just ended (a loader, a migration) may still be leaving."""
        return change_markers.settled(
            lambda: change_markers.read(
                lambda sql: self.query(sql, 60, database)[0][0],
                lambda sqls: self.rows_of(sqls, 60, database),
            )
        )

    def keep_unmigrated(self) -> None:
        """`window`: the restored dump as it is, while `verify` is migrated."""
        self.clone(self.WINDOW, self.DATABASE)
        self.unmigrated = self.WINDOW

    def clone(self, name: str, template: str) -> None:
        """Database `name` made anew as a file copy of `template` (nobody connected to it)."""
        strategy = " STRATEGY FILE_COPY" if self.server_major >= 15 else ""  # no WAL of it
        self.drop(name)
        self.query(
            f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}{strategy}",
            3600,
            database="postgres",
        )

    def drop(self, name: str) -> None:
        self.query(f"DROP DATABASE IF EXISTS {quote(name)}", 600, database="postgres")

    def query(self, sql: str, timeout: float = 600, database: str | None = None) -> list[list[str]]:
        """Rows of `sql` in `database` (default `verify`)."""
        rc, out, err = self.exec(self._psql(sql, database), timeout)
        if rc != 0:
            raise CheckFailed(
                f"the throwaway PostgreSQL could not be queried: {err.strip()[-300:]}"
            )
        return [line.split("\t") for line in out.splitlines() if line]

    def close(self) -> None:
        """Remove the server with its volumes (a restored copy may be as big as production's),
        the containers working on it, then its network."""
        while self.helpers:
            self.target.run(docker.remove_throwaway(self.helpers.pop()), timeout=300)
        if self.container_id:
            step = time.monotonic()
            result = self.target.run(docker.remove_throwaway(self.container_id), timeout=300)
            self.seconds["remove"] = time.monotonic() - step
            if not result.ok and "No such container" not in result.stderr:
                raise CheckFailed(
                    f"the throwaway PostgreSQL {self.container_id[:12]} ({self.image}) could not "
                    f"be removed: {result.tail(1)}"
                )
            self.container_id = ""
        if self.network_made:
            result = self.target.run(docker.remove_network(self.network), timeout=300)
            if not result.ok and "not found" not in result.stderr:
                raise CheckFailed(
                    f"the internal network {self.network} of the throwaway PostgreSQL could not "
                    f"be removed: {result.tail(1)}"
                )
            self.network_made = False


def remove_left_by(target: Target, run_id: str) -> int:
    """Remove what the throwaway servers of a run that died left (each holds a whole database),
    with the migrations run on them: every container labelled with its run id, then its
    internal networks. Returns how many containers went."""
    found = target.run(docker.labelled_containers(RUN_LABEL, run_id))
    containers = found.stdout.split() if found.ok else []
    for container in containers:
        target.run(docker.remove_throwaway(container), timeout=300)
    networks = target.run(docker.labelled_networks(RUN_LABEL, run_id))
    for network in networks.stdout.split() if networks.ok else []:
        target.run(docker.remove_network(network), timeout=300)
    return len(containers)


def verify_dump(
    target: Target,
    path: Path,
    source_counts: Mapping[str, int],
    image: str = VERIFY_IMAGE,
    *,
    owner: str = "atmo_app",
    roles: Sequence[str] = (),
    run_id: str | None = None,
    timeout: float = 3600,
) -> VerifyResult:
    """Restore `path` into a throwaway PostgreSQL on `target` and require `source_counts` per
    table.

    `owner` becomes the throwaway server's superuser, so the dump's `OWNER TO` lines apply;
    `roles` are other roles its GRANTs name. The server is removed before returning.
    Raises CheckFailed for an empty, truncated or unrestorable dump and for differing counts.
    """
    started = time.monotonic()
    path = Path(path)
    size = check_complete(target, path)
    copy = ThrowawayCopy(target, path, image, owner, run_id or f"verify-{uuid.uuid4().hex[:10]}")
    try:
        copy.open(roles, timeout)
    finally:
        copy.close()
    copy.seconds["total"] = time.monotonic() - started
    require_counts(path, source_counts, copy.counts)
    return VerifyResult(path, size, copy.server_major, copy.counts, copy.seconds)
