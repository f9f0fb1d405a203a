"""docker command lines; containers are found by compose labels, never by guessed names."""

from __future__ import annotations

from collections.abc import Sequence

from atmo_release.commands import Read, like

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
BACKUP_FROM_LABEL = "org.cyverse.atmo-release.backup-of-image"
BACKUP_LABEL = "org.cyverse.atmo-release"


def info() -> Read:
    return Read(["docker", "info", "--format", "{{.ServerVersion}}"])


def project_containers(project: str) -> Read:
    return Read(
        [
            "docker",
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            f"label={PROJECT_LABEL}={project}",
        ]
    )


def inspect(ids: Sequence[str]) -> Read:
    return Read(["docker", "inspect", *ids])


def inspect_sizes(ids: Sequence[str]) -> Read:
    return Read(["docker", "inspect", "--size", *ids])


def image_inspect(reference: str) -> Read:
    return Read(["docker", "image", "inspect", reference])


def pull(reference: str) -> list[str]:
    return ["docker", "pull", reference]


def commit(container: str, image: str, labels: dict[str, str]) -> list[str]:
    changes = [
        item for key in sorted(labels) for item in ("--change", f"LABEL {key}={labels[key]}")
    ]
    return ["docker", "commit", *changes, container, image]


def exec_(container: str, argv: Sequence[str]) -> list[str]:
    return like(argv, ["docker", "exec", container, *argv])


def logs(container: str, since: str) -> Read:
    return Read(["docker", "logs", "--since", since, container])


def run_once(
    image: str,
    argv: Sequence[str],
    *,
    entrypoint: str,
    network: str,
    mounts: dict[str, str],
    labels: dict[str, str],
) -> list[str]:
    """`docker run --rm` of one command; bind mounts are read-only."""
    return [
        "docker",
        "run",
        "--rm",
        *(item for key in sorted(labels) for item in ("--label", f"{key}={labels[key]}")),
        "--network",
        network,
        *(item for source, dest in mounts.items() for item in ("-v", f"{source}:{dest}:ro")),
        "--entrypoint",
        entrypoint,
        image,
        *argv,
    ]
