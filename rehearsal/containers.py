"""The stack's testcontainers: the registry production pulls its images from, and the host's
PostgreSQL. Both publish on 127.0.0.1 only and join the stack's network under their alias."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from testcontainers.community.postgres import PostgresContainer
from testcontainers.core.container import DockerContainer

from rehearsal import images, registry_cache
from rehearsal.database import DB_NAMES, DB_USER
from rehearsal.shell import run, wait_until

if TYPE_CHECKING:
    from rehearsal.stack_parts import StackParts

# A host's PostgreSQL has the host's /dev/shm; Docker's 64 MB default fails the shared memory of
# VACUUM and parallel queries on a grown database ("No space left on device").
POSTGRES_SHM = "1g"


def _start(
    stack: StackParts, container: DockerContainer, port: int, alias: str, **kwargs: object
) -> None:
    """Start a testcontainer on loopback only, joined to the stack's network as `alias`;
    `kwargs` go to the Docker SDK's `containers.run`."""
    container.ports[f"{port}/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
    container.with_name(f"{stack.project}-{alias}").with_kwargs(labels=stack.labels, **kwargs)
    container.start()
    wrapped = container.get_wrapped_container()
    stack.client.networks.get(stack.network).connect(wrapped, aliases=[alias])
    stack.ports[alias] = int(container.get_exposed_port(port))


def registry_storage(stack: StackParts) -> Path:
    return stack.root / "registry"


def start_registry(stack: StackParts) -> None:
    """The registry, its storage started from the cache of the last push (`registry_cache`)."""
    storage = registry_storage(stack)
    registry_cache.seed(storage)
    registry = DockerContainer(images.REGISTRY_IMAGE)
    registry.with_volume_mapping(str(storage), "/var/lib/docker-registry", "rw")
    # as the user: what it writes there is theirs to remove, and to keep in their cache
    _start(stack, registry, 5000, "registry", user=f"{os.getuid()}:{os.getgid()}")
    wait_until(lambda: requests.get(f"http://{stack.registry}/v2/", timeout=2).ok, "registry")


def push_releases(stack: StackParts) -> None:
    for app in images.APPS:
        for release in images.RELEASES:
            publish(stack, app, release)
    if registry_cache.keep(registry_storage(stack)):
        stack.log(f"rehearsal push: the registry's blobs kept in {registry_cache.cache_dir()}")


def publish(stack: StackParts, app: str, release: str) -> str:
    """Push a stand-in release to the stack's registry (and drop the local tag), so that
    deploying it really pulls."""

    def log_builds(line: str) -> None:
        if ": reused in " not in line:
            stack.log(line)

    local = images.app_image(app, release)
    # Reused when current (a few inspects, not logged); built when missing or stale.
    images.ensure_images([local], log=log_builds)
    remote = f"{stack.image(app)}:release-{release}"
    run(["docker", "tag", local, remote])
    run(["docker", "push", remote], timeout=900)
    run(["docker", "image", "rm", remote])
    return remote


def pulled_references(stack: StackParts) -> list[str]:
    """The local tags of images pulled from the stack's registry (none before it started)."""
    if "registry" not in stack.ports:
        return []
    return [
        tag
        for image in stack.client.api.images()  # no inspect each: another run may remove one
        for tag in image.get("RepoTags") or []
        if tag.startswith(stack.registry + "/")
    ]


def start_postgres(stack: StackParts) -> None:
    volume = stack.client.volumes.create(f"{stack.project}-pgdata", labels=stack.labels)
    container = PostgresContainer(
        images.POSTGRES_IMAGE,
        username=DB_USER,
        password=stack.password,
        dbname=DB_NAMES[0],
        driver=None,
    )
    container.with_env("POSTGRES_EXTRA_DBS", " ".join(DB_NAMES[1:]))
    if stack.postgres_settings:
        container.with_command(
            ["postgres", *(item for setting in stack.postgres_settings for item in ("-c", setting))]
        )
    container.with_volume_mapping(volume.name, "/var/lib/postgresql/data", "rw")
    _start(stack, container, 5432, "postgres", shm_size=POSTGRES_SHM)
    wait_until(lambda: stack.psql(DB_NAMES[-1], "SELECT 1").strip() == "1", "postgres")
