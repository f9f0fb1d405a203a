"""Scenario "Use and test": the new release serves, is migrated, logs no error, kept every row."""

from atmo_release.deployment import Deployment
from steps.verbs import then, when


@then("the version endpoints report the new release")
def _(deployment: Deployment) -> None:
    deployment.readiness.check_new_versions()


@then("no migration is left unapplied and the apps reach the database")
def _(deployment: Deployment) -> None:
    deployment.readiness.check_migrations()


@then("no container logged a Traceback since it started")
def _(deployment: Deployment) -> None:
    deployment.readiness.check_logs()


@then("every row is kept, changed only as the rehearsed migrations change it")
def _(deployment: Deployment) -> None:
    deployment.databases.check_rows_kept()


@when("each table's rows as the upgrade left them are recorded row by row")
def _(deployment: Deployment) -> None:
    deployment.way_back.record_release_rows()
