"""Rollback: inside the window after a failed check, or by hand once the release was in use;
the old release, its files and its data back, proven, while maintenance stays on."""

from pathlib import Path

import pytest
from pytest_bdd import given

from atmo_release.release import Release
from atmo_release.release_day import resume, rollback
from atmo_release.release_day.deployment import Deployment
from atmo_release.release_day.resume import adopt
from steps.verbs import then, when


@when("the new release failed its checks, the old release and its data are restored")
def _(deployment: Deployment, halted_at: str) -> None:
    if halted_at and deployment.state.maintenance_ended:
        pytest.skip(
            "no rollback: users may be back in since ending maintenance was attempted on "
            f"{', '.join(deployment.state.maintenance_ended)}, and restoring the data would "
            "delete what they wrote; the new release stays up"
        )
    if not halted_at or not rollback.needed(deployment):
        pytest.skip(
            "no rollback needed: "
            + ("the run did not halt" if not halted_at else "the running release was never touched")
        )
    rollback.roll_back(deployment, f"halted at {halted_at}")


@then("the old release answers with the versions from before the deploy")
def _(deployment: Deployment) -> None:
    rollback.check_old_release_answers(deployment)


@then("every row is as it was when the apps stopped")
def _(deployment: Deployment) -> None:
    rollback.check_rows_as_before(deployment)


@then("the old release's compose file, deploy checkout commit and secrets branch are in place")
def _(deployment: Deployment) -> None:
    deployment.old_release.check_files()


@given("the last deployment of this environment is recorded")
def _(deployment: Deployment, request: pytest.FixtureRequest, rollback_to: str | None) -> None:
    records = Path(request.config.getoption("records_dir"))
    release = str(deployment.release)
    last = resume.deployment_of(records, deployment.env.name, release, deployment.where)
    assert last is not None, (
        f"no deployment of {release} to {deployment.env.name} is recorded in {records}: "
        "pass --records-dir where its record.json is"
    )
    before = Release.parse(str(last.get("previous_release")))
    assert rollback_to is None or Release.parse(rollback_to) == before, (
        f"--to={rollback_to}, but the deployment of {release} replaced {before}: a rollback "
        f"goes back to the release before it, so give --to={before} or leave it out"
    )
    if last["run_id"] != deployment.record.run_id:  # else deploy.feature ran in this session
        adopt(deployment, last)
        deployment.record.facts["rolls_back"] = last["run_id"]
    deployment.secrets.load()
    deployment.note(
        f"rolling back the deployment of {last['release']} by {last['driver']} "
        f"(run {last['run_id']}, {last['outcome']}) to {before}"
    )


@then("no restore started by an earlier run is left unknown")
def _(deployment: Deployment) -> None:
    deployment.restores.check_none_unknown()


@then("there is room on the deploy host for a fresh dump of each database and its copy")
def _(deployment: Deployment) -> None:
    deployment.way_back_room.check()


@when("the old release's images are made ready on the deploy host")
def _(deployment: Deployment) -> None:
    deployment.old_release.make_images_ready()


@then("the old release's images are on the deploy host")
def _(deployment: Deployment) -> None:
    deployment.old_release.check_images()


@when("the way back is rehearsed on a fresh dump of today's data")
def _(deployment: Deployment) -> None:
    deployment.way_back_rehearsal.rehearse()


@then("going back keeps what users wrote, or what it discards is counted and confirmed")
def _(deployment: Deployment, request: pytest.FixtureRequest) -> None:
    deployment.way_back_rehearsal.check(request.config.getoption("discard_writes_since_release"))


@when("the stack goes back to the release before it")
def _(deployment: Deployment) -> None:
    rollback.go_back(deployment)


@then("every row is kept or changed only as the rehearsed way back changes it")
def _(deployment: Deployment) -> None:
    rollback.check_rows_gone_back(deployment)
