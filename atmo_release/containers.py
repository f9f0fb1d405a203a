"""The compose project's containers as docker reports them, found by label."""

from __future__ import annotations

import json
from dataclasses import dataclass

from atmo_release.checks import CheckFailed
from atmo_release.commands import docker
from atmo_release.target import Target


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    service: str
    status: str
    image: str
    started_at: str
    labels: dict[str, str]


def project_containers(target: Target, project: str) -> dict[str, Container]:
    """service -> its container (the newest one when compose left several)."""
    listed = target.run(docker.project_containers(project))
    if not listed.ok:
        raise CheckFailed(f"docker could not list the containers of {project}: {listed.tail(2)}")
    ids = listed.stdout.split()
    if not ids:
        return {}
    inspected = target.run(docker.inspect(ids))
    if not inspected.ok:
        raise CheckFailed(f"docker inspect failed: {inspected.tail(2)}")
    found: dict[str, Container] = {}
    for item in sorted(json.loads(inspected.stdout), key=lambda c: c["Created"]):
        labels = item["Config"].get("Labels") or {}
        service = labels.get(docker.SERVICE_LABEL, "")
        found[service] = Container(
            id=item["Id"],
            name=item["Name"].lstrip("/"),
            service=service,
            status=item["State"]["Status"],
            image=item["Config"]["Image"],
            started_at=item["State"].get("StartedAt", ""),
            labels=labels,
        )
    return found


def image_labels(target: Target, reference: str) -> dict[str, str] | None:
    """The labels of a local image, or None when the image does not exist."""
    result = target.run(docker.image_inspect(reference))
    if not result.ok:
        return None
    return json.loads(result.stdout)[0]["Config"].get("Labels") or {}
