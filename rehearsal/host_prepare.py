"""The deploy host's prepare stage: the state the real atmobeta host already has before release
day, laid down through `docker exec` (not SSH, which is what gets rehearsed).

- the images in the rehearsal registry, which the host's engine uses as its Docker Hub mirror, so
  `cyverse/atmosphere:<tag>` and `postgres:15` pull unchanged;
- PostgreSQL 15 on the host: role `atmo_app`, databases `atmo_prod` and `troposphere`;
- `/opt/dev/atmosphere-docker` (a clone of `/srv/upstream/atmosphere-docker.git`, which is one
  commit ahead, with a local edit) and `/opt/dev/atmosphere-docker-secrets`, made by
  rehearsal.deploy_repos on the runner and copied in;
- the older release running under compose project `atmosphere-docker`, then the small seed.
"""

from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass, field
from pathlib import Path

from rehearsal import deploy_repos
from rehearsal.database import DB_NAMES, DB_USER
from rehearsal.host_container import HostContainers, docker
from rehearsal.image_manifest import APPS, POSTGRES_IMAGE, app_image
from rehearsal.shell import Log

DEPLOY_DIR = "/opt/dev/atmosphere-docker"
SECRETS_DIR = "/opt/dev/atmosphere-docker-secrets"
UPSTREAM = "/srv/upstream/atmosphere-docker.git"
COMPOSE_FILE = "docker-compose.prod.yml"
PROJECT = "atmosphere-docker"
# What the host's engine asks its mirror for: Docker Hub's names (library/ for official images).
HUB_NAMES = {POSTGRES_IMAGE: "library/postgres:15"}


@dataclass
class HostLayout:
    """The repositories as rehearsal.deploy_repos makes them, staged under `root` on the runner;
    the compose file is shaped like upstream's (literal tags, host network, no ports)."""

    root: Path
    ports: dict[str, int]
    password: str = field(default_factory=lambda: random_secrets.token_urlsafe(18))
    secret_keys: dict[str, str] = field(default_factory=dict)
    database_host: str = "127.0.0.1"  # PostgreSQL on the host, as in the 2020 layout

    def __post_init__(self) -> None:
        self.upstream = self.root / "upstream.git"
        self.deploy_dir = self.root / "atmosphere-docker"
        self.secrets_dir = self.root / "atmosphere-docker-secrets"
        self.compose_path = self.deploy_dir / COMPOSE_FILE
        self.backup_dir = self.root / "backups"  # unused: the host's is /root

    def compose_text(self, release: str) -> str:
        def service(app: str, extra: str) -> str:
            return (
                f"  {app}:\n"
                f"    image: 'cyverse/{app}:release-{release}'\n"
                "    volumes:\n"
                "      - '../atmosphere-docker-secrets:/opt/dev/atmosphere-docker-secrets'\n"
                f"      - './logs/{app}:/opt/dev/{app}/logs'\n"
                f"{extra}"
                "    extra_hosts:\n"
                "      - 'atmosphere:127.0.0.1'\n"
                "      - 'postgres:127.0.0.1'\n"
                "    network_mode: 'host'\n"
            )

        return (
            "---\nversion: '3'\n\nservices:\n\n"
            + service("atmosphere", "")
            + "\n\n"
            + service("troposphere", "    depends_on:\n      - 'atmosphere'\n")
        )


def hub_names(releases: tuple[str, ...], postgres: bool = False) -> dict[str, str]:
    """Local image -> the Docker Hub name the host pulls it by, for the apps at `releases`."""
    names = {
        app_image(app, release): f"cyverse/{app}:release-{release}"
        for release in releases
        for app in APPS
    }
    return {**names, **(HUB_NAMES if postgres else {})}


def publish_images(host: HostContainers, names: dict[str, str], log: Log) -> None:
    """Push images to the registry under their Docker Hub names (the outer engine treats
    127.0.0.1 as an insecure registry by default), then drop the local tags."""
    registry = f"127.0.0.1:{host.ports['registry']}"
    for local, hub in names.items():
        remote = f"{registry}/{hub}"
        docker(["tag", local, remote])
        try:
            docker(["push", "-q", remote], timeout=900)
        finally:
            docker(["image", "rm", remote], check=False)
        log(f"deploy host: the mirror serves {hub}")


def prepare_database(host: HostContainers, password: str) -> None:
    """Role and databases as production has them (the apps' migrations make the tables)."""
    sql = f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{password}'"
    host.exec(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], user="postgres")
    for name in DB_NAMES:
        host.exec(["createdb", "-O", DB_USER, name], user="postgres")


class HostPsql:
    """rehearsal.database.Psql on the host's PostgreSQL, as the apps reach it (127.0.0.1)."""

    def __init__(self, host: HostContainers, password: str) -> None:
        self.host, self.password = host, password

    def __call__(self, database: str, sql: str, timeout: float = 60) -> str:
        argv = ["psql", "-h", "127.0.0.1", "-U", DB_USER, "-d", database, "-X", "-A", "-t", "-q"]
        return self.host.exec(
            [*argv, "-v", "ON_ERROR_STOP=1", "-c", sql],
            env={"PGPASSWORD": self.password},
            timeout=timeout,
        )


def install_repositories(host: HostContainers, layout: HostLayout) -> None:
    """Make the repositories on the runner, copy them to where the runbook finds them, point
    the checkout's origin at the host's upstream and own everything as root."""
    deploy_repos.make_repositories(layout)
    host.exec(["mkdir", "-p", str(Path(UPSTREAM).parent), str(Path(DEPLOY_DIR).parent)])
    for source, target in (
        (layout.upstream, UPSTREAM),
        (layout.deploy_dir, DEPLOY_DIR),
        (layout.secrets_dir, SECRETS_DIR),
    ):
        docker(["cp", str(source), f"{host.host}:{target}"])
    host.exec(["chown", "-R", "root:root", UPSTREAM, DEPLOY_DIR, SECRETS_DIR])
    host.exec(["git", "-C", DEPLOY_DIR, "remote", "set-url", "origin", UPSTREAM])


def start_release(host: HostContainers, command: tuple[str, ...]) -> None:
    """`pull` (through the mirror), then `up -d`, in the deploy checkout, with the host's
    Compose (`command`: `docker-compose` or `docker compose`)."""
    base = [*command, "-f", COMPOSE_FILE, "-p", PROJECT]
    host.exec([*base, "pull", "-q"], workdir=DEPLOY_DIR, timeout=900)
    host.exec([*base, "up", "-d"], workdir=DEPLOY_DIR, timeout=900)
