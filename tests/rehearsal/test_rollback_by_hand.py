"""The rollback by hand of a release users have used: signed up, launched, ended allocations.
A release whose migrations reverse comes back with every such write kept and its files in
place; one whose migration cannot be reversed is refused with what a restore would discard,
and with the confirmation is restored, what it discarded kept in a dump. One stack, in order:
the irreversible release first (it ends with the old release back and maintenance on), then,
once maintenance is ended, the reversible one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from atmo_release.environment import parse_environment
from atmo_release.release import Release
from atmo_release.release_day.deploy_steps import deploy
from atmo_release.release_day.deployment import Deployment
from rehearsal.stack import RehearsalStack
from rehearsal.users import LAUNCHED, SIGNED_UP, use_the_release
from tests.rehearsal.feature_runs import feature, finish
from tests.rehearsal.prove_probe import assert_proofs
from tests.rehearsal.rollback_faults import (
    FILES_BACK,
    OLD_IMAGES,
    ROOM,
    ROWS_GONE_BACK,
    UNKNOWN_RESTORE,
)

pytestmark = pytest.mark.docker


def deployed_and_used(stack: RehearsalStack, runs: Path, release: str) -> None:
    """The release deployed, its record where rollback.feature looks, then used."""
    deployment = Deployment.create(
        parse_environment(stack.env_file), Release.parse(release), "Lin", "Ada", runs / "deploy"
    )
    try:
        deploy(deployment)
        deployment.record.outcome = "passed"
        deployment.record.write(deployment.reports_dir, deployment.target.redactor)
        use_the_release(deployment.db.execute)
    finally:
        deployment.target.close()


def roll_back(
    stack: RehearsalStack, out: Path, release: str, *extra: str, **probe: str
) -> tuple[int, str, dict[str, Any]]:
    child = feature(stack, out, *extra, release=release, path="features/rollback.feature", **probe)
    rc, output = finish(child, timeout=900)
    return rc, output, json.loads((out / "record.json").read_text())


def notes(record: dict[str, Any]) -> str:
    return "\n".join(note for step in record["steps"] for note in step.get("notes", []))


def scalar(stack: RehearsalStack, database: str, sql: str) -> str:
    return stack.psql(database, sql).strip()


def untag_from_registry(stack: RehearsalStack, app: str, tag: str) -> None:
    """The registry no longer has the tag (deleted by its manifest digest)."""
    url = f"http://{stack.registry}/v2/cyverse/{app}/manifests/{tag}"
    accept = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
    digest = requests.head(url, headers=accept, timeout=10).headers["Docker-Content-Digest"]
    url = f"http://{stack.registry}/v2/cyverse/{app}/manifests/{digest}"
    requests.delete(url, timeout=10).raise_for_status()


def end_maintenance(stack: RehearsalStack) -> None:
    for app, venv in (("atmosphere", "atmo"), ("troposphere", "troposphere")):
        manage = [f"/opt/env/{venv}/bin/python", f"/opt/dev/{app}/manage.py", "maintenance"]
        subprocess.run(stack.compose("exec", "-T", app, *manage, "stop"), check=True)


@pytest.mark.proves(
    "going back keeps what users wrote, or what it discards is counted and confirmed"
)
def test_an_irreversible_release_is_refused_with_counts_then_restored_once_confirmed(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    """v37-94's core.0003 cannot be reversed: a rollback without the confirmation stops
    before anyone is locked out, naming per table what a restore would discard; with it, the
    old images come from their backups (the registry no longer has them) and atmo_prod is
    the release day's again, while troposphere (reversible) keeps its write."""
    stack = fresh_stack
    for app in ("atmosphere", "troposphere"):
        stack.publish(app, "v37-94")
    stopped = stack.counts()
    deployed_and_used(stack, tmp_path, "v37-94")
    rc, output, record = roll_back(stack, tmp_path / "refused", "v37-94")
    assert rc == 1, output[-3000:]
    step = next(s for s in record["steps"] if s["step"].startswith("Then going back keeps"))
    assert "core.0003_data_cleanup cannot be reversed" in step["error"], step["error"]
    for loss in (
        "atmo_prod.core_allocation: 0 added, 1 changed, 0 deleted",
        "atmo_prod.core_atmosphereuser: 1 added, 0 changed, 0 deleted",
        "atmo_prod.core_instance: 1 added, 0 changed, 0 deleted",
    ):
        assert loss in step["error"], step["error"]
    assert "troposphere." not in step["error"]
    assert "--discard-writes-since-release" in step["error"]
    assert record["next_safe_command"] == (
        "nothing was changed; fix the cause above, then: pytest features/rollback.feature "
        "--env=rehearsal --release=v37-94"
    )
    assert (
        scalar(stack, "atmo_prod", "SELECT count(*) FROM maintenance_record WHERE end_date IS NULL")
        == "0"
    )
    for app in ("atmosphere", "troposphere"):
        untag_from_registry(stack, app, "release-v37-2")
        subprocess.run(["docker", "image", "rm", f"{stack.image(app)}:release-v37-2"], check=True)
    reason = "--discard-writes-since-release=v37-94 deletes events it must not"
    rc, output, record = roll_back(stack, tmp_path / "confirmed", "v37-94", reason)
    assert rc == 0, output[-3000:]
    assert record["facts"]["discard_writes"]["reason"] == "v37-94 deletes events it must not"
    assert set(record["facts"]["discard_writes"]["losses"]["atmo_prod"]) == {
        "core_allocation",
        "core_atmosphereuser",
        "core_instance",
    }
    assert all("from the backup image" in how for how in record["facts"]["old_images"].values())
    way = record["facts"]["rollback"]["way_back"]
    assert (
        way["atmo_prod"].startswith("restored atmo_prod from") and "discarded" in way["atmo_prod"]
    )
    assert way["troposphere"] == "reversed api.0002_hide_beta_interface"
    kept = Path(way["atmo_prod"].rsplit("kept in ", 1)[1])
    assert SIGNED_UP in kept.read_text()
    assert (
        scalar(
            stack,
            "atmo_prod",
            f"SELECT count(*) FROM core_atmosphereuser WHERE username = '{SIGNED_UP}'",
        )
        == "0"
    )
    assert stack.counts() == stopped
    shown = scalar(
        stack,
        "troposphere",
        "SELECT show_beta_interface FROM api_userpreferences WHERE username = 'user04'",
    )
    assert shown == "t", "user04's change after the release is kept (seeded: hidden)"
    end_maintenance(stack)


@pytest.mark.proves(
    "no restore started by an earlier run is left unknown",
    "there is room on the deploy host for a fresh dump of each database and its copy",
    "the old release's images are on the deploy host",
    "the old release's compose file, deploy checkout commit and secrets branch are in place",
    "every row is kept or changed only as the rehearsed way back changes it",
)
def test_a_release_in_use_goes_back_with_every_write_kept_and_its_files(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    """v37-3 reverses: after users signed up, launched and ended an allocation, going back
    keeps each write and brings back the compose file, the checkout's commit with its local
    edit and the secrets branch. Each check of the run is seen red under its fault first: a
    restore of an earlier run still running, no room, an old image untagged, the secrets on
    another branch, a user's email changed after going back."""
    stack = fresh_stack
    compose_before = stack.compose_path.read_text()
    head = ["git", "-C", str(stack.deploy_dir), "rev-parse", "HEAD"]
    head_before = subprocess.run(head, capture_output=True, text=True, check=True).stdout
    ended = "SELECT count(*) FROM core_allocation WHERE end_date IS NOT NULL"
    ended_before = int(scalar(stack, "atmo_prod", ended))
    deployed_and_used(stack, tmp_path, "v37-3")
    proofs = tmp_path / "proofs.json"
    rc, output, record = roll_back(
        stack,
        tmp_path / "back",
        "v37-3",
        plugins=("tests.rehearsal.rehearsal_probe", "tests.rehearsal.prove_probe"),
        ATMO_TEST_PROOFS_FILE=str(proofs),
    )
    assert rc == 0, output[-3000:]
    assert_proofs(
        proofs,
        {
            UNKNOWN_RESTORE: "a restore started by an earlier run still runs on the host",
            ROOM: "not enough room to rehearse the way back",
            OLD_IMAGES: "are not on the deploy host",
            FILES_BACK: "the secrets checkout is on atmobeta, not prod",
            ROWS_GONE_BACK: "atmo_prod: table core_atmosphereuser: values changed in email",
        },
    )
    assert "reversed core.0002_instance_is_running_volume" in notes(record)
    instance = f"SELECT status FROM core_instance WHERE name = '{LAUNCHED}'"
    assert scalar(stack, "atmo_prod", instance) == "active"
    user = f"SELECT email FROM core_atmosphereuser WHERE username = '{SIGNED_UP}'"
    assert scalar(stack, "atmo_prod", user) == "new@example.org"
    assert int(scalar(stack, "atmo_prod", ended)) == ended_before + 1
    assert stack.compose_path.read_text() == compose_before
    assert subprocess.run(head, capture_output=True, text=True, check=True).stdout == head_before
    branch = ["git", "-C", str(stack.secrets_dir), "symbolic-ref", "--short", "HEAD"]
    assert subprocess.run(branch, capture_output=True, text=True).stdout.strip() == "prod"
