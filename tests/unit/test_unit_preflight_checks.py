"""The preflight checks of what would otherwise fail inside the window: the secrets branch read
without a checkout, the deploy checkout's fast-forward, the compose file's services. Exact
argv on a fake target, and every one of them a read."""

from __future__ import annotations

from dataclasses import replace

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.release_day.deployment import Deployment
from tests.unit.fake_target import FakeTarget
from tests.unit.test_unit_resources import COMPOSE_TEXT, DEPLOY

SECRETS = "/opt/dev/atmosphere-docker-secrets"
INI = "[local.py]\nDATABASE_PASSWORD = pw\nSECRET_KEY = s3cret\n"


def branch_files(fake: FakeTarget, atmosphere_ini: str = INI, troposphere_rc: int = 0) -> None:
    fake.answer("show", "refs/heads/atmobeta:env", stdout="server_name=beta\n")
    fake.answer("show", "refs/heads/atmobeta:inis/atmosphere.ini", stdout=atmosphere_ini)
    fake.answer("show", "refs/heads/atmobeta:inis/troposphere.ini", stdout=INI, rc=troposphere_rc)


def test_the_secrets_branch_is_read_from_git_without_a_checkout(
    deployment: Deployment, fake: FakeTarget
) -> None:
    branch_files(fake)
    deployment.secrets.check_branch()
    assert fake.calls == [
        ("git", "-C", SECRETS, "rev-parse", "--verify", "--quiet", "refs/heads/atmobeta"),
        ("git", "-C", SECRETS, "show", "refs/heads/atmobeta:env"),
        ("git", "-C", SECRETS, "show", "refs/heads/atmobeta:inis/atmosphere.ini"),
        ("git", "-C", SECRETS, "show", "refs/heads/atmobeta:inis/troposphere.ini"),
    ]
    assert not any(result.changes for result in fake.results)
    assert deployment.target.redactor("s3cret") != "s3cret"


def test_a_key_missing_from_the_branch_is_named_with_its_file(
    deployment: Deployment, fake: FakeTarget
) -> None:
    branch_files(fake, atmosphere_ini="[local.py]\nDATABASE_PASSWORD = pw\nSECRET_KEY =\n")
    with pytest.raises(
        CheckFailed,
        match="the secrets branch atmobeta lacks a value for SECRET_KEY in inis/atmosphere.ini: "
        "commit it",
    ):
        deployment.secrets.check_branch()


def test_a_settings_file_missing_from_the_branch_is_named(
    deployment: Deployment, fake: FakeTarget
) -> None:
    branch_files(fake, troposphere_rc=128)
    with pytest.raises(CheckFailed, match="lacks the file inis/troposphere.ini"):
        deployment.secrets.check_branch()


def test_a_missing_branch_is_named(deployment: Deployment, fake: FakeTarget) -> None:
    fake.answer("refs/heads/atmobeta", rc=1)
    with pytest.raises(CheckFailed, match="has no branch atmobeta: fetch it"):
        deployment.secrets.check_branch()


def test_fast_forward_is_asked_of_git_after_a_fetch(
    deployment: Deployment, fake: FakeTarget
) -> None:
    deployment.checkout.check_can_fast_forward()
    assert fake.calls == [
        ("git", "-C", DEPLOY, "fetch", "--quiet"),
        ("git", "-C", DEPLOY, "rev-parse", "@{u}"),
        ("git", "-C", DEPLOY, "merge-base", "--is-ancestor", "HEAD", "@{u}"),
    ]
    assert not any(result.changes for result in fake.results)


def test_a_diverged_checkout_names_its_local_commits(
    deployment: Deployment, fake: FakeTarget
) -> None:
    fake.answer("merge-base", rc=1)
    fake.answer("@{u}..HEAD", stdout="abc1234 hotfix\n")
    with pytest.raises(CheckFailed, match=r"cannot fast-forward .* 1 commits .*abc1234 hotfix"):
        deployment.checkout.check_can_fast_forward()


def test_a_checkout_without_upstream_is_refused(deployment: Deployment, fake: FakeTarget) -> None:
    fake.answer("rev-parse", "@{u}", rc=128)
    with pytest.raises(CheckFailed, match="has no upstream branch to pull"):
        deployment.checkout.check_can_fast_forward()


def test_compose_services_are_read_now_and_from_upstream(
    deployment: Deployment, fake: FakeTarget
) -> None:
    fake.files[deployment.env.compose_path] = COMPOSE_TEXT
    fake.answer("show", "@{u}:docker-compose.prod.yml", stdout=COMPOSE_TEXT)
    deployment.compose_edit.check_services_known()
    assert fake.calls == [("git", "-C", DEPLOY, "show", "@{u}:docker-compose.prod.yml")]


def test_a_service_only_upstream_names_is_refused(deployment: Deployment, fake: FakeTarget) -> None:
    fake.files[deployment.env.compose_path] = COMPOSE_TEXT
    upstream = COMPOSE_TEXT + "  celery:\n    image: cyverse/atmosphere:worker\n"
    fake.answer("show", "@{u}:docker-compose.prod.yml", stdout=upstream)
    with pytest.raises(
        CheckFailed,
        match="docker-compose.prod.yml upstream names the service celery that .*atmobeta.toml "
        r"does not know: add \[services.<name>\]",
    ):
        deployment.compose_edit.check_services_known()


def test_the_database_service_is_known_when_it_runs_in_the_project(
    deployment: Deployment, fake: FakeTarget
) -> None:
    database = replace(deployment.env.database, where="service", service="postgres")
    deployment.env = replace(deployment.env, database=database)
    text = COMPOSE_TEXT + "  postgres:\n    image: postgres:15\n"
    fake.files[deployment.env.compose_path] = text
    fake.answer("show", "@{u}:docker-compose.prod.yml", stdout=text)
    deployment.compose_edit.check_services_known()
