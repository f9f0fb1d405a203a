"""release_candidate.feature end to end on its rehearsal, and its faults, through subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from rehearsal.sweep import PID_LABEL
from tests.rehearsal import release_candidate_faults as faults
from tests.rehearsal.prove_probe import assert_proofs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.docker


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    pid: int  # what the run's containers are labelled with (other runs share the engine)


def run_feature(tmp_path: Path, *args: str) -> tuple[Run, Path]:
    reports = tmp_path / "reports"
    argv = [
        sys.executable, "-m", "pytest", "features/release_candidate.feature",
        "-p", "tests.rehearsal.prove_probe",
        f"--junitxml={reports / 'junit.xml'}", "--release=v37-6", *args,
    ]  # fmt: skip
    env = {**os.environ, "ATMO_TEST_PROOFS_FILE": str(tmp_path / "proofs.json")}
    pipe = subprocess.PIPE
    with subprocess.Popen(argv, cwd=ROOT, env=env, stdout=pipe, stderr=pipe, text=True) as child:
        stdout, stderr = child.communicate(timeout=300)
    return Run(child.returncode, stdout, stderr, child.pid), reports


def _record(reports: Path) -> dict:
    return json.loads((reports / "release_candidate-record.json").read_text())


def _left_behind(done: Run) -> str:
    return subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={PID_LABEL}={done.pid}"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip


@pytest.mark.proves(
    "each changelog commit has the release heading holding exactly the Unreleased items "
    "and every other line as it was",
    "master upstream is the merge of the changelog commit and holds the released changelog",
    "the upstream has the annotated release tag on the merge",
    "each app's release image is in the registry",
)
def test_passes_on_the_rehearsal_with_each_check_seen_failing(tmp_path: Path) -> None:
    """Before each check, undone after it: the changelog commit amended with an old line
    reworded, master pushed back before the merge, the tag made lightweight, the release image
    pushed again with another manifest."""
    started = time.monotonic()
    done, reports = run_feature(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert time.monotonic() - started < 60
    assert_proofs(
        tmp_path / "proofs.json",
        {
            faults.CHANGELOG: r"^CandidateError: line \d+ of the original changed: '  - ",
            faults.MERGED: r"^CandidateError: atmosphere: upstream/master is \w{12}, not the merge",
            faults.TAGGED: r"^CandidateError: atmosphere: v37-6 upstream is not an annotated tag$",
            faults.IMAGES: r"^AssertionError: cyverse/atmosphere:release-v37-6 is now sha256:\w+",
        },
    )
    record = _record(reports)
    assert record["outcome"] == "passed" and record["feature"] == "release_candidate"
    assert set(record["facts"]["images"]) == {
        "cyverse/atmosphere:release-v37-6",
        "cyverse/troposphere:release-v37-6",
    }
    tags = record["facts"]["tags"]
    assert set(tags) == {"atmosphere", "troposphere", "atmosphere-ansible"}
    for tag in tags.values():
        assert tag["commit"] == tag["merge"]
    changelogs = record["facts"]["changelogs"]
    assert changelogs["atmosphere-ansible"]["note"] == (
        "v37-6 skips numbers after v36-1 (the next would be v36-2 or v37-0)"
    )
    assert changelogs["atmosphere"]["note"] == changelogs["troposphere"]["note"] == ""
    ansible = record["facts"]["slated_pulls"]["atmosphere-ansible"]
    assert [(p["number"], p["state"], p["merged"]) for p in ansible] == [
        (401, "closed", True),
        (404, "closed", True),
    ]
    assert "allow_open_prs" not in record["facts"]
    assert _left_behind(done) == ""


OPEN_PR = "atmosphere-ansible#404 'Install Guacamole 1.1 on new images'"


@pytest.mark.proves("no pull request slated for the release is still open")
def test_an_open_slated_pull_request_halts_before_the_changelogs(tmp_path: Path) -> None:
    done, reports = run_feature(tmp_path, "--rehearsal-fault=open-pr")
    assert done.returncode == 1
    assert f"1 pull request(s) slated for the release still open: {OPEN_PR}" in done.stdout
    record = _record(reports)
    assert record["outcome"] == "halted"
    assert record["halted_at"].startswith("Merge the PRs slated for the release")
    assert [step["result"] for step in record["steps"]] == ["passed", "failed"]
    assert "changelogs" not in record["facts"] and "tags" not in record["facts"]
    assert _left_behind(done) == ""


def test_allow_open_prs_goes_on_and_is_recorded(tmp_path: Path) -> None:
    reason = "Guacamole 1.1 waits for v37-7"
    done, reports = run_feature(tmp_path, "--rehearsal-fault=open-pr", f"--allow-open-prs={reason}")
    assert done.returncode == 0, done.stdout[-3000:]
    record = _record(reports)
    assert record["facts"]["allow_open_prs"] == {"reason": reason, "still_open": [OPEN_PR]}
    assert record["outcome"] == "passed"


def test_allow_open_prs_without_a_reason_is_refused(tmp_path: Path) -> None:
    done, reports = run_feature(tmp_path, "--allow-open-prs= ")
    assert done.returncode != 0
    assert (
        '--allow-open-prs needs a reason: --allow-open-prs "<reason>"' in done.stdout + done.stderr
    )
    assert not (reports / "release_candidate-record.json").exists()
    assert _left_behind(done) == ""


def test_an_empty_unreleased_section_halts_at_the_changelog(tmp_path: Path) -> None:
    done, reports = run_feature(tmp_path, "--rehearsal-fault=empty-unreleased")
    assert done.returncode == 1
    assert "has no items to release" in done.stdout
    record = _record(reports)
    assert record["outcome"] == "halted"
    assert record["halted_at"].startswith("Update the changelogs")
    assert [step["result"] for step in record["steps"]] == ["passed", "passed", "failed"]
    assert _left_behind(done) == ""


def test_a_tag_missing_from_the_registry_fails_the_poll_in_time(tmp_path: Path) -> None:
    started = time.monotonic()
    done, reports = run_feature(tmp_path, "--rehearsal-fault=no-image")
    assert done.returncode == 1
    assert time.monotonic() - started < 60
    assert "cyverse/troposphere:release-v37-6 not in" in done.stdout
    assert "after 15 s" in done.stdout
    record = _record(reports)
    assert record["halted_at"].startswith("The tagged build made the images")
    assert _left_behind(done) == ""
