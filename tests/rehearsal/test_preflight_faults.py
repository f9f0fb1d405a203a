"""Faults that would make the deployment fail after users were locked out halt it in preflight,
before anything changes: each is injected into one shared rehearsal stack, a real run of
features/deploy.feature meets it, the stack is read before and after, and the fault is undone.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import pytest

from atmo_release.checks import CheckFailed
from atmo_release.environment import parse_environment
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from rehearsal.stack import RehearsalStack
from tests.rehearsal.conftest import deployment_for
from tests.rehearsal.feature_runs import env_file_with, feature, finish

pytestmark = pytest.mark.docker

MAINTENANCE_TABLES = {"atmo_prod": "maintenance_record", "troposphere": "api_maintenancerecord"}


def git(directory: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(directory), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@contextmanager
def pushed(
    repository: Path, branch: str, path: str, edit: Callable[[str], str], work: Path
) -> Iterator[None]:
    """A commit editing `path` on `branch` of `repository` (as someone else would push it),
    the branch put back afterwards."""
    old = git(repository, "rev-parse", branch)
    git(work.parent, "clone", "-q", "-b", branch, str(repository), str(work))
    (work / path).write_text(edit((work / path).read_text()))
    git(work, "commit", "-q", "-am", f"Edit {path}")
    git(work, "push", "-q", "origin", branch)
    try:
        yield
    finally:
        git(repository, "update-ref", f"refs/heads/{branch}", old)


def tree_digest(directory: Path) -> str:
    """Every file of a working tree, .git excluded: any byte changed shows."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and ".git" not in p.parts):
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def reading(stack: RehearsalStack) -> dict[str, Any]:
    """What a halt in preflight must leave as it was, read from the stack itself."""
    containers = docker.from_env().containers.list(
        all=True, filters={"label": f"com.docker.compose.project={stack.project}"}
    )
    return {
        "maintenance records": {
            database: int(stack.psql(database, f"SELECT count(*) FROM {table}"))
            for database, table in MAINTENANCE_TABLES.items()
        },
        "containers": sorted(
            (
                c.labels["com.docker.compose.service"],
                c.id[:12],
                c.attrs["Config"]["Image"],
                c.status,
            )
            for c in containers
        ),
        "compose file": hashlib.sha256(stack.compose_path.read_bytes()).hexdigest(),
        "secrets HEAD": git(stack.secrets_dir, "rev-parse", "HEAD"),
        "secrets branch": git(stack.secrets_dir, "symbolic-ref", "--short", "HEAD"),
        "secrets tree": tree_digest(stack.secrets_dir),
        "deploy HEAD": git(stack.deploy_dir, "rev-parse", "HEAD"),
        "deploy tree": tree_digest(stack.deploy_dir),
        "backup dir": sorted(p.name for p in stack.backup_dir.iterdir()),
        "rows": stack.counts(),
    }


def halted_in_preflight(
    stack: RehearsalStack, out: Path, *extra: str, **options: Any
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Run the feature against the faulty stack (`options` as `feature_runs.feature` takes
    them): (state before, state after, where it halted and why)."""
    before = reading(stack)
    rc, output = finish(feature(stack, out, *extra, **options), timeout=300)
    after = reading(stack)
    record = json.loads((out / "record.json").read_text()) if rc == 1 else {}
    print(f"exit {rc}: {record.get('halted_at')}\nbefore: {before}\nafter:  {after}")
    assert rc == 1, output[-3000:]
    assert "halted at: Preflight" in output, output[-3000:]
    assert record["outcome"] == "halted"
    assert record["stack_state"]["maintenance on"] == "no"
    assert record["next_safe_command"].startswith("nothing was changed")
    return before, after, record["halted_at"]


def assert_untouched(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert after == before
    assert before["maintenance records"] == {"atmo_prod": 0, "troposphere": 0}
    assert [c[3] for c in before["containers"]] == ["running", "running"]
    assert all(c[2].endswith(":release-v37-2") for c in before["containers"])


def test_release_tag_missing_from_the_registry(fresh_stack: RehearsalStack, tmp_path: Path) -> None:
    before, after, halted = halted_in_preflight(fresh_stack, tmp_path / "run", release="v37-7")
    assert f"image {fresh_stack.image('atmosphere')}:release-v37-7 could not be pulled" in halted
    assert (
        "nothing was changed: publish the image, make its registry reachable, or correct --release"
        in halted
    )
    assert_untouched(before, after)


def test_secrets_branch_missing_is_refused_before_any_action(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    git(fresh_stack.secrets_dir, "branch", "-m", "atmobeta", "atmobeta-renamed")
    try:
        before = reading(fresh_stack)
        rc, output = finish(feature(fresh_stack, tmp_path / "run"), timeout=300)
        after = reading(fresh_stack)
    finally:
        git(fresh_stack.secrets_dir, "branch", "-m", "atmobeta-renamed", "atmobeta")
    message = next((line for line in output.splitlines() if "no branch" in line), "")
    print(f"exit {rc}: {message}\nbefore: {before}\nafter:  {after}")
    assert rc == 4, output[-3000:]
    assert "the secrets checkout has no branch atmobeta: fetch it, or correct" in output
    assert not (tmp_path / "run" / "record.json").exists()
    assert_untouched(before, after)


@pytest.mark.proves("the secrets branch has every key the apps need")
def test_a_key_missing_from_the_secrets_branch(fresh_stack: RehearsalStack, tmp_path: Path) -> None:
    def drop_secret_key(text: str) -> str:
        return "".join(line for line in text.splitlines(True) if not line.startswith("SECRET_KEY"))

    secrets, ini = fresh_stack.secrets_dir, "inis/atmosphere.ini"
    with pushed(secrets, "atmobeta", ini, drop_secret_key, tmp_path / "secrets-work"):
        before, after, halted = halted_in_preflight(fresh_stack, tmp_path / "run")
    assert (
        "the secrets branch atmobeta lacks a value for SECRET_KEY in inis/atmosphere.ini: "
        "commit it to the branch in the secrets checkout, then run again; nothing was changed"
    ) in halted
    assert "the secrets branch has every key the apps need" in halted
    assert_untouched(before, after)


@pytest.mark.proves("the deploy checkout can fast-forward to upstream")
def test_a_deploy_checkout_diverged_from_upstream(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    git(fresh_stack.deploy_dir, "commit", "-q", "--allow-empty", "-m", "hotfix made on the host")
    try:
        before, after, halted = halted_in_preflight(fresh_stack, tmp_path / "run")
    finally:
        git(fresh_stack.deploy_dir, "reset", "-q", "HEAD~1")
    assert (
        f"the deploy checkout {fresh_stack.deploy_dir} cannot fast-forward to its upstream: it has "
        "1 commits upstream does not ("
    ) in halted
    assert "hotfix made on the host); push or drop them before release day" in halted
    assert "the deploy checkout can fast-forward to upstream" in halted
    assert_untouched(before, after)


@pytest.mark.proves("the compose file names only services the environment knows")
def test_upstream_compose_file_naming_an_unknown_service(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    def add_a_worker(text: str) -> str:
        worker = f"\n  celery:\n    image: '{fresh_stack.image('atmosphere')}:worker'\n"
        return text.replace("\nnetworks:", worker + "\nnetworks:")

    compose, work = "docker-compose.prod.yml", tmp_path / "upstream-work"
    with pushed(fresh_stack.upstream, "master", compose, add_a_worker, work):
        before, after, halted = halted_in_preflight(fresh_stack, tmp_path / "run")
    assert (
        "docker-compose.prod.yml upstream names the service celery that "
        f"{fresh_stack.env_file} does not know: add [services.<name>] there or remove it"
    ) in halted
    assert_untouched(before, after)


@pytest.mark.proves(
    "upstream's compose file with the release's tags shows the release's images in "
    "docker-compose config"
)
def test_upstream_compose_file_whose_image_takes_an_unset_variable(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    """Compose itself reads the image: a registry left to a variable nobody sets reads blank."""
    registry = fresh_stack.image("atmosphere").split("/")[0]

    def registry_by_variable(text: str) -> str:
        return text.replace(f"{registry}/cyverse/atmosphere", "${ATMO_REGISTRY}/cyverse/atmosphere")

    compose, work = "docker-compose.prod.yml", tmp_path / "upstream-work"
    with pushed(fresh_stack.upstream, "master", compose, registry_by_variable, work):
        before, after, halted = halted_in_preflight(fresh_stack, tmp_path / "run")
    assert (
        "docker-compose config of upstream's docker-compose.prod.yml with the release's tags "
        "shows atmosphere image '/cyverse/atmosphere:release-v37-3', expected "
        f"'{fresh_stack.image('atmosphere')}:release-v37-3'"
    ) in halted
    assert_untouched(before, after)


@pytest.mark.proves("the environment file is valid")
def test_environment_file_edited_after_the_start(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    env_file = tmp_path / "rehearsal.toml"
    env_file.write_text(fresh_stack.env_file.read_text())
    deployment = Deployment.create(
        parse_environment(env_file), Release.parse("v37-3"), "Lin", "Ada", tmp_path / "reports"
    )
    deployment.host.check_environment_file()
    env_file_with(fresh_stack, env_file, "timeout_s = ", "timeout_s = 1 + ")
    with pytest.raises(CheckFailed, match="not valid TOML"):
        deployment.host.check_environment_file()
    env_file_with(fresh_stack, env_file, "production = false", "production = true")
    with pytest.raises(CheckFailed, match=f"{env_file} changed since the run started: start"):
        deployment.host.check_environment_file()


@pytest.mark.proves("the crew chief and the driver are named")
def test_a_driver_named_by_blanks(fresh_stack: RehearsalStack, tmp_path: Path) -> None:
    before, after, halted = halted_in_preflight(fresh_stack, tmp_path / "run", driver="  ")
    assert "the crew chief and the driver are named" in halted
    assert "name the crew chief and the driver: --crew-chief=NAME --driver=NAME" in halted
    assert_untouched(before, after)


@pytest.mark.proves("Docker answers")
def test_docker_compose_missing_on_the_host(fresh_stack: RehearsalStack, tmp_path: Path) -> None:
    env_file = env_file_with(
        fresh_stack,
        tmp_path / "no-compose.toml",
        'compose_command = ["docker-compose"]',
        'compose_command = ["docker-compose-v9"]',
    )
    before, after, halted = halted_in_preflight(fresh_stack, tmp_path / "run", env_file=env_file)
    assert "Docker answers: docker-compose-v9 version failed (exit 127)" in halted
    assert_untouched(before, after)


@pytest.mark.proves("the compose file and the secrets checkout exist")
def test_compose_file_gone_after_the_start(fresh_stack: RehearsalStack, tmp_path: Path) -> None:
    """Refused at the start already (fixtures.options); this is the re-check just before the
    run reads them, with the file moved away in between."""
    deployment = deployment_for(fresh_stack, tmp_path / "reports")
    deployment.host.check_files()
    moved = fresh_stack.compose_path.with_suffix(".moved")
    fresh_stack.compose_path.rename(moved)
    try:
        with pytest.raises(CheckFailed, match="docker-compose.prod.yml does not exist: check"):
            deployment.host.check_files()
    finally:
        moved.rename(fresh_stack.compose_path)
    deployment.host.check_files()


@pytest.mark.proves("the previous release, its versions and its rows are in the record")
def test_a_resumed_run_whose_record_lacks_the_versions(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    before = reading(fresh_stack)
    killed = tmp_path / "killed"
    rc, _ = finish(
        feature(fresh_stack, killed, ATMO_TEST_KILL_AFTER="the running deployment is recorded")
    )
    assert rc == -9
    path = killed / "record.json"
    record = json.loads(path.read_text())
    del record["facts"]["versions_before"]
    path.write_text(json.dumps(record))
    _, after, halted = halted_in_preflight(
        fresh_stack, tmp_path / "resumed", "--break-lock=the first run was killed"
    )
    assert (
        f"the record of run {record['run_id']} holds no version from before for atmosphere, "
        "troposphere: run again with --restart"
    ) in halted
    assert_untouched(before, after)


@pytest.mark.proves("the release images are on the deploy host")
def test_release_images_removed_after_the_pull(fresh_stack: RehearsalStack, tmp_path: Path) -> None:
    deployment = deployment_for(fresh_stack, tmp_path / "reports")
    deployment.containers.pull_release_images()
    deployment.containers.check_release_images_present()
    image = deployment.release_image("troposphere")
    fresh_stack.client.images.remove(image)
    try:
        with pytest.raises(CheckFailed, match=f"image {image} is not on the deploy host"):
            deployment.containers.check_release_images_present()
    finally:
        fresh_stack.client.images.remove(deployment.release_image("atmosphere"))


@pytest.mark.proves(
    "the secrets checkout is on that branch with a clean tree and every key the apps need"
)
def test_secrets_edited_or_switched_after_the_checkout(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    """The branch itself is proven in preflight; what is checked out can still be edited or
    switched by hand before the check (here straight after the checkout, apps untouched)."""
    secrets = fresh_stack.secrets_dir
    deployment = deployment_for(fresh_stack, tmp_path / "reports")
    deployment.secrets.check_out()
    try:
        deployment.secrets.check()
        ini = secrets / "inis" / "atmosphere.ini"
        kept = ini.read_text()
        ini.write_text("".join(x for x in kept.splitlines(True) if not x.startswith("SECRET_KEY")))
        with pytest.raises(CheckFailed, match="secrets checkout has uncommitted changes"):
            deployment.secrets.check()
        ini.write_text(kept)
        git(secrets, "checkout", "-q", "jetstream-prod")
        with pytest.raises(CheckFailed, match="secrets checkout is on jetstream-prod, expected"):
            deployment.secrets.check()
    finally:
        git(secrets, "checkout", "-q", "--force", "prod")
    assert not git(secrets, "status", "--porcelain")


@pytest.mark.proves(
    "the keys changed since the last deployment are listed with their values masked"
)
def test_secrets_checkout_moved_away_before_the_listing(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    """The listing reads the checkout's commit from git: a checkout moved away (re-cloned by
    hand in the window) leaves nothing to list against, and the step says where it looked."""
    secrets = fresh_stack.secrets_dir
    deployment = deployment_for(fresh_stack, tmp_path / "reports")
    deployment.secrets.check_out()
    try:
        changes = deployment.secrets.list_changes(None)
        assert changes["changed"] == [
            "env:env_type",
            "env:server_name",
            "inis/atmosphere.ini:SECRET_KEY",
            "inis/troposphere.ini:SECRET_KEY",
        ]
        recorded = json.dumps(deployment.record.facts) + json.dumps(deployment.record.steps)
        assert not any(value in recorded for value in fresh_stack.secret_values())
        moved = secrets.with_name("secrets-moved")
        secrets.rename(moved)
        try:
            with pytest.raises(
                CheckFailed, match=f"reading the commit checked out in {secrets} failed"
            ):
                deployment.secrets.list_changes(None)
        finally:
            moved.rename(secrets)
    finally:
        git(secrets, "checkout", "-q", "prod")


def test_registry_down_at_the_pre_pull(fresh_stack: RehearsalStack, tmp_path: Path) -> None:
    """Last here: the registry stays stopped (its port would change on a restart); the module's
    stack is removed after it."""
    registry = fresh_stack.client.containers.get(f"{fresh_stack.project}-registry")
    registry.stop(timeout=5)
    before, after, halted = halted_in_preflight(fresh_stack, tmp_path / "run")
    assert f"image {fresh_stack.image('atmosphere')}:release-v37-3 could not be pulled" in halted
    assert (
        "nothing was changed: publish the image, make its registry reachable, or correct --release"
        in halted
    )
    assert_untouched(before, after)
