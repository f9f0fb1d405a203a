"""The host database of a rehearsal test: an atmo-rehearsal/postgres:15 container holding
atmo_prod and troposphere, owned by atmo_app and reached over TCP, labelled with the test's run
and removed at the end, also after a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import docker
from testcontainers.community.postgres import PostgresContainer

from atmo_release.commands.compose import Compose
from atmo_release.data.client import DatabaseClient
from atmo_release.environment import Database
from atmo_release.labels import RUN_LABEL, owner_labels
from atmo_release.target import LocalTarget
from rehearsal.images import POSTGRES_IMAGE, ensure_images

PASSWORD = "dump-test-password"
COMPOSE = Compose(("docker-compose",), "unused.yml", "unused")


@contextmanager
def host_database(run_id: str, seed: Mapping[str, str]) -> Iterator[Database]:
    """The database seeded with `seed` ({database: sql}); its config in the environment's
    schema."""
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    ensure_images([POSTGRES_IMAGE], log=lambda line: None)
    container = PostgresContainer(
        POSTGRES_IMAGE, username="atmo_app", password=PASSWORD, dbname="atmo_prod", driver=None
    )
    container.ports["5432/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
    container.with_env("POSTGRES_EXTRA_DBS", "troposphere")
    container.with_kwargs(labels={RUN_LABEL: run_id, **owner_labels()})
    try:
        container.start()
        config = Database(
            "host",
            "atmo_app",
            ("atmo_prod", "troposphere"),
            "inis/atmosphere.ini",
            "127.0.0.1",
            int(container.get_exposed_port(5432)),
        )
        client = db_client(config)
        for dbname, sql in seed.items():
            client.query(dbname, sql)
        yield config
    finally:
        container.stop()
        leftovers(run_id, remove=True)


def db_client(config: Database) -> DatabaseClient:
    return DatabaseClient(LocalTarget(), config, PASSWORD, COMPOSE)


def leftovers(run_id: str, remove: bool = False) -> list[str]:
    """Containers and volumes of `run_id` still there (removed first when `remove`)."""
    client = docker.from_env()
    selector = {"label": f"{RUN_LABEL}={run_id}"}
    found = client.containers.list(all=True, filters=selector)
    if remove:
        for container in found:
            container.remove(force=True, v=True)
    volumes = client.volumes.list(filters=selector)
    if remove:
        for volume in volumes:
            volume.remove(force=True)
    client.close()
    return [container.name for container in found] + [volume.name for volume in volumes]
