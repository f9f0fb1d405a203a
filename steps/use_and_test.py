"""Scenario "Use and test": the new release serves, is migrated, logs no error, kept every row;
the operator's smoke checks hold, and users meet in a browser what they should. The first step
starts every check (atmo_release/release_day/use_and_test.py); each step takes its verdict."""

from atmo_release.release_day import use_and_test
from atmo_release.release_day.deployment import Deployment
from steps.verbs import then, when


@then("the version endpoints report the new release")
def _(deployment: Deployment) -> None:
    use_and_test.take(deployment, "versions")


@then("no migration is left unapplied and the apps reach the database")
def _(deployment: Deployment) -> None:
    use_and_test.take(deployment, "migrations")


@then("no container logged a Traceback since it started")
def _(deployment: Deployment) -> None:
    use_and_test.take(deployment, "logs")


@then("every row is kept, changed only as the rehearsed migrations change it")
def _(deployment: Deployment) -> None:
    use_and_test.take(deployment, "rows")


@then("the environment's smoke checks hold inside the maintenance window")
def _(deployment: Deployment) -> None:
    use_and_test.take(deployment, "smoke")


@then(
    "in a browser, ordinary users meet the maintenance page and the exempt user sees their "
    "instances"
)
def _(deployment: Deployment) -> None:
    use_and_test.take(deployment, "browser")


@when(
    "the rows of each table the migrations stamp are recorded row by row as the upgrade left them"
)
def _(deployment: Deployment) -> None:
    deployment.release_rows.save_stamped()
