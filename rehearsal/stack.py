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

from rehearsal import database as db
from rehearsal import growth, images
from rehearsal.database import DB_NAMES, DB_USER, EXEMPT_USER, MIB
from rehearsal.shell import Log, free_port, run, wait_until
from rehearsal.sweep import RUN_LABEL, owner_labels, sweep_leftovers

OLD_RELEASE, NEW_RELEASE = "v37-2", "v37-3"
TOKEN_ENV = "ATMO_RELEASE_REHEARSAL_TOKEN"

POSTGRES_SHM = "1g"
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
        self._timed("seed", lambda: db.seed(self.psql, self.token))
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
        return db.psql(self.ports["postgres"], self.password, database, sql, timeout)

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

    # -- the database ---------------------------------------------------------------------------

    def database_size(self, database: str = "atmo_prod") -> int:
        return db.database_size(self.psql, database)

    def grow(self, size_mb: int) -> None:
        """Grow atmo_prod to at least `size_mb` MiB (rehearsal.growth). `up()` calls it for
        `self.size_mb`; called again on the running stack (as `up()` leaves it, at v37-2), it
        grows it further."""
        growth.grow(self.psql, size_mb, self.grown, self.timings, self.log)

    def counts(self) -> dict[str, int]:
        return db.counts(self.psql)

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
