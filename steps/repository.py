"""The deploy checkout: local edits and incoming commits saved, then reset and pulled."""

from atmo_release.deployment import Deployment
from steps.verbs import then, when


@when("the local changes and incoming commits are saved and the checkout is reset and pulled")
def _(deployment: Deployment) -> None:
    deployment.update_checkout()


@then("the deploy checkout is at the upstream head and what was local is saved in the record")
def _(deployment: Deployment) -> None:
    deployment.check_checkout()
