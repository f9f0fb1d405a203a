"""Shared fixtures of the tests that need a real rehearsal stack of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atmo_release.environment import parse_environment
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from rehearsal.deploy_repos import NEW_RELEASE
from rehearsal.stack import RehearsalStack


def stack_with(**options: Any) -> Iterator[RehearsalStack]:
    """A stack brought up (with RehearsalStack's `options`) and always taken down."""
    stack = RehearsalStack(log=lambda line: None, **options)
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="module")
def fresh_stack() -> Iterator[RehearsalStack]:
    """A rehearsal stack of the module's own, at the older release, removed afterwards."""
    yield from stack_with()


def deployment_for(stack: RehearsalStack, reports_dir: Path) -> Deployment:
    return Deployment.create(
        parse_environment(stack.env_file),
        Release.parse(NEW_RELEASE),
        "test crew chief",
        "test driver",
        reports_dir,
    )


@pytest.fixture
def stack() -> Iterator[RehearsalStack]:
    """A fresh stack for one test, which changes it for good."""
    yield from stack_with()
