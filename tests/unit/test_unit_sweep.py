"""The rehearsal sweep removes only what a dead run of this host left: a run from another host
(or pid namespace) sharing the engine keeps its stack, and the sweep says so."""

import os
import socket
from dataclasses import dataclass, field

import docker
import pytest
import requests

from rehearsal.sweep import (
    HOST_LABEL,
    PID_LABEL,
    RUN_LABEL,
    Fate,
    fate,
    owner_labels,
    sweep_leftovers,
)

DEAD_PID = str(2**31 - 1)  # above any pid_max: no process has it


@dataclass
class FakeContainer:
    labels: dict[str, str]
    removed: bool = False

    def remove(self, force: bool = False, v: bool = False) -> None:
        self.removed = True


class RemovedElsewhere(FakeContainer):
    """One a concurrent sweep (another test worker's) is removing: the engine answers 409."""

    def remove(self, force: bool = False, v: bool = False) -> None:
        raise api_error(409, "removal of container abc is already in progress")


@dataclass
class FakeList:
    items: list[FakeContainer] = field(default_factory=list)

    def list(self, **filters: object) -> list[FakeContainer]:
        return self.items


class FakeClient:
    """The engine as the sweep sees it: containers and images; no network or volume."""

    def __init__(
        self, containers: list[FakeContainer], images: list[dict[str, object]] | None = None
    ) -> None:
        self.containers = FakeList(containers)
        self.networks, self.volumes = FakeList(), FakeList()
        self.images = ImageRemovedElsewhere()
        self.api = FakeApi(images or [])


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError(f"{status} Error", response, explanation)


class ImageRemovedElsewhere:
    """Another worker's sweep removed the image between listing and removal: the engine answers
    500 "unrecognized image ID", not 404."""

    def remove(self, image: str, force: bool = False) -> None:
        raise api_error(500, f"unrecognized image ID {image}")


@dataclass
class FakeApi:
    listed: list[dict[str, object]]
    present: set[str] = field(default_factory=set)

    def images(self, **filters: object) -> list[dict[str, object]]:
        return self.listed

    def inspect_image(self, image: str) -> dict[str, str]:
        if image not in self.present:
            raise docker.errors.ImageNotFound(f"no such image {image}")
        return {"Id": image}


def labels(run: str, pid: str, host: str) -> dict[str, str]:
    return {RUN_LABEL: run, PID_LABEL: pid, HOST_LABEL: host}


def test_the_sweep_keeps_and_reports_a_run_of_another_host() -> None:
    here = socket.gethostname()
    dead_here = FakeContainer(labels("dead-here", DEAD_PID, here))
    live_here = FakeContainer(labels("live-here", str(os.getpid()), here))
    elsewhere = FakeContainer(labels("elsewhere", DEAD_PID, "ci-runner-7"))
    lines: list[str] = []
    removed = sweep_leftovers(FakeClient([dead_here, live_here, elsewhere]), lines.append)
    assert removed == 1
    assert [dead_here.removed, live_here.removed, elsewhere.removed] == [True, False, False]
    assert any("elsewhere" in line and "ci-runner-7" in line for line in lines)


def test_a_removal_already_in_progress_elsewhere_is_not_an_error() -> None:
    here = socket.gethostname()
    racing = RemovedElsewhere(labels("dead-here", DEAD_PID, here))
    dead = FakeContainer(labels("dead-here", DEAD_PID, here))
    assert sweep_leftovers(FakeClient([racing, dead]), lambda line: None) == 1
    assert dead.removed


def test_an_image_another_sweep_removed_first_is_not_an_error() -> None:
    dead = {"Id": "sha256:gone", "Labels": labels("dead-here", DEAD_PID, socket.gethostname())}
    assert sweep_leftovers(FakeClient([], [dead]), lambda line: None) == 0


def test_an_image_that_will_not_go_is_an_error() -> None:
    dead = {"Id": "sha256:kept", "Labels": labels("dead-here", DEAD_PID, socket.gethostname())}
    client = FakeClient([], [dead])
    client.api.present.add("sha256:kept")
    with pytest.raises(docker.errors.APIError, match="unrecognized image ID"):
        sweep_leftovers(client, lambda line: None)


@pytest.mark.parametrize(
    ("labelled", "run_id", "expected"),
    [
        ({"other": "x"}, None, Fate.KEEP),
        (labels("r1", "1", "here"), None, Fate.REMOVE),
        (labels("r1", "2", "here"), None, Fate.KEEP),
        (labels("r1", "1", "there"), None, Fate.FOREIGN),
        ({RUN_LABEL: "r1", PID_LABEL: "1"}, None, Fate.REMOVE),
        ({RUN_LABEL: "r1", PID_LABEL: "2"}, None, Fate.KEEP),
        (labels("r1", "2", "there"), "r1", Fate.REMOVE),
        (labels("r2", "1", "here"), "r1", Fate.KEEP),
    ],
    ids=[
        "not-a-rehearsal",
        "dead-here",
        "alive-here",
        "dead-pid-of-another-host",
        "dead-without-host-label",
        "alive-without-host-label",
        "own-run-anywhere",
        "another-run-at-teardown",
    ],
)
def test_fate(labelled: dict[str, str], run_id: str | None, expected: Fate) -> None:
    assert fate(labelled, run_id, "here", alive=lambda pid: pid == "2") is expected


def test_owner_labels_name_the_pid_and_its_host() -> None:
    assert owner_labels() == {PID_LABEL: str(os.getpid()), HOST_LABEL: socket.gethostname()}
