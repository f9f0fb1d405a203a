"""The compose file set to the release's tags, then the new images pulled, started and ready."""

from atmo_release.deployment import Deployment
from steps.verbs import then, when


@when("the compose file is set to the release's image tags")
def _(deployment: Deployment) -> None:
    deployment.edit_compose_file()


@then("docker-compose config shows the release's images and only image lines changed")
def _(deployment: Deployment) -> None:
    deployment.check_compose_file()


@when("the new images are pulled and started")
def _(deployment: Deployment) -> None:
    deployment.pull_and_up()


@then("every service container runs the release's image")
def _(deployment: Deployment) -> None:
    deployment.check_running_target_images()


@then("the apps are ready within the environment's timeout")
def _(deployment: Deployment) -> None:
    deployment.wait_until_ready()
