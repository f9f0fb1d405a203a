"""Maintenance mode: started and ended through manage.py, proven through the database and HTTP."""

from atmo_release.deployment import Deployment
from steps.verbs import parsers, then, when

APP = parsers.re(r"maintenance is (?P<verb>started|ended) on (?P<app>atmosphere|troposphere)")


@when(APP)
def _(deployment: Deployment, verb: str, app: str) -> None:
    if verb == "started":
        deployment.start_maintenance(app)
    else:
        deployment.stop_maintenance(app)


@then("each database holds exactly one active maintenance record with the title and message")
def _(deployment: Deployment) -> None:
    for app in ("troposphere", "atmosphere"):
        deployment.check_one_active_record(app)


@then("the atmosphere API answers 503 with the message")
def _(deployment: Deployment) -> None:
    deployment.check_atmosphere_503()


@then("troposphere sends users to the maintenance page with the message")
def _(deployment: Deployment) -> None:
    deployment.check_troposphere_maintenance_page()


@then("no maintenance record is active")
def _(deployment: Deployment) -> None:
    for app in ("troposphere", "atmosphere"):
        deployment.check_no_active_record(app)


@then("users are let in again")
def _(deployment: Deployment) -> None:
    deployment.check_users_let_in()
