"""Scenario "Preflight, before anything changes": everything is checked and the release images
are pulled before anything changes."""

from atmo_release.release_day.deployment import Deployment
from steps.verbs import then, when


@then("the environment file is valid")
def _(deployment: Deployment) -> None:
    deployment.host.check_environment_file()
    deployment.smoke_checks.check_runner()


@then("the crew chief and the driver are named")
def _(deployment: Deployment) -> None:
    deployment.check_roles()


@then("Docker answers")
def _(deployment: Deployment) -> None:
    deployment.host.check_docker()


@then("the compose file and the secrets checkout exist")
def _(deployment: Deployment) -> None:
    deployment.host.check_files()


@then("the secrets branch has every key the apps need")
def _(deployment: Deployment) -> None:
    deployment.secrets.check_branch()


@then("the deploy checkout can fast-forward to upstream")
def _(deployment: Deployment) -> None:
    deployment.checkout.check_can_fast_forward()


@then("the compose file names only services the environment knows")
def _(deployment: Deployment) -> None:
    deployment.compose_edit.check_services_known()


@then(
    "upstream's compose file with the release's tags shows the release's images in "
    "docker-compose config"
)
def _(deployment: Deployment) -> None:
    deployment.compose_edit.check_upstream_release_tags()


@when("the running deployment is recorded")
def _(deployment: Deployment) -> None:
    deployment.secrets.load()
    deployment.record_running()


@then("the previous release, its versions and its rows are in the record")
def _(deployment: Deployment) -> None:
    deployment.check_running_recorded()


@then("there is room for the backups and dumps and the clock is right")
def _(deployment: Deployment) -> None:
    deployment.host.check_room_and_clock()


@when("the release images are pulled")
def _(deployment: Deployment) -> None:
    deployment.containers.pull_release_images()


@then("the release images are on the deploy host")
def _(deployment: Deployment) -> None:
    deployment.containers.check_release_images_present()


@then("the database's role can do what a rollback's restore does")
def _(deployment: Deployment) -> None:
    deployment.restores.check_rights()
