"""Deploying Atmosphere-Docker for the first time: one thin function per Gherkin line."""

from __future__ import annotations

from atmo_release.release_day.first_deploy import FirstDeployment
from steps.verbs import then, when


@when("both databases of the old production are dumped as their owner into the backup directory")
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.dump_old_production()


@then(
    "each dump is complete and restores into a throwaway PostgreSQL with the old production's "
    "row counts"
)
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.check_dumps()


@when("atmosphere-docker and atmosphere-docker-secrets are cloned into a fresh directory")
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.clone_repositories()


@then(
    "both checkouts are at their upstream heads, the secrets on the environment's branch, "
    "and the compose file is there"
)
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.check_checkouts()


@when("the dumps are loaded into the new database")
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.load_dumps()


@then("every table of the new database holds as many rows as the old production's")
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.check_loaded()


@when("the compose file is set to the release and the new stack is pulled and started")
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.bring_up()


@then("every app runs the release's image and answers with the release's version")
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.check_answering()


@then("no migration is left unapplied and the old production's database is untouched")
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.check_migrated()


@then("the new deployment holds every row of the old production, by count and by checksum")
def _(first_deploy_run: FirstDeployment) -> None:
    first_deploy_run.check_rows_kept()
