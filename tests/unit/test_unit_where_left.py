"""Where a run left the stack is read from the stack, not from what the run believes: the
maintenance of each app by its database, and only a database that cannot be read falls back
to the run's own steps, saying so."""

from __future__ import annotations

from atmo_release.deployment import Deployment
from atmo_release.where_left import next_safe_command, stack_state
from tests.unit.fake_target import FakeTarget


def active(fake: FakeTarget, atmosphere: int, troposphere: int) -> None:
    count = "SELECT count(*) FROM {} WHERE end_date IS NULL"
    fake.answer(count.format("maintenance_record"), stdout=f"{atmosphere}\n")
    fake.answer(count.format("api_maintenancerecord"), stdout=f"{troposphere}\n")


def test_maintenance_is_what_the_databases_hold(deployment: Deployment, fake: FakeTarget) -> None:
    deployment.state.maintenance_on = {"troposphere": True, "atmosphere": True}
    active(fake, atmosphere=1, troposphere=0)
    assert stack_state(deployment)["maintenance on"] == {"atmosphere": True, "troposphere": False}
    assert next_safe_command(deployment).startswith("the old release still serves")


def test_a_surveyed_all_off_reads_as_no(deployment: Deployment, fake: FakeTarget) -> None:
    deployment.state.maintenance_on = {"troposphere": False, "atmosphere": False}
    active(fake, atmosphere=0, troposphere=0)
    assert stack_state(deployment)["maintenance on"] == "no"
    assert next_safe_command(deployment).startswith("nothing was changed")


def test_an_unreadable_database_falls_back_to_the_run_and_says_so(
    deployment: Deployment, fake: FakeTarget
) -> None:
    deployment.state.maintenance_on = {"troposphere": True}
    fake.answer("psql", rc=2)
    described = stack_state(deployment)["maintenance on"]
    assert described.startswith("unknown: database atmo_prod could not be queried")
    assert described.endswith("this run started it on troposphere")


def test_stopped_without_a_backup_is_not_called_backed_up(
    deployment: Deployment, fake: FakeTarget
) -> None:
    active(fake, atmosphere=1, troposphere=1)
    deployment.state.stopped = True
    deployment.state.previous_images = {"atmosphere": "cyverse/atmosphere:release-v37-2"}
    assert next_safe_command(deployment).startswith(
        "the old release is stopped (not backed up: no backup image); to bring it back"
    )
    deployment.state.backups = {"atmosphere": "old_atmosphere-docker_atmosphere:release-v37-2"}
    assert next_safe_command(deployment).startswith("the old release is stopped and backed up")
