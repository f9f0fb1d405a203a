"""The things of a deployment a run acts on, reads and checks, one module each.

A resource acts, reads and checks one thing through the deployment's target and keeps what it
learns in the deployment's `State`; the feature files (and `deploy_steps`) alone say in which
order. Rollback, resume and first deployment use the same resources.

Rule: knows only its `Run` (resources/run.py), never the deployment; reaches another resource
by its class. May import: the top of the package, `commands`, `target`, `data`, `github`, `web`,
`record`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from atmo_release.commands.compose import Compose
from atmo_release.data.client import DatabaseClient
from atmo_release.environment import Environment, Service
from atmo_release.record.run_record import ReleaseRecord
from atmo_release.resources.run import Run
from atmo_release.resources.run_state import State
from atmo_release.target import Result, Target

R = TypeVar("R")


class Resource:
    """Shared access to the deployment a resource belongs to."""

    def __init__(self, deployment: Run) -> None:
        self.deployment = deployment

    def resource(self, kind: type[R]) -> R:
        """Another resource of the same run (see `Run.resource`)."""
        return self.deployment.resource(kind)

    @property
    def env(self) -> Environment:
        return self.deployment.env

    @property
    def target(self) -> Target:
        return self.deployment.target

    @property
    def state(self) -> State:
        return self.deployment.state

    @property
    def record(self) -> ReleaseRecord:
        return self.deployment.record

    @property
    def apps(self) -> tuple[str, ...]:
        return self.deployment.apps

    @property
    def compose(self) -> Compose:
        return self.deployment.compose

    @property
    def db(self) -> DatabaseClient:
        return self.deployment.db

    def service(self, app: str) -> Service:
        return self.deployment.service(app)

    def release_image(self, app: str) -> str:
        return self.deployment.release_image(app)

    def run(self, argv: list[str], what: str, **kwargs: Any) -> Result:
        return self.deployment.run(argv, what, **kwargs)

    def note(self, text: str) -> None:
        self.deployment.note(text)
