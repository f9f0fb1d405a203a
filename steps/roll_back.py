"""Rollback: the old release and its data back, proven, while maintenance stays on."""

from pathlib import Path

import pytest
from pytest_bdd import given

from atmo_release import resume, rollback
from atmo_release.deployment import Deployment
from atmo_release.release import Release
from fixtures.run import RUN_KEY
from steps.verbs import then, when


@when("the new release failed its checks, the old release and its data are restored")
def _(deployment: Deployment, request: pytest.FixtureRequest) -> None:
    halt = request.config.stash[RUN_KEY].halt
    if halt and deployment.state.maintenance_ended:
        pytest.skip(
            "no rollback: users may be back in since ending maintenance was attempted on "
            f"{', '.join(deployment.state.maintenance_ended)}, and restoring the data would "
            "delete what they wrote; the new release stays up"
        )
    if not halt or not rollback.needed(deployment):
        pytest.skip(
            "no rollback needed: "
            + ("the run did not halt" if not halt else "the running release was never touched")
        )
    rollback.roll_back(deployment, f"halted at {halt.where}: {halt.reason}")


@then("the old release answers with the versions from before the deploy")
def _(deployment: Deployment) -> None:
    rollback.check_old_release_answers(deployment)


@then("every row is as it was when the apps stopped")
def _(deployment: Deployment) -> None:
    rollback.check_rows_as_before(deployment)


@given("the last deployment of this environment is recorded")
def _(deployment: Deployment, request: pytest.FixtureRequest) -> None:
    records = Path(request.config.getoption("records_dir"))
    last = resume.newest_record(records, deployment.env.name, where=deployment.where)
    assert last is not None, (
        f"no deployment of {deployment.env.name} is recorded in {records}: "
        "pass --records-dir where its record.json is"
    )
    resume.adopt(deployment, last)
    deployment.secrets.load()
    deployment.note(
        f"rolling back the deployment of {last['release']} by {last['driver']} "
        f"(run {last['run_id']}, {last['outcome']})"
    )


@when("the stack is rolled back to the release given with --to")
def _(deployment: Deployment, rollback_to: str) -> None:
    rollback.roll_back(deployment, "rolled back by hand", Release.parse(rollback_to))
