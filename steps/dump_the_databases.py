"""Scenario "Dump the databases and prove the dumps restore", with the release's migrations
rehearsed on the restored copies."""

from atmo_release.release_day.deployment import Deployment
from steps.verbs import then, when


@when("each database is dumped into the backup directory")
def _(deployment: Deployment) -> None:
    deployment.proven_dumps.dump()


@then("each dump restores into a throwaway PostgreSQL with the same row counts")
def _(deployment: Deployment) -> None:
    deployment.proven_dumps.check_restore()


@when("the release's migrations are run on the restored copies")
def _(deployment: Deployment) -> None:
    deployment.migration_rehearsal.rehearse()


@then("the migrations succeed there and what they change in each table is recorded")
def _(deployment: Deployment) -> None:
    deployment.migration_rehearsal.check()
