"""Stop the stack and commit every service container to a backup image."""

from atmo_release.deployment import Deployment
from steps.verbs import then, when


@when("the containers are stopped")
def _(deployment: Deployment) -> None:
    deployment.stop()


@then("every service container has exited")
def _(deployment: Deployment) -> None:
    deployment.check_all_exited()


@when("each service container is committed to a backup image")
def _(deployment: Deployment) -> None:
    deployment.back_up()


@when("the databases are read now that nothing writes to them")
def _(deployment: Deployment) -> None:
    deployment.read_stopped_databases()


@when("every table written since the proven dumps is dumped again")
def _(deployment: Deployment) -> None:
    deployment.dump_written_tables()


@then("each window dump holds the rows the stopped database has in those tables")
def _(deployment: Deployment) -> None:
    deployment.check_window_dumps()


@then("each backup image exists and records the image its container ran")
def _(deployment: Deployment) -> None:
    deployment.check_backups()


@when("each database is dumped into the backup directory")
def _(deployment: Deployment) -> None:
    deployment.dump_databases()


@then("each dump restores into a throwaway PostgreSQL with the same row counts")
def _(deployment: Deployment) -> None:
    deployment.check_dumps_restore()


@when("the release's migrations are run on the restored copies")
def _(deployment: Deployment) -> None:
    deployment.rehearse_migrations()


@then("the migrations succeed there and what they change in each table is recorded")
def _(deployment: Deployment) -> None:
    deployment.check_migration_rehearsal()
