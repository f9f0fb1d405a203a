"""Scenario "Update the deploy checkout": what is local is saved before `git reset --hard`."""

from atmo_release.release_day.deployment import Deployment
from steps.verbs import then, when


@when("the local changes and incoming commits are saved and the checkout is reset and pulled")
def _(deployment: Deployment) -> None:
    deployment.checkout.update()


@then("the deploy checkout is at the upstream head and what was local is saved in the record")
def _(deployment: Deployment) -> None:
    deployment.checkout.check()
