"""The throwaway deploy host: atmobeta's layout in a container, reached over SSH only."""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from atmo_release import compose_tags
from atmo_release.environment import Environment, parse_environment
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from atmo_release.target.ssh import SshError, SshTarget
from rehearsal import compose_flavours, host_container
from rehearsal.deploy_host import DeployHost
from rehearsal.host_environment import ATMOBETA
from rehearsal.image_manifest import COMPOSE_V2_DIR
from rehearsal.sweep import RUN_LABEL
from tests.rehearsal.feature_runs import feature, finish
from tests.rehearsal.test_ssh_release_day import host_state, inside

pytestmark = pytest.mark.docker

COMPOSE = [
    "docker-compose",
    "-f",
    "/opt/dev/atmosphere-docker/docker-compose.prod.yml",
    "-p",
    "atmosphere-docker",
]


@pytest.fixture(scope="module")
def host() -> Iterator[DeployHost]:
    deploy_host = DeployHost(log=print)
    try:
        deploy_host.up()
        print(f"deploy host timings (s): {deploy_host.timings}")
        yield deploy_host
    finally:
        deploy_host.down()


@pytest.fixture(scope="module")
def environment(host: DeployHost) -> Environment:
    return parse_environment(host.env_file)


@pytest.fixture(scope="module")
def target(environment: Environment) -> Iterator[SshTarget]:
    assert environment.ssh is not None
    ssh = SshTarget(environment.ssh).open()
    yield ssh
    ssh.close()


def _flat(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_the_environment_differs_from_atmobeta_only_in_target_and_urls(host: DeployHost) -> None:
    ours = _flat(tomllib.loads(host.env_file.read_text()))
    atmobeta = _flat(tomllib.loads(ATMOBETA.read_text()))
    allowed = {"services.atmosphere.url", "services.troposphere.url"}
    differing = {
        key
        for key in ours.keys() | atmobeta.keys()
        if not key.startswith("target.") and ours.get(key, "<absent>") != atmobeta.get(key)
    }
    assert differing <= allowed, f"differs from atmobeta.toml in {sorted(differing - allowed)}"
    assert {k for k in ours if k.startswith("target.")} == {
        "target.ssh",
        "target.port",
        "target.identity_file",
        "target.known_hosts",
        "target.host_key_alias",
    }


def test_both_apps_run_the_older_release_under_compose(target: SshTarget) -> None:
    """Found by the compose labels (v1's `ps` table is not v2's), named as v1 names them."""
    assert target.run([*COMPOSE, "version"]).ok
    ps = target.run(
        [
            *("docker", "ps", "--filter", "label=com.docker.compose.project=atmosphere-docker"),
            *("--format", '{{.Label "com.docker.compose.service"}} {{.Names}} {{.State}}'),
        ]
    )
    assert ps.ok, ps.tail()
    assert sorted(ps.stdout.splitlines()) == [
        "atmosphere atmosphere-docker_atmosphere_1 running",
        "troposphere atmosphere-docker_troposphere_1 running",
    ]
    images = target.run(["docker", "ps", "--format", "{{.Image}}"])
    assert sorted(images.stdout.split()) == [
        "cyverse/atmosphere:release-v37-2",
        "cyverse/troposphere:release-v37-2",
    ]


def test_a_host_with_neither_compose_is_refused_and_one_with_only_v2_is_detected(
    host: DeployHost, tmp_path: Path
) -> None:
    """The environment file names no Compose. The host loses docker-compose (it has no v2
    plugin): the run is refused in one sentence, nothing touched; then it gets the v2 plugin
    and nothing else: detected, and preflight's Docker check and `config` pass on it."""
    env_file = tmp_path / "detect.toml"
    env_file.write_text(
        host.env_file.read_text().replace('compose_command = ["docker-compose"]\n', "")
    )
    for name in ("id_ed25519", "known_hosts"):
        (tmp_path / name).symlink_to(host.root / name)
    assert parse_environment(env_file).compose_command == ()
    plugin = "/usr/local/lib/docker/cli-plugins/docker-compose"
    inside(host, "mv", "/usr/bin/docker-compose", "/root/docker-compose.hidden")
    try:
        before = host_state(host)
        rc, output = finish(feature(host, tmp_path / "neither", env_file=env_file), timeout=300)
        assert rc == 3, output[-3000:]
        refusal = next(line for line in output.splitlines() if "refused: " in line)
        assert "neither `docker compose` (Compose v2, exit 1) nor `docker-compose` (v1, " in refusal
        assert "exit 127) answers on ssh root@127.0.0.1:" in refusal
        assert refusal.rstrip(" !").endswith("nothing was changed"), refusal
        assert host_state(host) == before
        inside(host, "mkdir", "-p", str(Path(plugin).parent))
        host_container.docker(
            ["cp", str(COMPOSE_V2_DIR / "docker-compose"), f"{host.containers.host}:{plugin}"]
        )
        deployment = Deployment.create(
            parse_environment(env_file), Release.parse("v37-3"), "Lin", "Ada", tmp_path
        )
        try:
            assert deployment.compose_command == ("docker", "compose")
            assert deployment.record.facts["compose"] == {
                "flavour": "v2",
                "version": compose_flavours.pinned_version(),
                "command": "docker compose",
                "chosen": "detected on the deploy host",
            }
            deployment.record.begin_step("Preflight", "Docker answers")
            deployment.host.check_docker()
            shown = compose_tags.config_images(
                deployment.target.run(deployment.compose.config()).stdout
            )
            assert shown == {
                app: f"cyverse/{app}:release-v37-2" for app in ("atmosphere", "troposphere")
            }
            assert {s: c.name for s, c in deployment.containers.now().items()} == {
                "atmosphere": "atmosphere-docker_atmosphere_1",
                "troposphere": "atmosphere-docker_troposphere_1",
            }
        finally:
            deployment.target.close()
    finally:
        inside(host, "rm", "-f", plugin)
        inside(host, "mv", "/root/docker-compose.hidden", "/usr/bin/docker-compose")


def test_psql_on_the_host_answers(target: SshTarget, environment: Environment) -> None:
    ini = target.read_text(environment.secrets_dir / "inis" / "atmosphere.ini")
    password = next(
        line.split("=", 1)[1].strip()
        for line in ini.splitlines()
        if line.startswith("DATABASE_PASSWORD")
    )
    sql = "SELECT count(*) FROM core_atmosphereuser"
    argv = ["psql", "-h", "127.0.0.1", "-U", "atmo_app", "-d", "atmo_prod", "-Atc", sql]
    result = target.run(argv, env={"PGPASSWORD": password})
    assert result.ok, result.tail()
    assert result.stdout.strip() == "13"


def test_the_apps_answer_http_from_the_runner(environment: Environment) -> None:
    atmosphere = environment.services["atmosphere"].url
    troposphere = environment.services["troposphere"].url
    assert requests.get(f"{atmosphere}/api/status/celery", timeout=5).json() == {"celery": "ok"}
    assert requests.get(f"{troposphere}/tropo-api/version", timeout=5).ok


def test_the_layout_is_atmobetas(target: SshTarget, environment: Environment) -> None:
    """The checkout has a local edit and one upstream commit to pull; the secrets have the
    branches; postgres:15 pulls through the mirror (the dumps' throwaway database)."""
    status = target.run(["git", "status", "--porcelain"], cwd=environment.deploy_dir)
    assert status.stdout.strip() == "M docker-compose.prod.yml"
    assert target.run(["git", "fetch", "-q"], cwd=environment.deploy_dir).ok
    behind = target.run(["git", "rev-list", "--count", "HEAD..@{u}"], cwd=environment.deploy_dir)
    assert behind.stdout.strip() == "1"
    branches = target.run(["git", "-C", str(environment.secrets_dir), "branch", "--list"])
    assert sorted(branches.stdout.replace("*", "").split()) == [
        "atmobeta",
        "jetstream-prod",
        "prod",
    ]
    pulled = target.run(["docker", "pull", "-q", "postgres:15"], timeout=300)
    assert pulled.ok, pulled.tail()


def test_a_hostile_argv_reaches_printf_literally(target: SshTarget) -> None:
    words = ["it's", '"q"', "$(touch /tmp/pwned)", "a; rm -rf /", "`id`", "two\nlines", "$HOME"]
    result = target.run(["printf", "%s\\0", *words])
    assert result.ok, result.tail()
    assert result.stdout.split("\0")[:-1] == words
    assert not target.exists(Path("/tmp/pwned"))


def test_a_changed_host_key_is_refused_in_one_sentence(
    environment: Environment, tmp_path: Path
) -> None:
    assert environment.ssh is not None and environment.ssh.known_hosts is not None
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    alias, _ = environment.ssh.known_hosts.read_text().split(" ", 1)
    known_hosts = tmp_path / "known_hosts"
    key_type, key = other.with_suffix(".pub").read_text().split()[:2]
    known_hosts.write_text(f"{alias} {key_type} {key}\n")
    with pytest.raises(SshError) as refused:
        SshTarget(replace(environment.ssh, known_hosts=known_hosts)).open()
    message = str(refused.value)
    assert "host key" in message and "changed" in message
    assert "\n" not in message and message.count(". ") == 0, message


def test_nothing_labelled_is_left_afterwards(host: DeployHost) -> None:
    host.down()
    client = docker.from_env()
    selector = {"label": f"{RUN_LABEL}={host.run_id}"}
    assert client.containers.list(all=True, filters=selector) == []
    assert client.networks.list(filters=selector) == []
    assert client.volumes.list(filters=selector) == []
    assert not host.root.exists()
