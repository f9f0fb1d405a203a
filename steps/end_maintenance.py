"""Scenario "End maintenance": ended through manage.py; users are let in again."""

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
