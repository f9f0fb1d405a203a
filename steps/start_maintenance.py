"""Scenario "Start maintenance": started through manage.py, proven through the database and
HTTP."""

from atmo_release.release_day.deployment import Deployment
from steps.verbs import parsers, then, when


@when(parsers.re(r"maintenance is started on (?P<app>atmosphere|troposphere)"))
def _(deployment: Deployment, app: str) -> None:
    deployment.maintenance.start(app)


@then("each database holds exactly one active maintenance record with the title and message")
def _(deployment: Deployment) -> None:
    for app in deployment.apps:
        deployment.maintenance.check_one_active_record(app)


@then("the atmosphere API answers 503 with the message")
def _(deployment: Deployment) -> None:
    deployment.maintenance.check_atmosphere_503()


@then("troposphere sends users to the maintenance page with the message")
def _(deployment: Deployment) -> None:
    deployment.maintenance.check_troposphere_page()
