"""Scenario "Start the new images": the compose file's tags, pull, up (the release's migrations
started beside it on the copies of the stopped databases), ready."""

from atmo_release.release_day.deployment import Deployment
from steps.verbs import then, when


@when("the compose file is set to the release's image tags")
def _(deployment: Deployment) -> None:
    deployment.compose_edit.set_release_tags()


@then("docker-compose config shows the release's images and only image lines changed")
def _(deployment: Deployment) -> None:
    deployment.compose_edit.check_release_tags()


@when("the new images are pulled and started")
def _(deployment: Deployment) -> None:
    deployment.window_copies.migrate_beside(deployment.containers.pull_and_up)


@then("every service container runs the release's image")
def _(deployment: Deployment) -> None:
    deployment.containers.check_running_release_images()


@then("the apps are ready within the environment's timeout")
def _(deployment: Deployment) -> None:
    deployment.readiness.wait()
