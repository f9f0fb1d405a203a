"""The labels that mark what a rehearsal makes in Docker, and the sweep that removes it.

Every container, network, volume and image of a rehearsal carries its run id and its owner (pid
and host), so that a killed run's leftovers can be found and removed by a later run, while what a
live run (on this host or another) still uses is kept.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from enum import Enum

import docker

from atmo_release.labels import HOST_LABEL, PID_LABEL, RUN_LABEL, owner_labels, pid_alive
from rehearsal.shell import Log

__all__ = [
    "HOST_LABEL",
    "PID_LABEL",
    "RUN_LABEL",
    "Fate",
    "fate",
    "owner_labels",
    "sweep_leftovers",
]


class Fate(Enum):
    KEEP = "keep"
    REMOVE = "remove"
    FOREIGN = "foreign"  # another host's (or an unknown host's): kept, its run may be alive


def fate(
    labels: Mapping[str, str], run_id: str | None, host: str, alive: Callable[[str], bool]
) -> Fate:
    """What a sweep does with a labelled object: all of `run_id`; else, as the deploy lock does,
    a pid is judged dead only when it was labelled on this `host`. An object with no host label
    was made before hosts were told apart, by a run on the engine's host: its pid is judged
    there, as it always was (else a killed old run's stack would stay for good)."""
    if RUN_LABEL not in labels:
        return Fate.KEEP
    if run_id is not None:
        return Fate.REMOVE if labels[RUN_LABEL] == run_id else Fate.KEEP
    if labels.get(HOST_LABEL, host) != host:
        return Fate.FOREIGN
    return Fate.KEEP if alive(labels.get(PID_LABEL, "")) else Fate.REMOVE


def sweep_leftovers(
    client: docker.DockerClient, log: Log = print, run_id: str | None = None
) -> int:
    """Remove what rehearsals left: all of `run_id`, or of this host's runs whose process is
    gone; what runs of other hosts left is kept and named."""
    host = socket.gethostname()
    foreign: set[str] = set()

    def to_remove(labels: dict[str, str]) -> bool:
        verdict = fate(labels, run_id, host, pid_alive)
        if verdict is Fate.FOREIGN:
            where = labels.get(HOST_LABEL, "a host it does not name")
            foreign.add(f"{labels[RUN_LABEL]} (pid {labels.get(PID_LABEL, '?')} on {where})")
        return verdict is Fate.REMOVE

    def gone(remove: Callable[[], object], inspect: Callable[[], object]) -> int:
        """1 once removed; 0 when something else removed it first: a `--rm` container between
        listing and removal, or a concurrent sweep (another test worker's), which the engine
        may answer with 404, 409 "already in progress" or 500 "unrecognized image ID"."""
        try:
            remove()
        except docker.errors.NotFound:
            return 0
        except docker.errors.APIError as error:
            if error.status_code == 409 and "already in progress" in str(error.explanation):
                return 0
            try:
                inspect()
            except docker.errors.NotFound:
                return 0
            raise
        return 1

    selector = {"label": RUN_LABEL}
    removed = 0
    for container in client.containers.list(all=True, filters=selector, ignore_removed=True):
        if to_remove(container.labels):
            removed += gone(
                lambda c=container: c.remove(force=True, v=True),
                lambda c=container: client.api.inspect_container(c.id),
            )
    for network in client.networks.list(filters=selector):
        if to_remove(network.attrs.get("Labels") or {}):
            removed += gone(network.remove, lambda n=network: client.api.inspect_network(n.id))
    for volume in client.volumes.list(filters=selector):
        if to_remove(volume.attrs.get("Labels") or {}):
            removed += gone(
                lambda v=volume: v.remove(force=True),
                lambda v=volume: client.api.inspect_volume(v.name),
            )
    # The engine's list as it is (ImageCollection.list inspects each, which a concurrent
    # removal turns into ImageNotFound).
    for image in client.api.images(filters=selector):
        if to_remove(image.get("Labels") or {}):
            removed += gone(
                lambda i=image: client.images.remove(i["Id"], force=True),
                lambda i=image: client.api.inspect_image(i["Id"]),
            )
    if removed:
        whose = f"rehearsal {run_id}" if run_id else "earlier rehearsals whose process is gone"
        log(f"removed {removed} containers, networks, volumes and images of {whose}")
    if foreign:
        log(
            f"kept what rehearsals of other hosts left ({host} cannot tell whether they still "
            f"run; remove them there): {', '.join(sorted(foreign))}"
        )
    return removed
