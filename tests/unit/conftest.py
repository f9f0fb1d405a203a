"""Fixtures of the resource tests: a deployment of atmobeta on a fake target."""

from __future__ import annotations

from pathlib import Path

import pytest

from atmo_release.release_day.deployment import Deployment
from tests.unit.fake_target import FakeTarget
from tests.unit.test_unit_resources import deployment_on


@pytest.fixture
def fake() -> FakeTarget:
    return FakeTarget()


@pytest.fixture
def deployment(fake: FakeTarget, tmp_path: Path) -> Deployment:
    return deployment_on(fake, tmp_path / "reports")
