"""A throwaway Atmosphere deployment that the suite deploys to, brought up and torn down whole.

Layout under one temporary root, as on a real host:
    upstream.git/                bare "upstream" of the deploy checkout, one commit ahead
    atmosphere-docker/           the deploy checkout: docker-compose.prod.yml + a local edit
    atmosphere-docker-secrets/   git repository, branches prod, atmobeta, jetstream-prod
    rehearsal.toml               the environment, in the schema of environments/*.toml
Containers: a registry and the host Postgres (testcontainers), the apps (docker-compose v1, or
with `compose_flavour="v2"` docker compose).
The database is seeded small (about a hundred rows) unless `size_mb` asks for more: then
`atmo_prod` is grown with generated rows, set-based and in chunks, until it is that large.
Differences from production: a bridge network with ports published on 127.0.0.1 instead of
`network_mode: host`, images from a local registry, and the database in a container.

This module is the stack's life cycle; each part is a module of its own: rehearsal.containers
(registry, Postgres), rehearsal.deploy_repos (the git repositories), rehearsal.database and
rehearsal.growth (seed and size), rehearsal.environment_file, rehearsal.sweep (cleanup).
"""

from __future__ import annotations

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

from rehearsal import compose_flavours, containers, deploy_repos, growth, images
from rehearsal import database as db
from rehearsal.deploy_repos import OLD_RELEASE
from rehearsal.environment_file import environment_toml
from rehearsal.fake_github_releases import FakeGitHubReleases
from rehearsal.github_stand_in import RECORD_REPOSITORY, record_toml, start_github
from rehearsal.shell import Log, run, wait_until
from rehearsal.sweep import RUN_LABEL, owner_labels, sweep_leftovers

TOKEN_ENV = "ATMO_RELEASE_REHEARSAL_TOKEN"
# A cluster whose session defaults are neither UTC nor ISO: each changes what `value::text` gives.
NON_UTC_SETTINGS = (
    "timezone=America/Phoenix",
    "datestyle=SQL, DMY",
    "intervalstyle=sql_standard",
    "extra_float_digits=0",
    "bytea_output=escape",
)
RELEASE_NOTE = "Written by the crew before the release: keep this line."

# OLD_RELEASE lives in rehearsal.deploy_repos; fixtures/deployment.py imports it from here.
__all__ = ["NON_UTC_SETTINGS", "OLD_RELEASE", "TOKEN_ENV", "RehearsalStack"]


@dataclass
class RehearsalStack:
    """Build with `up()`, always finish with `down()`; `env_file` is the environment to deploy."""

    log: Log = print
    # The apps reach the database by its compose alias (deploy_repos.ini).
    database_host = "postgres"
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
    # The GitHub stand-in holding the release record; None: the stack starts (and stops) its own.
    github: FakeGitHubReleases | None = None
    # Server settings of the host PostgreSQL (`postgres -c NAME=VALUE` each), e.g. the defaults
    # of a cluster initialised on an Arizona host (NON_UTC_SETTINGS); empty: the image's own.
    postgres_settings: tuple[str, ...] = ()
    # The Compose that runs "production" and that the environment file names: v1 (the runbook's
    # docker-compose) or v2 (docker compose, on a compose file only v2 reads: deploy_repos).
    compose_flavour: str = "v1"

    def __post_init__(self) -> None:
        if self.size_mb < 0:
            raise ValueError(f"size_mb must be 0 or more, not {self.size_mb}")
        self.compose_command = compose_flavours.command(self.compose_flavour)
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
        self._timed("images", lambda: images.ensure_images(images.STACK_IMAGES, log=self.log))
        self.client.networks.create(self.network, labels=self.labels)
        self._timed("registry", lambda: containers.start_registry(self))
        self._timed("push", lambda: containers.push_releases(self))
        self._timed("postgres", lambda: containers.start_postgres(self))
        self._timed("repositories", lambda: deploy_repos.make_repositories(self))
        self._timed("production", self._start_production)
        self._timed("seed", lambda: db.seed(self.psql, self.token))
        if self.size_mb > 0:
            self.grow(self.size_mb)
        else:
            self.timings["seed_mb"] = round(self.database_size() / db.MIB, 1)
        self._start_github()
        self.env_file.write_text(environment_toml(self) + record_toml(self.github))
        os.environ[self.token_env] = self.token
        return self

    def _start_github(self) -> None:
        """The release of the new release, published, with a note written by hand."""
        self._owns_github = self.github is None
        self.github = self.github or start_github()
        owner, repo = RECORD_REPOSITORY.split("/")
        if self.github.release_of(owner, repo, deploy_repos.NEW_RELEASE) is None:
            self.github.add_release(
                owner, repo, deploy_repos.NEW_RELEASE, body=RELEASE_NOTE, draft=False
            )

    def down(self) -> None:
        """Remove everything of this run; safe to call twice and after a half-done `up()`."""
        if self.compose_path.exists():
            run(self.compose("down", "--volumes", "--remove-orphans"), check=False)
        backups = [i for i in self.client.images.list(name=f"old_{self.project}_*")]
        for image in backups:
            self.client.images.remove(image.id, force=True)
        for reference in containers.pulled_references(self):
            try:
                self.client.images.remove(reference, force=True)
            except docker.errors.ImageNotFound:
                pass
        sweep_leftovers(self.client, self.log, run_id=self.run_id)
        shutil.rmtree(self.root, ignore_errors=True)
        if self.github is not None and getattr(self, "_owns_github", False):
            self.github.__exit__(None, None, None)

    def _timed(self, name: str, action: Callable[[], object]) -> None:
        started = time.monotonic()
        action()
        self.timings[name] = round(time.monotonic() - started, 2)
        self.log(f"rehearsal {name}: {self.timings[name]} s")

    def _wait(self, probe: Callable[[], bool], what: str, timeout: float = 120) -> None:
        wait_until(probe, what, timeout)

    # -- registry -------------------------------------------------------------------------------

    @property
    def registry(self) -> str:
        return f"localhost:{self.ports['registry']}"

    def image(self, app: str) -> str:
        return f"{self.registry}/cyverse/{app}"

    def publish(self, app: str, release: str) -> str:
        """Push a stand-in release to the stack's registry (and drop the local tag), so that
        deploying it really pulls; the broken and the data releases (images.BROKEN_RELEASES,
        images.DATA_RELEASES) are published on demand this way."""
        return containers.publish(self, app, release)

    # -- repositories ---------------------------------------------------------------------------

    def compose_text(self, release: str) -> str:
        return deploy_repos.compose_text(self, release)

    def ini(self, app: str, branch: str) -> str:
        return deploy_repos.ini(self, app, branch)

    def variables(self) -> dict[str, str]:
        """What a run against the stack exports: the exempt user's token, which its
        environment file also names as their password (the stand-ins' password is the token)."""
        return {self.token_env: self.token}

    def secret_values(self) -> list[str]:
        github = [self.github.token] if self.github is not None else []
        return [self.password, self.token, *self.secret_keys.values(), *github]

    # -- production -----------------------------------------------------------------------------

    def compose(self, *args: str) -> list[str]:
        return [*self.compose_command, "-f", str(self.compose_path), "-p", self.project, *args]

    def container_name(self, service: str) -> str:
        """The name Compose gave a service's container, found by its labels (v1 names it
        `<project>_<service>_1`, v2 `<project>-<service>-1`)."""
        labels = [f"com.docker.compose.project={self.project}"]
        labels.append(f"com.docker.compose.service={service}")
        (found,) = self.client.containers.list(all=True, filters={"label": labels})
        return str(found.name)

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

    def psql(self, database: str, sql: str, timeout: float = 60) -> str:
        return db.psql(self.ports["postgres"], self.password, database, sql, timeout)

    def database_size(self, database: str = "atmo_prod") -> int:
        return db.database_size(self.psql, database)

    def grow(self, size_mb: int) -> None:
        """Grow atmo_prod to at least `size_mb` MiB (rehearsal.growth). `up()` calls it for
        `self.size_mb`; called again on the running stack (as `up()` leaves it, at v37-2), it
        grows it further."""
        growth.grow(self.psql, size_mb, self.grown, self.timings, self.log)

    def counts(self) -> dict[str, int]:
        return db.counts(self.psql)
