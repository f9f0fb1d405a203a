"""Scenario "End maintenance": ended through manage.py; users are let in again; the record of
the rows as the upgrade left them completed from the migrated copies, out of the window."""

from atmo_release.release_day.deployment import Deployment
from steps.verbs import parsers, then, when


@when(parsers.re(r"maintenance is ended on (?P<app>atmosphere|troposphere)"))
def _(deployment: Deployment, app: str) -> None:
    deployment.maintenance.stop(app)


@then("no maintenance record is active")
def _(deployment: Deployment) -> None:
    for app in deployment.apps:
        deployment.maintenance.check_no_active_record(app)


@then("users are let in again")
def _(deployment: Deployment) -> None:
    deployment.maintenance.check_users_let_in()


@then("the environment's smoke checks hold again now that maintenance has ended")
def _(deployment: Deployment) -> None:
    deployment.smoke_checks.check("after")


@when(
    "the rows of every other table are recorded row by row from the copies migrated beside the "
    "upgrade"
)
def _(deployment: Deployment) -> None:
    deployment.release_rows.save_from_copies()
