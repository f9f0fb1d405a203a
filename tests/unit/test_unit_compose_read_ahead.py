"""Compose's `config` read in preflight on upstream's file with the release's tags, and taken
inside the window only for the same text and `.env`."""

from __future__ import annotations

from pathlib import Path

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.release_day.deployment import Deployment
from tests.unit.fake_target import FakeTarget
from tests.unit.test_unit_compose_flavour import V1_CONFIG

UPSTREAM = V1_CONFIG.replace("release-v37-3", "release-v37-2")


@pytest.fixture
def ahead(deployment: Deployment, fake: FakeTarget) -> Deployment:
    """Preflight's reading done, the compose file then edited as the window edits it."""
    deployment.record.begin_step("Preflight", "upstream's compose file")
    fake.files[deployment.env.compose_path] = UPSTREAM
    fake.answer("show", stdout=UPSTREAM)
    fake.answer("mktemp", stdout="/tmp/ahead\n")
    fake.answer("config", stdout=V1_CONFIG)
    deployment.compose_edit.check_upstream_release_tags()
    deployment.compose_edit.set_release_tags()
    return deployment


def config_calls(fake: FakeTarget) -> list[tuple[str, ...]]:
    return [argv for argv in fake.calls if argv[-1] == "config"]


def test_preflight_reads_upstreams_file_with_the_release_tags_in_a_private_copy(
    ahead: Deployment, fake: FakeTarget
) -> None:
    path = ahead.env.compose_path
    copy = f"/tmp/ahead/{path.name}"
    assert ("create", copy) in fake.calls
    assert fake.files[Path(copy)] == fake.files[path]  # the text the window then wrote
    assert config_calls(fake) == [
        (
            *("docker-compose", "-f", copy, "--project-directory", str(path.parent)),
            *("-p", ahead.compose.project, "config"),
        )
    ]
    assert fake.commands("rm", "-rf", "/tmp/ahead")
    assert fake.commands("git", "-C", str(ahead.env.deploy_dir), "show")[0][-1].startswith("@{u}:")


def test_the_window_takes_the_reading_for_the_same_text_and_env(
    ahead: Deployment, fake: FakeTarget
) -> None:
    ahead.compose_edit.check_release_tags()
    assert len(config_calls(fake)) == 1
    assert "what it read in preflight" in ahead.record.steps[-1].notes[-1]


def test_the_window_reads_config_again_when_env_changed(
    ahead: Deployment, fake: FakeTarget
) -> None:
    fake.files[ahead.env.compose_path.parent / ".env"] = "ATMO_REGISTRY=elsewhere\n"
    ahead.compose_edit.check_release_tags()
    assert config_calls(fake)[1:] == [tuple(ahead.compose.config())]


def test_the_window_reads_config_again_when_the_file_changed(
    ahead: Deployment, fake: FakeTarget
) -> None:
    fake.files[ahead.env.compose_path] += "# edited after the tags\n"
    with pytest.raises(CheckFailed, match="not an image line"):
        ahead.compose_edit.check_release_tags()
    assert config_calls(fake)[1:] == [tuple(ahead.compose.config())]


def test_preflight_halts_on_an_image_compose_reads_otherwise(
    deployment: Deployment, fake: FakeTarget
) -> None:
    deployment.record.begin_step("Preflight", "upstream's compose file")
    fake.files[deployment.env.compose_path] = UPSTREAM
    fake.answer("show", stdout=UPSTREAM)
    fake.answer("mktemp", stdout="/tmp/ahead\n")
    fake.answer("config", stdout=V1_CONFIG.replace("image: cyverse/", "image: /cyverse/"))
    with pytest.raises(CheckFailed, match="with the release's tags shows atmosphere image"):
        deployment.compose_edit.check_upstream_release_tags()
    assert not deployment.state.config_read_ahead
    assert fake.commands("rm", "-rf", "/tmp/ahead")
