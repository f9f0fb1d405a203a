"""A throwaway Atmosphere deployment that the suite deploys to, brought up and torn down whole.

Layout under one temporary root, as on a real host:
    upstream.git/                bare "upstream" of the deploy checkout, one commit ahead
    atmosphere-docker/           the deploy checkout: docker-compose.prod.yml + a local edit
    atmosphere-docker-secrets/   git repository, branches prod, atmobeta, jetstream-prod
    rehearsal.toml               the environment, in the schema of environments/*.toml
Containers: a registry and the host Postgres (testcontainers), the apps (docker-compose v1).
The database is seeded small (about a hundred rows) unless `size_mb` asks for more: then
`atmo_prod` is grown with generated rows, set-based and in chunks, until it is that large.
Differences from production: a bridge network with ports published on 127.0.0.1 instead of
`network_mode: host`, images from a local registry, and the database in a container.
"""

from __future__ import annotations

import json
import os
import secrets as random_secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docker
import requests
from testcontainers.community.postgres import PostgresContainer
from testcontainers.core.container import DockerContainer

from rehearsal import images
from rehearsal.shell import Log, free_port, run, wait_until
from rehearsal.sweep import (
    HOST_LABEL,
    PID_LABEL,
    RUN_LABEL,
    Fate,
    fate,
    owner_labels,
    sweep_leftovers,
)

OLD_RELEASE, NEW_RELEASE = "v37-2", "v37-3"
DB_USER, DB_NAMES = "atmo_app", ("atmo_prod", "troposphere")
EXEMPT_USER = "atmo-release-bot"
TOKEN_ENV = "ATMO_RELEASE_REHEARSAL_TOKEN"

# The stack and, for callers that import them from here, the sweep's names (rehearsal.sweep).
__all__ = [
    "HOST_LABEL",
    "PID_LABEL",
    "RUN_LABEL",
    "Fate",
    "RehearsalStack",
    "fate",
    "owner_labels",
    "sweep_leftovers",
]
MIB = 1024 * 1024
# Growing atmo_prod (size_mb > 0): about this much per INSERT ... SELECT, then the size is read
# again; per 1000 events, this many users, instances and allocations come with them.
GROW_CHUNK_BYTES = 256 * MIB
GROW_FIRST_GUESS_BYTES_PER_EVENT = 640
GROW_PER_1000_EVENTS = {"users": 1, "instances": 20, "allocations": 4}
GROW_TIMEOUT_S = 900
POSTGRES_SHM = "1g"
# Checked once after growing, since the growth inserts without the per-row foreign key triggers.
GROW_FOREIGN_KEYS = (
    ("core_instance", "owner_id", "core_atmosphereuser"),
    ("core_allocation", "owner_id", "core_atmosphereuser"),
    ("core_event", "instance_id", "core_instance"),
)
# Event kinds as the seeds write them: some in upper or mixed case (release v37-94 lower-cases).
EVENT_KINDS = (
    "instance.launched",
    "instance.stopped",
    "INSTANCE.RESIZED",
    "Allocation.Exceeded",
    "volume.attached",
)
# Event payloads as SQL over the event's number k: short in the small seed, 440 to 520 characters
# (about 480, all different, too short for TOAST to compress) when growing.
SEED_PAYLOAD = """format('{"event": %s, "detail": "%s"}', k, md5(k::text))"""
SCALE_PAYLOAD = (
    """format('{"event": %s, "detail": "%s"}', k, """
    "substr(repeat(md5(k::text) || md5((k * 7)::text), 8), 1, 410 + (k % 80)::int))"
)
SCALE_EVENT_KINDS = (
    "instance.launched",
    "instance.started",
    "instance.stopped",
    "instance.suspended",
    "instance.resized",
    "INSTANCE.DELETED",
    "allocation.exceeded",
    "Volume.Attached",
)
SECRETS_BRANCH = "atmobeta"


@dataclass
class RehearsalStack:
    """Build with `up()`, always finish with `down()`; `env_file` is the environment to deploy."""

    log: Log = print
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atmo-rehearsal-")))
    ports: dict[str, int] = field(default_factory=dict)
    password: str = field(default_factory=lambda: random_secrets.token_urlsafe(18))
    token: str = field(default_factory=lambda: random_secrets.token_hex(20))
    secret_keys: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    # 0: the small seed only; else grow atmo_prod to at least this many MiB (rehearsal/size.py).
    size_mb: int = 0
    # The rows grow() added so far, per kind.
    grown: dict[str, int] = field(
        default_factory=lambda: {"events": 0, "users": 0, "instances": 0, "allocations": 0}
    )

    def __post_init__(self) -> None:
        if self.size_mb < 0:
            raise ValueError(f"size_mb must be 0 or more, not {self.size_mb}")
        self.client = docker.from_env()
        self.project = f"atmo-rehearsal-{self.run_id}"
        self.token_env = f"{TOKEN_ENV}_{self.run_id.upper()}"  # one per stack: several may run
        self.network = self.project
        self.labels = {
            RUN_LABEL: self.run_id,
            **owner_labels(),
            images.PROJECT_LABEL: images.PROJECT_LABEL_VALUE,
        }
        self.deploy_dir = self.root / "atmosphere-docker"
        self.secrets_dir = self.root / "atmosphere-docker-secrets"
        self.upstream = self.root / "upstream.git"
        self.compose_path = self.deploy_dir / "docker-compose.prod.yml"
        self.env_file = self.root / "rehearsal.toml"
        self.backup_dir = self.root / "backups"

    # -- lifecycle ------------------------------------------------------------------------------

    def up(self) -> RehearsalStack:
        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
        self._timed("sweep", lambda: sweep_leftovers(self.client, self.log))
        self._timed("images", lambda: images.ensure_images(log=self.log))
        self.client.networks.create(self.network, labels=self.labels)
        self._timed("registry", self._start_registry)
        self._timed("push", self._push_releases)
        self._timed("postgres", self._start_postgres)
        self._timed("repositories", self._make_repositories)
        self._timed("production", self._start_production)
        self._timed("seed", self._seed)
        if self.size_mb > 0:
            self.grow(self.size_mb)
        else:
            self.timings["seed_mb"] = round(self.database_size() / MIB, 1)
        self._write_environment()
        os.environ[self.token_env] = self.token
        return self

    def down(self) -> None:
        """Remove everything of this run; safe to call twice and after a half-done `up()`."""
        if self.compose_path.exists():
            run(self.compose("down", "--volumes", "--remove-orphans"), check=False)
        backups = [i for i in self.client.images.list(name=f"old_{self.project}_*")]
        for image in backups:
            self.client.images.remove(image.id, force=True)
        for reference in self._pulled_references():
            try:
                self.client.images.remove(reference, force=True)
            except docker.errors.ImageNotFound:
                pass
        sweep_leftovers(self.client, self.log, run_id=self.run_id)
        shutil.rmtree(self.root, ignore_errors=True)

    def _timed(self, name: str, action: Callable[[], object]) -> None:
        started = time.monotonic()
        action()
        self.timings[name] = round(time.monotonic() - started, 2)
        self.log(f"rehearsal {name}: {self.timings[name]} s")

    # -- containers -----------------------------------------------------------------------------

    def _start(self, container: DockerContainer, port: int, alias: str, **kwargs: object) -> None:
        """Start a testcontainer on loopback only, joined to the stack's network as `alias`;
        `kwargs` go to the Docker SDK's `containers.run`."""
        container.ports[f"{port}/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
        container.with_name(f"{self.project}-{alias}").with_kwargs(labels=self.labels, **kwargs)
        container.start()
        wrapped = container.get_wrapped_container()
        self.client.networks.get(self.network).connect(wrapped, aliases=[alias])
        self.ports[alias] = int(container.get_exposed_port(port))

    def _start_registry(self) -> None:
        self._start(DockerContainer(images.REGISTRY_IMAGE), 5000, "registry")
        self._wait(lambda: requests.get(f"http://{self.registry}/v2/", timeout=2).ok, "registry")

    @property
    def registry(self) -> str:
        return f"localhost:{self.ports['registry']}"

    def image(self, app: str) -> str:
        return f"{self.registry}/cyverse/{app}"

    def _push_releases(self) -> None:
        for app in images.APPS:
            for release in images.RELEASES:
                self.publish(app, release)

    def publish(self, app: str, release: str) -> str:
        """Push a stand-in release to the stack's registry (and drop the local tag), so that
        deploying it really pulls; the broken and the data releases (images.BROKEN_RELEASES,
        images.DATA_RELEASES) are published on demand this way."""
        local = f"atmo-rehearsal/{app}:release-{release}"
        # Reused when current (a few inspects, not logged); built when missing or stale.
        images.ensure_images([local], log=self._log_builds)
        remote = f"{self.image(app)}:release-{release}"
        run(["docker", "tag", local, remote])
        run(["docker", "push", remote], timeout=900)
        run(["docker", "image", "rm", remote])
        return remote

    def _log_builds(self, line: str) -> None:
        if ": reused in " not in line:
            self.log(line)

    def _pulled_references(self) -> list[str]:
        if "registry" not in self.ports:
            return []
        return [
            tag
            for image in self.client.images.list()
            for tag in image.tags
            if tag.startswith(self.registry + "/")
        ]

    def _start_postgres(self) -> None:
        volume = self.client.volumes.create(f"{self.project}-pgdata", labels=self.labels)
        container = PostgresContainer(
            images.POSTGRES_IMAGE,
            username=DB_USER,
            password=self.password,
            dbname=DB_NAMES[0],
            driver=None,
        )
        container.with_env("POSTGRES_EXTRA_DBS", " ".join(DB_NAMES[1:]))
        container.with_volume_mapping(volume.name, "/var/lib/postgresql/data", "rw")
        # A host's PostgreSQL has the host's /dev/shm; Docker's 64 MB default fails the shared
        # memory of VACUUM and parallel queries on a grown database ("No space left on device").
        self._start(container, 5432, "postgres", shm_size=POSTGRES_SHM)
        self._wait(lambda: self.psql(DB_NAMES[-1], "SELECT 1").strip() == "1", "postgres")

    def _wait(self, probe: Callable[[], bool], what: str, timeout: float = 120) -> None:
        wait_until(probe, what, timeout)

    def psql(self, database: str, sql: str, timeout: float = 60) -> str:
        done = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports["postgres"]),
                "-U",
                DB_USER,
                "-d",
                database,
                "-X",
                "-A",
                "-t",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PGPASSWORD": self.password},
            check=False,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql on {database} failed: {done.stderr.strip()[-300:]}")
        return done.stdout

    # -- repositories ---------------------------------------------------------------------------

    def compose_text(self, release: str) -> str:
        labels = "".join(f"      {key}: '{value}'\n" for key, value in self.labels.items())
        return (
            "---\nversion: '3'\n\nservices:\n\n"
            "  atmosphere:\n"
            f"    image: '{self.image('atmosphere')}:release-{release}'\n"
            "    volumes:\n"
            "      - '../atmosphere-docker-secrets:/opt/dev/atmosphere-docker-secrets'\n"
            "      - './logs/atmosphere:/opt/dev/atmosphere/logs'\n"
            "    ports:\n"
            f"      - '127.0.0.1:{self.ports['atmosphere']}:8000'\n"
            f"    labels:\n{labels}"
            "\n\n"
            "  troposphere:\n"
            f"    image: '{self.image('troposphere')}:release-{release}'\n"
            "    volumes:\n"
            "      - '../atmosphere-docker-secrets:/opt/dev/atmosphere-docker-secrets'\n"
            "      - './logs/troposphere:/opt/dev/troposphere/logs'\n"
            "    depends_on:\n"
            "      - 'atmosphere'\n"
            "    ports:\n"
            f"      - '127.0.0.1:{self.ports['troposphere']}:8001'\n"
            f"    labels:\n{labels}"
            "\n"
            "networks:\n  default:\n    external:\n"
            f"      name: '{self.network}'\n"
        )

    def _make_repositories(self) -> None:
        self.ports["atmosphere"], self.ports["troposphere"] = free_port(), free_port()
        self._make_secrets()
        work = self.root / "upstream-work"
        run(["git", "init", "-q", "-b", "master", str(work)])
        (work / "docker-compose.prod.yml").write_text(self.compose_text(OLD_RELEASE))
        (work / "README.md").write_text("# atmosphere-docker\n")
        run(["git", "-C", str(work), "add", "-A"])
        run(["git", "-C", str(work), "commit", "-q", "-m", f"Deploy {OLD_RELEASE}"])
        run(["git", "clone", "-q", "--bare", str(work), str(self.upstream)])
        run(["git", "clone", "-q", str(self.upstream), str(self.deploy_dir)])
        (work / "README.md").write_text("# atmosphere-docker\n\nUpgrade notes for v37-3.\n")
        run(["git", "-C", str(work), "commit", "-q", "-am", "Notes for v37-3"])
        run(["git", "-C", str(work), "push", "-q", str(self.upstream), "master"])
        with (self.compose_path).open("a") as compose:
            compose.write("# driver's note: local edit that git reset --hard would lose\n")
        self.backup_dir.mkdir()

    def ini(self, app: str, branch: str) -> str:
        extra = (
            f"ARGO_TOKEN = {self.secret_keys['argo']}\n"
            if (app == "atmosphere" and branch == SECRETS_BRANCH)
            else ""
        )
        return (
            "[local.py]\n"
            f"DATABASE_NAME = {'atmo_prod' if app == 'atmosphere' else 'troposphere'}\n"
            f"DATABASE_USER = {DB_USER}\nDATABASE_PASSWORD = {self.password}\n"
            "DATABASE_HOST = postgres\nDATABASE_PORT = 5432\n"
            f"SERVER_URL = http://127.0.0.1:{self.ports[app]}\n"
            f"SECRET_KEY = {self.secret_keys[f'{app}-{branch}']}\n"
            f"MAINTENANCE_EXEMPT_USERNAMES = {EXEMPT_USER}\n{extra}"
        )

    def _make_secrets(self) -> None:
        repo = self.secrets_dir
        run(["git", "init", "-q", "-b", "prod", str(repo)])
        (repo / "inis").mkdir()
        self.secret_keys["argo"] = random_secrets.token_hex(16)
        for branch in ("prod", "atmobeta", "jetstream-prod"):
            if branch != "prod":
                run(["git", "-C", str(repo), "checkout", "-q", "-b", branch, "prod"])
            for app in images.APPS:
                self.secret_keys[f"{app}-{branch}"] = random_secrets.token_urlsafe(24)
                (repo / "inis" / f"{app}.ini").write_text(self.ini(app, branch))
            (repo / "env").write_text(f"env_type={branch}\nserver_name=rehearsal-{branch}\n")
            run(["git", "-C", str(repo), "add", "-A"])
            run(["git", "-C", str(repo), "commit", "-q", "-m", f"{branch} settings"])
        run(["git", "-C", str(repo), "checkout", "-q", "prod"])

    def secret_values(self) -> list[str]:
        return [self.password, self.token, *self.secret_keys.values()]

    # -- production -----------------------------------------------------------------------------

    def compose(self, *args: str) -> list[str]:
        return ["docker-compose", "-f", str(self.compose_path), "-p", self.project, *args]

    def _start_production(self) -> None:
        run(self.compose("pull"), timeout=900)
        run(self.compose("up", "-d"), timeout=900)
        self.wait_ready()

    def wait_ready(self, timeout: float = 120) -> None:
        base = "http://127.0.0.1"
        self._wait(
            lambda: (
                requests.get(f"{base}:{self.ports['atmosphere']}/api/status/celery", timeout=2).ok
            ),
            "atmosphere",
            timeout,
        )
        self._wait(
            lambda: (
                requests.get(f"{base}:{self.ports['troposphere']}/tropo-api/version", timeout=2).ok
            ),
            "troposphere",
            timeout,
        )

    def _seed(self) -> None:
        users = [(EXEMPT_USER, "true", self.token)] + [
            (f"user{n:02d}", "false", None) for n in range(12)
        ]
        self.psql(
            "atmo_prod",
            "INSERT INTO core_atmosphereuser (username, email, is_staff, "
            "api_token) VALUES "
            + ", ".join(
                f"('{name}', '{name}@example.org', {staff}, {repr(token) if token else 'NULL'})"
                for name, staff, token in users
            ),
        )
        statuses = ("active", "suspended", "deleted", "active")
        self.psql(
            "atmo_prod",
            "INSERT INTO core_instance (name, owner_id, status, created_at) "
            "SELECT 'vm-' || n, (SELECT min(id) FROM core_atmosphereuser) + n % 12, "
            f"(ARRAY{list(statuses)})[1 + n % 4], now() - n * interval '1 day' "
            "FROM generate_series(1, 40) AS n",
        )
        # 30 events: n 26..30 repeat events 4, 8, 12, 16 and 20 exactly (instance, kind,
        # payload, created_at), 12's without an instance; some kinds are not lower case.
        self.psql(
            "atmo_prod",
            "INSERT INTO core_event (instance_id, kind, payload, created_at) "
            "SELECT CASE WHEN k % 6 = 0 THEN NULL "
            "ELSE (SELECT min(id) FROM core_instance) + k % 40 END, "
            f"(ARRAY{list(EVENT_KINDS)})[1 + k % {len(EVENT_KINDS)}], "
            f"{SEED_PAYLOAD}, "
            "timestamptz '2022-01-03 09:00:00+00' + k * interval '1 hour' "
            "FROM generate_series(1, 30) AS n, "
            "LATERAL (SELECT CASE WHEN n > 25 THEN (n - 25) * 4 ELSE n END AS k) AS d "
            "ORDER BY n",
        )
        # 12 allocations, one per user (not the bot); every third is open-ended (end_date NULL).
        self.psql(
            "atmo_prod",
            "INSERT INTO core_allocation (owner_id, compute_allowed, start_date, end_date) "
            "SELECT u.id, 168 * (1 + n % 4), s, "
            "CASE WHEN n % 3 = 0 THEN NULL ELSE s + (3 + n) * interval '1 month' END "
            "FROM generate_series(0, 11) AS n "
            "JOIN core_atmosphereuser u ON u.username = 'user' || lpad(n::text, 2, '0'), "
            "LATERAL (SELECT timestamptz '2021-01-01 00:00:00+00' "
            "+ n * interval '1 month' AS s) AS d "
            "ORDER BY n",
        )
        self.psql(
            "troposphere",
            "INSERT INTO api_userpreferences (username, show_beta_interface, "
            "created_date) SELECT 'user' || lpad(n::text, 2, '0'), n % 3 = 0, now() "
            "FROM generate_series(0, 11) AS n",
        )

    # -- a production-sized database ------------------------------------------------------------

    def database_size(self, database: str = "atmo_prod") -> int:
        return int(self.psql(database, f"SELECT pg_database_size('{database}')"))

    def grow(self, size_mb: int) -> None:
        """Grow atmo_prod until pg_database_size is at least `size_mb` MiB: mostly events with
        ~480-character payloads, and users, instances and allocations in proportion. `up()`
        calls it for `self.size_mb`; called again on the running stack, it grows it further
        (the rows are of the v37-2 schema, as `up()` leaves the stack, and the ids of each
        table contiguous; rows that would break a foreign key fail the growth).
        Records the seconds (`timings["grow"]`) and the size reached (`timings["seed_mb"]`).

        Each round is one transaction of set-based INSERT ... SELECT generate_series, about
        GROW_CHUNK_BYTES, then the size is read again and the next round sized from the bytes
        per event the last one took. For speed, as a bulk load does: core_event's secondary
        indexes are dropped and built again at the end, and the rounds run with
        session_replication_role = replica (no per-row foreign key triggers; the rows are valid
        by construction, and every foreign key is checked once at the end). Then VACUUM ANALYZE,
        as a long-lived production database is.
        """
        target = size_mb * MIB
        started = time.monotonic()
        size = self.database_size()
        per_event = GROW_FIRST_GUESS_BYTES_PER_EVENT
        done = self.grown  # numbering continues after an earlier growth: every row differs
        before = dict(done)
        self.log(f"rehearsal grow: atmo_prod {size / MIB:.0f} MiB, growing to {size_mb} MiB")
        if size >= target:
            self.timings["grow"], self.timings["seed_mb"] = 0.0, round(size / MIB, 1)
            return
        indexes = self.psql(
            "atmo_prod",
            "SELECT indexname || '|' || indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND tablename = 'core_event' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'core_event'::regclass)",
        ).splitlines()
        for line in indexes:
            self.psql("atmo_prod", f'DROP INDEX "{line.split("|", 1)[0]}"')
        while size < target:
            events = max(10_000, min(GROW_CHUNK_BYTES, int((target - size) * 1.02)) // per_event)
            self.psql(
                "atmo_prod",
                "SET session_replication_role = replica;\n" + self._grow_sql(done, events),
                timeout=GROW_TIMEOUT_S,
            )
            grown = self.database_size()
            per_event = max(200, (grown - size) // events)
            size = grown
            self.log(
                f"rehearsal grow: atmo_prod {size / MIB:.0f} of {size_mb} MiB, "
                f"{done['events']:,} events, {time.monotonic() - started:.1f} s"
            )
        for line in indexes:
            self.psql("atmo_prod", line.split("|", 1)[1], timeout=GROW_TIMEOUT_S)
        self._check_foreign_keys()
        self.psql("atmo_prod", "VACUUM ANALYZE", timeout=GROW_TIMEOUT_S)
        self.timings["grow"] = round(time.monotonic() - started, 2)
        self.timings["seed_mb"] = round(self.database_size() / MIB, 1)
        added = ", ".join(f"{done[what] - before[what]:,} {what}" for what in done)
        self.log(
            f"rehearsal grow: atmo_prod holds {self.timings['seed_mb']:.0f} MiB ({added} added) "
            f"in {self.timings['grow']} s"
        )

    def _check_foreign_keys(self) -> None:
        broken = [
            f"{table}.{column}"
            for table, column, parent in GROW_FOREIGN_KEYS
            if self.psql(
                "atmo_prod",
                f"SELECT count(*) FROM {table} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {parent} p WHERE p.id = c.{column})",
                timeout=GROW_TIMEOUT_S,
            ).strip()
            != "0"
        ]
        if broken:
            raise RuntimeError(f"rehearsal grow: rows without a parent in {', '.join(broken)}")

    @staticmethod
    def _grow_sql(done: dict[str, int], events: int) -> str:
        """One round of growth as one transaction; `done` counts what earlier rounds added, so
        every generated row differs (names stay unique) and the rounds continue one sequence.
        Ids come from each table's serial and are contiguous (nothing else inserts while the
        stack is brought up), so `lo + x % count` always names an existing row."""
        amounts = {"events": events}
        for what, per_1000 in GROW_PER_1000_EVENTS.items():
            amounts[what] = max(1, events * per_1000 // 1000)
        first = {what: done[what] + 1 for what in amounts}
        last = {what: done[what] + amounts[what] for what in amounts}
        for what in amounts:
            done[what] += amounts[what]
        # bigint: the products below outgrow 32 bits past a few GB
        series = {w: f"generate_series({first[w]}::bigint, {last[w]})" for w in amounts}
        users = "(SELECT min(id) AS lo, count(*) AS cnt FROM core_atmosphereuser) AS u"
        instances = "(SELECT min(id) AS lo, count(*) AS cnt FROM core_instance) AS i"
        kinds = f"(ARRAY{list(SCALE_EVENT_KINDS)})[1 + k % {len(SCALE_EVENT_KINDS)}]"
        return (
            "INSERT INTO core_atmosphereuser (username, email, is_staff, api_token) "
            "SELECT 'member' || lpad(n::text, 7, '0'), 'member' || n || '@example.org', "
            "n % 500 = 0, NULL "
            f"FROM {series['users']} AS n;\n"
            "INSERT INTO core_instance (name, owner_id, status, created_at) "
            "SELECT 'vm-' || lpad(n::text, 8, '0'), u.lo + (n * 7919) % u.cnt, "
            "(ARRAY['active', 'suspended', 'deleted', 'shutoff', 'deleted'])[1 + n % 5], "
            "timestamptz '2015-01-01 00:00:00+00' + (n * 3217 % 220000000) * interval '1 second' "
            f"FROM {users}, {series['instances']} AS n;\n"
            "INSERT INTO core_allocation (owner_id, compute_allowed, start_date, end_date) "
            "SELECT u.lo + (n * 104729) % u.cnt, 168 * (1 + n % 8), s, "
            "CASE WHEN n % 4 = 0 THEN NULL ELSE s + (1 + n % 12) * interval '1 month' END "
            f"FROM {users}, {series['allocations']} AS n, "
            "LATERAL (SELECT timestamptz '2016-01-01 00:00:00+00' "
            "+ (n % 2200) * interval '1 day' AS s) AS d;\n"
            # 1 event in 1000 repeats the one before it exactly (v37-94 deletes such duplicates).
            "INSERT INTO core_event (instance_id, kind, payload, created_at) "
            "SELECT CASE WHEN k % 10 = 0 THEN NULL ELSE i.lo + (k * 31) % i.cnt END, "
            f"{kinds}, "
            f"{SCALE_PAYLOAD}, "
            "timestamptz '2015-01-01 00:00:00+00' + k * interval '37 seconds' "
            f"FROM {instances}, {series['events']} AS n, "
            "LATERAL (SELECT CASE WHEN n % 1000 = 0 THEN n - 1 ELSE n END AS k) AS d;"
        )

    def counts(self) -> dict[str, int]:
        tables = {
            "atmo_prod": ("core_atmosphereuser", "core_instance", "core_event", "core_allocation"),
            "troposphere": ("api_userpreferences",),
        }
        return {
            f"{db}.{t}": int(self.psql(db, f"SELECT count(*) FROM {t}"))
            for db, names in tables.items()
            for t in names
        }

    def _write_environment(self) -> None:
        url = "http://127.0.0.1:{}"
        self.env_file.write_text(f'''# rehearsal {self.run_id}; schema of environments/*.toml
name = "rehearsal"
org = "cyverse"
production = false
maintenance_message = "Atmosphere is down for a Scheduled Maintenance, Today between 9am - 4pm MST."

[deploy]
dir = "{self.deploy_dir}"
compose_file = "docker-compose.prod.yml"
compose_command = ["docker-compose"]
project = "{self.project}"
backup_dir = "{self.backup_dir}"

[secrets]
dir = "{self.secrets_dir}"
branch = "{SECRETS_BRANCH}"
required_keys = ["inis/atmosphere.ini:DATABASE_PASSWORD", "inis/atmosphere.ini:SECRET_KEY",
                 "inis/troposphere.ini:DATABASE_PASSWORD", "inis/troposphere.ini:SECRET_KEY",
                 "env:server_name"]

[database]
where = "host"
host = "127.0.0.1"
port = {self.ports["postgres"]}
user = "{DB_USER}"
names = {json.dumps(list(DB_NAMES))}
password_from = "inis/atmosphere.ini:DATABASE_PASSWORD"
verify_image = "{images.POSTGRES_IMAGE}"

[services.atmosphere]
image = "{self.image("atmosphere")}"
venv = "/opt/env/atmo"
workdir = "/opt/dev/atmosphere"
url = "{url.format(self.ports["atmosphere"])}"
ini = "inis/atmosphere.ini"
database = "atmo_prod"
maintenance_table = "maintenance_record"

[services.troposphere]
image = "{self.image("troposphere")}"
venv = "/opt/env/troposphere"
workdir = "/opt/dev/troposphere"
url = "{url.format(self.ports["troposphere"])}"
ini = "inis/troposphere.ini"
database = "troposphere"
maintenance_table = "api_maintenancerecord"

[readiness]
interval_s = 0.2
timeout_s = 120

[smoke]
api_token_env = "{self.token_env}"
''')
