"""Scenario "Stop the containers and back them up": stopped, nothing else connected, read with
nothing writing, what was written since the dumps dumped again (and loaded onto the unmigrated
copies of the proven dumps, which must then read as the stopped databases), every container
committed to a backup image."""

from atmo_release.release_day.deployment import Deployment
from steps.verbs import then, when


@when("the containers are stopped")
def _(deployment: Deployment) -> None:
    deployment.containers.stop()


@then("every service container has exited")
def _(deployment: Deployment) -> None:
    deployment.containers.check_all_exited()


@then("nothing else is connected to the databases")
def _(deployment: Deployment) -> None:
    deployment.other_sessions.wait_until_gone()


@when("the databases are read now that nothing writes to them")
def _(deployment: Deployment) -> None:
    deployment.databases.read_stopped()


@when("every table written since the proven dumps is dumped again")
def _(deployment: Deployment) -> None:
    deployment.window_dumps.dump_written_tables()


@then("each window dump holds the rows the stopped database has in those tables")
def _(deployment: Deployment) -> None:
    deployment.window_dumps.check()
    deployment.window_copies.load()


@when("each service container is committed to a backup image")
def _(deployment: Deployment) -> None:
    deployment.containers.back_up()


@then("each backup image exists and records the image its container ran")
def _(deployment: Deployment) -> None:
    deployment.containers.check_backups()
