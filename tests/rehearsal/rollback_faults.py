"""The faults that turn each check of rollback.feature red (see prove_probe)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from atmo_release.commands import git
from atmo_release.release_day.deployment import Deployment
from tests.rehearsal.faults import docker

UNKNOWN_RESTORE = "no restore started by an earlier run is left unknown"
ROOM = "there is room on the deploy host for a fresh dump of each database and its copy"
OLD_IMAGES = "the old release's images are on the deploy host"
FILES_BACK = (
    "the old release's compose file, deploy checkout commit and secrets branch are in place"
)
ROWS_GONE_BACK = "every row is kept or changed only as the rehearsed way back changes it"


@contextmanager
def restore_still_running(deployment: Deployment, **_: object) -> Iterator[None]:
    """A restore job an earlier run started, still running beside a dump, its status unread."""
    status = deployment.env.backup_dir / "atmo-fault.sql.restore-fault.status"
    job = subprocess.Popen(["sh", "-c", "sleep 120; :", "sh", str(status)])
    status.write_text(f"started {job.pid} 0\n")
    try:
        yield
    finally:
        job.kill()
        job.wait()
        status.unlink()


@contextmanager
def no_room(deployment: Deployment, **_: object) -> Iterator[None]:
    """A margin no disk has: the room is not there."""
    env = deployment.env
    deployment.env = replace(env, free_space_margin_mb=2.0**40)
    try:
        yield
    finally:
        deployment.env = env


@contextmanager
def old_image_untagged(deployment: Deployment, **_: object) -> Iterator[None]:
    """The old atmosphere image's tag removed from the host (its layers kept by a spare tag)."""
    image = deployment.state.previous_images["atmosphere"]
    docker("tag", image, "atmo-rehearsal-fault/kept:old")
    docker("image", "rm", image)
    try:
        yield
    finally:
        docker("tag", "atmo-rehearsal-fault/kept:old", image)
        docker("image", "rm", "atmo-rehearsal-fault/kept:old")


@contextmanager
def secrets_on_another_branch(deployment: Deployment, **_: object) -> Iterator[None]:
    """The secrets checkout switched to the environment's branch again after going back."""
    directory = deployment.env.secrets_dir
    back = deployment.state.release_files["secrets_branch"]
    deployment.run(git.checkout(directory, deployment.env.secrets_branch), "fault")
    try:
        yield
    finally:
        deployment.run(git.checkout(directory, back), "undo the fault")


@contextmanager
def email_changed(deployment: Deployment, **_: object) -> Iterator[None]:
    """A user's email changed after going back: same count, other values."""
    where = "WHERE id = (SELECT min(id) FROM core_atmosphereuser)"
    email = deployment.db.scalar("atmo_prod", f"SELECT email FROM core_atmosphereuser {where}")
    deployment.db.execute("atmo_prod", f"UPDATE core_atmosphereuser SET email = 'x@y.org' {where}")
    try:
        yield
    finally:
        deployment.db.execute(
            "atmo_prod", f"UPDATE core_atmosphereuser SET email = $e${email}$e$ {where}"
        )


FAULTS = {
    UNKNOWN_RESTORE: restore_still_running,
    ROOM: no_room,
    OLD_IMAGES: old_image_untagged,
    FILES_BACK: secrets_on_another_branch,
    ROWS_GONE_BACK: email_changed,
}
