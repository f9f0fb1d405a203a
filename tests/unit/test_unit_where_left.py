"""Where a run left the stack is read from the stack, not from what the run believes: the
maintenance of each app by its database, and only a database that cannot be read falls back
to the run's own steps, saying so."""

from __future__ import annotations

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.release_day import rollback
from atmo_release.release_day.deployment import Deployment
from atmo_release.release_day.where_left import next_safe_command, stack_state
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


def users_let_in(deployment: Deployment, fake: FakeTarget, atmosphere: int, tropo: int) -> None:
    """The new release up after Use and test; ending maintenance was attempted on troposphere."""
    active(fake, atmosphere=atmosphere, troposphere=tropo)
    deployment.state.stopped = deployment.state.compose_edited = True
    deployment.state.new_release_up = True
    deployment.state.maintenance_ended = {"troposphere": "2026-12-01T18:00:00+00:00"}


COMPOSE = (
    "docker-compose -f /opt/dev/atmosphere-docker/docker-compose.prod.yml -p atmosphere-docker"
)
HEAD = (
    "the new release is up and passed Use and test, and ending maintenance was attempted on "
    "troposphere, so users may be back in: nothing was rolled back (restoring the dumps now "
    "would delete what they wrote)"
)


def test_once_users_may_be_in_nothing_rolls_back(deployment: Deployment, fake: FakeTarget) -> None:
    users_let_in(deployment, fake, atmosphere=1, tropo=0)
    assert not rollback.needed(deployment)
    deployment.state.maintenance_ended = {}
    assert rollback.needed(deployment)


def test_the_next_command_ends_maintenance_where_the_database_says_it_is_on(
    deployment: Deployment, fake: FakeTarget
) -> None:
    users_let_in(deployment, fake, atmosphere=1, tropo=0)
    fake.answer("ps", stdout="")  # no container of the project is running: atmosphere's is gone
    assert next_safe_command(deployment) == (
        f"{HEAD}; maintenance is still on for atmosphere: end it with: {COMPOSE} start atmosphere"
        f" && {COMPOSE} exec -T atmosphere /opt/env/atmo/bin/python /opt/dev/atmosphere/manage.py"
        " maintenance stop"
    )
    assert stack_state(deployment)["maintenance end attempted (users may be in)"] == {
        "troposphere": "2026-12-01T18:00:00+00:00"
    }


def test_with_maintenance_off_everywhere_what_is_down_is_started(
    deployment: Deployment, fake: FakeTarget
) -> None:
    users_let_in(deployment, fake, atmosphere=0, tropo=0)
    assert next_safe_command(deployment) == (
        f"{HEAD}; maintenance is off, but atmosphere and troposphere are not running: start with: "
        f"{COMPOSE} up -d"
    )


def test_ending_maintenance_counts_from_the_attempt_even_when_it_fails(
    deployment: Deployment, fake: FakeTarget
) -> None:
    fake.answer("maintenance", "stop", rc=1)
    fake.answer("docker", "ps", stdout="atmosphere-docker_troposphere_1\n")
    with pytest.raises(CheckFailed, match="maintenance stop on troposphere failed"):
        deployment.maintenance.stop("troposphere")
    assert list(deployment.state.maintenance_ended) == ["troposphere"]
    assert deployment.record.facts["maintenance_ended"] == deployment.state.maintenance_ended
