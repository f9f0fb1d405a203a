"""The release record on the rehearsal: deploy runs attach their reports to the stand-in's
release of the tag and carry a GitHub deployment, and tell the crew chief's webhook each section
and the end; the attach command catches up, once; the release candidate makes the release of its
tag. Every uploaded byte and every message is scanned for secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rehearsal.github_stand_in import RECORD_REPOSITORY, token_env
from rehearsal.stack import RELEASE_NOTE, RehearsalStack
from rehearsal.webhook_sink import WebhookSink
from tests.rehearsal.feature_runs import ROOT, feature, finish

pytestmark = pytest.mark.docker
OWNER, REPO = RECORD_REPOSITORY.split("/")
SECTIONS = [
    "Preflight, before anything changes",
    "Dump the databases and prove the dumps restore",
    "Start maintenance",
    "Check out the secrets",
    "Stop the containers and back them up",
    "Update the deploy checkout",
    "Start the new images",
    "Use and test",
    "End maintenance",
]
ROLLBACK = "Roll back when the new release failed its checks"  # @always: it skips itself
# A row lost once the new release is up: the run halts at "Use and test" and rolls back.
DELETE_A_ROW = json.dumps(
    [
        [
            "the apps are ready within the environment's timeout",
            "atmo_prod",
            "DELETE FROM core_instance WHERE id = (SELECT max(id) FROM core_instance)",
        ]
    ]
)
KINDS = {
    "junit.xml": "junit.xml",
    "cucumber.json": "cucumber.json",
    "record.json": "record.json",
    "record.html": "record.html",
}


def _prefix(record: dict[str, Any]) -> str:
    started = record["started"].replace("-", "").replace(":", "").split("+")[0]
    return f"rehearsal-{started}Z"


def _assets(stack: RehearsalStack, tag: str) -> dict[str, int]:
    assert stack.github is not None
    release = stack.github.release_of(OWNER, REPO, tag)
    assert release is not None, f"the stand-in has no release of {tag}"
    return {asset["name"]: asset["size"] for asset in release["assets"]}


def _attached_files(stack: RehearsalStack, out: Path, tag: str, output: str) -> None:
    """Every report is in the release's asset list with its size."""
    record = json.loads((out / "record.json").read_text())
    assets, prefix = _assets(stack, tag), _prefix(record)
    for kind, file in KINDS.items():
        assert assets[f"{prefix}-{kind}"] == (out / file).stat().st_size, kind
    assert "not attached" not in output


def _logged_at_the_record(stack: RehearsalStack, out: Path, tag: str) -> None:
    """The run's deployment points at the attached record.html."""
    record = json.loads((out / "record.json").read_text())
    html = (
        f"https://github.com/{OWNER}/{REPO}/releases/download/{tag}/{_prefix(record)}-record.html"
    )
    assert _deployment(stack, record["run_id"])["statuses"][-1]["log_url"] == html


def _deployment(stack: RehearsalStack, run_id: str) -> dict[str, Any]:
    assert stack.github is not None
    found = [d for d in stack.github.deployments.values() if d["payload"]["run_id"] == run_id]
    assert len(found) == 1, f"{len(found)} deployments carry run {run_id}"
    return found[0]


def _states(stack: RehearsalStack, run_id: str) -> list[str]:
    """The statuses of the run's deployment, oldest first."""
    return [status["state"] for status in _deployment(stack, run_id)["statuses"]]


def _no_secret_uploaded(stack: RehearsalStack) -> int:
    """Every uploaded byte and every request body, scanned for the rehearsal's secrets."""
    assert stack.github is not None
    secrets = [value.encode() for value in stack.secret_values()]
    assert len(secrets) >= 5
    sent = [*stack.github.uploaded, *(json.dumps(c[2]).encode() for c in stack.github.calls)]
    leaks = [n for n, data in enumerate(sent) for secret in secrets if secret in data]
    assert leaks == [], f"{len(leaks)} uploads or requests hold a secret value"
    return sum(len(data) for data in sent)


def test_a_passed_deploy_is_attached_and_the_crew_chief_told_each_section_and_the_link(
    fresh_stack: RehearsalStack, tmp_path: Path
) -> None:
    """One run proves both: its record attached with a deployment reading success, and the
    [notify] webhook told, in order, every section and the end with the attached record."""
    env_file = tmp_path / "rehearsal-notify.toml"
    env_file.write_text(
        fresh_stack.env_file.read_text() + '\n[notify]\nwebhook_url_env = "ATMO_TEST_WEBHOOK_URL"\n'
    )
    out = tmp_path / "passed"
    with WebhookSink() as sink:
        code, output = finish(
            feature(fresh_stack, out, env_file=env_file, ATMO_TEST_WEBHOOK_URL=sink.url)
        )
    assert code == 0, output[-3000:]
    record = json.loads((out / "record.json").read_text())
    _attached_files(fresh_stack, out, "v37-3", output)
    _logged_at_the_record(fresh_stack, out, "v37-3")
    assert _states(fresh_stack, record["run_id"]) == ["in_progress", "success"]
    body = fresh_stack.github.release_of(OWNER, REPO, "v37-3")["body"]  # type: ignore[union-attr]
    assert body.startswith(RELEASE_NOTE)
    assert f"<!-- atmo-release:begin env=rehearsal run={record['run_id']} -->" in body
    assert "### rehearsal: passed (v37-3" in body and f"{_prefix(record)}-junit.xml](" in body
    assert "release_record" not in record["facts"], "nothing to say: all attached"
    leaked = fresh_stack.github.token in output  # type: ignore[union-attr]
    assert not leaked, "the token is in the output"
    scanned = _no_secret_uploaded(fresh_stack)
    print(f"attached {_assets(fresh_stack, 'v37-3')}; {scanned} bytes scanned, no secret")
    _told_in_order(sink, record)
    sent = "\n".join(sink.messages)
    written = "".join(path.read_text(errors="replace") for path in out.rglob("*") if path.is_file())
    for secret in [*fresh_stack.secret_values(), sink.url, sink.path]:
        found = secret in sent or secret in output or secret in written
        assert not found, "a secret value is in a message, the output or a written file"
    print("\n".join(sink.messages))


def _told_in_order(sink: WebhookSink, record: dict[str, Any]) -> None:
    head = "[rehearsal v37-3]"
    expected = [f"{head} {word}: {name}" for name in SECTIONS for word in ("started", "passed")]
    expected += [
        f"{head} started: {ROLLBACK}",
        f"{head} skipped: {ROLLBACK} (no rollback needed: the run did not halt)",
    ]
    assert sink.messages[:-1] == expected and sink.refused == []
    attached = (
        f"https://github.com/{OWNER}/{REPO}/releases/download/v37-3/{_prefix(record)}-record.html"
    )
    assert sink.messages[-1] == (
        f"{head} run {record['run_id']} passed (crew chief Lin, driver Ada)\nRecord: {attached}"
    )
    assert record["notes"] == []


def test_a_halted_deploy_is_attached_and_its_deployment_reads_failure(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    out = tmp_path / "halted"
    code, output = finish(feature(stack, out, ATMO_TEST_WRITES=DELETE_A_ROW))
    assert code == 1, output[-3000:]
    record = json.loads((out / "record.json").read_text())
    assert record["outcome"] == "halted, rolled back"
    _attached_files(stack, out, "v37-3", output)
    _logged_at_the_record(stack, out, "v37-3")
    assert _states(stack, record["run_id"]) == ["in_progress", "failure"]
    body = stack.github.release_of(OWNER, REPO, "v37-3")["body"]  # type: ignore[union-attr]
    assert (
        "### rehearsal: halted, rolled back (v37-3" in body and "- halted at: Use and test" in body
    )
    scanned = _no_secret_uploaded(stack)
    print(f"attached {_assets(stack, 'v37-3')}; {scanned} bytes scanned, no secret")


def _attach(stack: RehearsalStack, out: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "atmo_release.attach", str(out), "--env", str(stack.env_file)]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_without_a_token_the_run_attaches_nothing_and_the_command_attaches_once(
    stack: RehearsalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.github is not None
    variable, token = token_env(stack.github), stack.github.token
    monkeypatch.delenv(variable)
    out = tmp_path / "no-token"
    code, output = finish(feature(stack, out))
    assert code == 0, output[-3000:]
    assert f"no GitHub token in ${variable}: nothing attached" in output
    assert f"attach later with: python -m atmo_release.attach {out} --env " in output
    assert stack.github.calls == [] and stack.github.uploads.calls == []
    record = json.loads((out / "record.json").read_text())
    assert "no GitHub token" in record["facts"]["release_record"]["not attached"]
    monkeypatch.setenv(variable, token)
    first, second = _attach(stack, out), _attach(stack, out)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.splitlines()[-1] == "uploaded 4, already there 0"
    assert (
        second.returncode == 0 and second.stdout.splitlines()[-1] == "uploaded 0, already there 4"
    )
    _attached_files(stack, out, "v37-3", first.stdout)
    assert len(stack.github.uploaded) == 4
    found = token in first.stdout + second.stdout + output
    assert not found, "the token is in the output"
    print(first.stdout + second.stdout)


def _release_candidate(
    tmp_path: Path, **environ: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    reports = tmp_path / "reports"
    argv = [
        sys.executable, "-m", "pytest", "features/release_candidate.feature",
        "-p", "tests.rehearsal.rehearsal_probe",
        f"--junitxml={reports / 'junit.xml'}", "--release=v37-6",
    ]  # fmt: skip
    done = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, **environ}
    )
    return done, json.loads((reports / "release_candidate-record.json").read_text())


def test_the_release_candidate_makes_the_release_of_its_tag(tmp_path: Path) -> None:
    done, record = _release_candidate(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    for app, release in record["facts"]["releases"].items():
        assert (release["tag_name"], release["name"]) == ("v37-6", "v37-6")
        assert release["body"].startswith(f"## [v37-6](https://github.com/cyverse/{app}/compare/")
        assert f"Read the {app} settings from the environment" in release["body"]
        print(f"{app}: {release['tag_name']} {release['name']} draft={release['draft']}")
        print(release["body"])


@pytest.mark.proves(
    "each app repository has the release of the tag, named after the release, "
    "holding its changelog section"
)
def test_a_release_rewritten_by_hand_fails_the_read_back(tmp_path: Path) -> None:
    """Every release on the stand-in rewritten by hand right after it was made."""
    done, record = _release_candidate(tmp_path, ATMO_TEST_REWRITE_RELEASE="1")
    assert done.returncode == 1
    assert record["halted_at"].startswith(
        "The release of the tag / Then each app repository has the release of the tag"
    )
    assert "does not hold its changelog section" in record["halted_at"]
