"""Scenario "Check out the secrets": the environment's branch, clean, complete; changed keys
listed, masked."""

from atmo_release.release_day.deployment import Deployment, last_recorded_secrets_commit
from steps.verbs import then, when


@when("the environment's branch of the secrets is checked out")
def _(deployment: Deployment) -> None:
    deployment.secrets.check_out()


@then("the secrets checkout is on that branch with a clean tree and every key the apps need")
def _(deployment: Deployment) -> None:
    deployment.secrets.check()


@then("the keys changed since the last deployment are listed with their values masked")
def _(deployment: Deployment) -> None:
    reports_root = deployment.reports_dir.parent
    deployment.secrets.list_changes(last_recorded_secrets_commit(reports_root, deployment.env.name))
