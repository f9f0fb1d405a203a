"""The run's end never fails for the release record: an unreachable GitHub is said, with the
command that attaches later, in the terminal and the record; a plan makes no GitHub call."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from atmo_release.environment import EnvironmentFileError, load_environment, parse_environment
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from atmo_release.resources import compose_flavour
from fixtures.deployment import DeployRun
from fixtures.release_record import run_finished, run_started

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghp_" + "t" * 36
UNREACHABLE = "http://127.0.0.1:9"  # discard: nothing listens


@pytest.fixture(autouse=True)
def _no_compose_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's Compose is none of these tests' business: asking `docker-compose version`
    took 0.5 to 1 s a test (the deployment then keeps the environment file's command)."""
    monkeypatch.setattr(compose_flavour, "find", lambda target, command, env_path: None)


def _run(tmp_path: Path, said: list[str], planning: bool = False) -> DeployRun:
    environment = load_environment("atmobeta", ROOT / "environments")
    table = {"repository": "cyverse/atmosphere", "api": UNREACHABLE, "uploads": UNREACHABLE}
    environment = replace(environment, extra={"release_record": {**table, "token_env": "T_TOK"}})
    deployment = Deployment.create(
        environment, Release.parse("v37-3"), "Ada", "Grace", tmp_path, planning=planning
    )
    return DeployRun(deployment, tmp_path, said.append)


def test_an_unreachable_github_is_said_and_the_outcome_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_TOK", TOKEN)
    said: list[str] = []
    run = _run(tmp_path, said)
    run_started(run, run.deployment, said.append)
    assert said == [
        "[release record] no GitHub deployment: create a deployment of v37-3 to atmobeta in "
        "cyverse/atmosphere: ConnectionError"
    ]
    run.finish("")
    (tmp_path / "junit.xml").write_text("<testsuites/>\n")
    run_finished(run, run.deployment, said.append)
    assert (
        "[release record] NOT attached: the reports: GitHubError: GET the release of v37-3 "
        "in cyverse/atmosphere: ConnectionError" in said
    )
    assert said[1] == "" and said[-1] == (
        f"[release record] attach later with: python -m atmo_release.attach {tmp_path} "
        "--env atmobeta"
    )
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["outcome"] == "passed"
    assert record["facts"]["release_record"]["attach later with"].endswith("--env atmobeta")
    assert not [line for line in said if TOKEN in line]


def test_a_plan_makes_no_github_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_TOK", TOKEN)
    said: list[str] = []
    run = _run(tmp_path, said, planning=True)
    run_started(run, run.deployment, said.append)
    run_finished(run, run.deployment, said.append)
    assert said == [] and "github_deployment" not in run.record.facts


def test_a_repository_not_owner_slash_name_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "environments" / "atmobeta.toml").read_text()
    path = tmp_path / "atmobeta.toml"
    path.write_text(text.replace('repository = "cyverse/atmosphere"', 'repository = "atmosphere"'))
    with pytest.raises(EnvironmentFileError, match="release_record.repository must be OWNER/"):
        parse_environment(path)
