"""What a resource needs of the run it belongs to: the settings, where it acts, what the run
has learnt so far, and the run's other resources by their class. A resource knows only this
(as testinfra's modules know only their host), never the `Deployment` that implements it, so
the run's modules import the resources and never the other way round."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar

from atmo_release.commands.compose import Compose
from atmo_release.data.client import DatabaseClient
from atmo_release.environment import Environment, Service
from atmo_release.record.run_record import ReleaseRecord
from atmo_release.release import Release
from atmo_release.resources.run_state import State
from atmo_release.target.protocol import Result, Target

R = TypeVar("R")


class Run(Protocol):
    env: Environment
    release: Release
    target: Target
    record: ReleaseRecord
    reports_dir: Path
    apps: tuple[str, ...]
    day: date
    state: State
    password: str

    @property
    def title(self) -> str: ...

    @property
    def compose(self) -> Compose: ...

    @property
    def db(self) -> DatabaseClient: ...

    @property
    def planning(self) -> bool: ...

    def service(self, app: str) -> Service: ...

    def release_image(self, app: str) -> str: ...

    def run(self, argv: list[str], what: str, **kwargs: Any) -> Result: ...

    def note(self, text: str) -> None: ...

    def resource(self, kind: type[R]) -> R:
        """The run's one resource of `kind` (a `Resource` subclass), made on first use."""
        ...
