"""Resources of a deployment on a fake target: the exact argv they send, in order, and that a
plan sends no change to the target it wraps."""

from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import date
from pathlib import Path

import pytest

import atmo_release.resources as package
from atmo_release.checks import CheckFailed
from atmo_release.environment import parse_environment
from atmo_release.record.run_record import ReleaseRecord
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from atmo_release.resources import Resource
from atmo_release.resources.containers import Containers
from atmo_release.resources.readiness import Readiness
from atmo_release.target import PlanTarget, Target
from tests.unit.fake_target import FakeTarget, answer_containers, container

ENVIRONMENT = Path(__file__).parents[2] / "environments" / "atmobeta.toml"
COMPOSE = [
    "docker-compose",
    "-f",
    "/opt/dev/atmosphere-docker/docker-compose.prod.yml",
    "-p",
    "atmosphere-docker",
]
DEPLOY = "/opt/dev/atmosphere-docker"
DAY = date(2026, 12, 1)
TITLE = "2026-12-01 v37-3 deployment"
COMPOSE_TEXT = (
    "services:\n  atmosphere:\n    image: cyverse/atmosphere:release-v37-2\n"
    "  troposphere:\n    image: cyverse/troposphere:release-v37-2\n"
)


def deployment_on(target: Target, reports: Path) -> Deployment:
    record = ReleaseRecord(
        env="atmobeta",
        release="v37-3",
        crew_chief="Ada",
        driver="Grace",
        target=target.name,
        run_id="r1",
    )
    env = parse_environment(ENVIRONMENT)
    return Deployment(env, Release.parse("37-3"), target, record, reports, day=DAY)


def test_stop_sends_compose_stop_and_the_state_says_so(
    deployment: Deployment, fake: FakeTarget
) -> None:
    deployment.containers.stop()
    assert fake.calls == [(*COMPOSE, "stop")]
    assert deployment.state.stopped


def test_maintenance_start_runs_manage_py_in_the_app_container(
    deployment: Deployment, fake: FakeTarget
) -> None:
    fake.answer("docker", "ps", stdout="atmosphere-docker_troposphere_1\n")
    deployment.maintenance.start("troposphere")
    message = deployment.env.maintenance_message
    assert fake.calls[-2] == (
        *("docker", "ps"),
        *("--filter", "label=com.docker.compose.project=atmosphere-docker"),
        *("--filter", "label=com.docker.compose.service=troposphere"),
        *("--format", "{{.Names}}"),
    )
    assert fake.calls[-1] == (
        "docker",
        "exec",
        "atmosphere-docker_troposphere_1",
        "/opt/env/troposphere/bin/python",
        "/opt/dev/troposphere/manage.py",
        "maintenance",
        "start",
        "--title",
        TITLE,
        "--message",
        message,
    )
    assert deployment.state.maintenance_on == {"troposphere": True}


def test_maintenance_is_not_started_in_a_container_that_does_not_run(
    deployment: Deployment, fake: FakeTarget
) -> None:
    with pytest.raises(CheckFailed, match="troposphere has no running container in compose "):
        deployment.maintenance.start("troposphere")
    assert not fake.commands("maintenance", "start")
    assert not deployment.state.maintenance_on


def test_maintenance_already_on_with_this_title_is_not_started_again(
    deployment: Deployment, fake: FakeTarget
) -> None:
    message = deployment.env.maintenance_message
    fake.answer("psql", stdout=f"{TITLE.encode().hex()}\t{message.encode().hex()}\n")
    deployment.maintenance.start("atmosphere")
    assert not fake.commands("maintenance", "start")
    assert deployment.state.maintenance_on == {"atmosphere": True}


def test_checkout_saves_what_is_local_on_the_target_before_the_reset(
    deployment: Deployment, fake: FakeTarget
) -> None:
    fake.answer("diff", "HEAD", stdout="-old\n+mine\n")
    fake.answer("status", "--porcelain", stdout="?? notes.txt\n")
    deployment.checkout.update()
    saved = Path("/root/deploy-checkout-local-2026-12-01.diff")
    assert fake.files[saved] == "-old\n+mine\n"
    order = [call[:1] if call[0] in ("create",) else call[3:5] for call in fake.calls]
    assert order.index(("create",)) < order.index(("reset", "--hard"))
    assert fake.calls[-2:] == [
        ("git", "-C", DEPLOY, "reset", "--hard", "--quiet"),
        ("git", "-C", DEPLOY, "pull", "--ff-only", "--quiet"),
    ]
    fake.answer("rev-parse", stdout="abc\n")
    deployment.checkout.check()
    fake.files[saved] = "lost"
    with pytest.raises(CheckFailed, match="does not hold what was local before the reset"):
        deployment.checkout.check()


def test_a_second_save_the_same_day_gets_its_own_file(
    deployment: Deployment, fake: FakeTarget
) -> None:
    fake.files[Path("/root/deploy-checkout-local-2026-12-01.diff")] = "earlier"
    deployment.checkout.update()
    assert Path("/root/deploy-checkout-local-2026-12-01.2.diff") in fake.files
    assert fake.files[Path("/root/deploy-checkout-local-2026-12-01.diff")] == "earlier"


def test_compose_tags_are_written_through_the_target_once(
    deployment: Deployment, fake: FakeTarget
) -> None:
    path = deployment.env.compose_path
    fake.files[path] = COMPOSE_TEXT
    deployment.compose_edit.set_release_tags()
    assert "image: cyverse/atmosphere:release-v37-3" in fake.files[path]
    assert fake.calls == [("write", str(path))]
    deployment.compose_edit.set_release_tags()
    assert fake.calls == [("write", str(path))]


def test_back_up_keeps_an_existing_backup_image(deployment: Deployment, fake: FakeTarget) -> None:
    answer_containers(fake, container("c1", "atmosphere", "cyverse/atmosphere:v37-2", "exited"))
    fake.answer("image", "inspect", stdout=json.dumps([{"Config": {"Labels": {}}}]))
    deployment.containers.back_up()
    assert not fake.commands("commit")
    assert deployment.state.backups == {"atmosphere": "old_atmosphere-docker_atmosphere:v37-2"}


def test_a_plan_sends_no_change_to_the_target_it_wraps(tmp_path: Path) -> None:
    inner = FakeTarget()
    inner.files[parse_environment(ENVIRONMENT).compose_path] = COMPOSE_TEXT
    inner.answer("docker", "ps", stdout="atmosphere-docker_troposphere_1\n")
    deployment = deployment_on(PlanTarget(inner), tmp_path)
    deployment.record.begin_step("plan", "every action")
    deployment.containers.stop()
    deployment.maintenance.start("troposphere")
    deployment.checkout.update()
    deployment.compose_edit.set_release_tags()
    assert inner.results and not any(result.changes for result in inner.results)
    assert not any(call[0] in ("write", "create") for call in inner.calls)
    planned = deployment.record.commands(changes_only=True)
    assert any("stop" in argv for argv in planned)
    assert any("reset" in argv for argv in planned)
    assert ["docker", "exec", "atmosphere-docker_troposphere_1"] in [argv[:3] for argv in planned]


@pytest.mark.proves("the old release answers with the versions from before the deploy")
def test_after_a_rollback_a_version_from_before_that_is_not_recorded_fails(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No version from before in the record (it used to pass whatever was served)."""
    served = {"atmosphere": "a" * 40, "troposphere": "b" * 40}
    monkeypatch.setattr(deployment.readiness, "version", lambda app: {"git_sha": served[app]})
    deployment.state.versions_before = {"atmosphere": {"git_sha": "a" * 40}}
    with pytest.raises(CheckFailed, match="troposphere serves bbbbbbbbbbbb, but the version from"):
        deployment.readiness.check_versions_as_before()
    deployment.state.versions_before["troposphere"] = {"git_sha": "c" * 40}
    with pytest.raises(CheckFailed, match="troposphere serves bbbbbbbbbbbb, not cccccccccccc"):
        deployment.readiness.check_versions_as_before()
    deployment.state.versions_before["troposphere"] = {"git_sha": "b" * 40}
    deployment.readiness.check_versions_as_before()


def test_no_resource_hides_what_every_resource_shares() -> None:
    """A method named like a shared property (`record`, `state`, ...) would turn every use of
    it inside the resource into the method."""
    shared = {name for name in vars(Resource) if not name.startswith("__")}
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    hiding = {
        f"{cls.__name__}.{name}"
        for cls in Resource.__subclasses__()
        for name in vars(cls)
        if name in shared and name != "__init__"
    }
    assert len(Resource.__subclasses__()) > 15 and hiding == set(), hiding


def test_a_resource_reaches_another_as_the_steps_do(tmp_path: Path) -> None:
    """Resources know only the run; the one they reach by class is the steps' own."""
    deployment = deployment_on(FakeTarget(), tmp_path)
    assert deployment.readiness is deployment.resource(Readiness)
    assert deployment.readiness.resource(Containers) is deployment.containers
