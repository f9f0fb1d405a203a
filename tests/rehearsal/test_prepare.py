"""prepare.feature end to end on its rehearsal (real SMTP, local status.io), and its faults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.rehearsal import prepare_faults

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.docker  # the options check asks for a Docker engine


def run_feature(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    """prepare.feature with the prove probe: each Then step's fault is seen in proofs.json."""
    reports = tmp_path / "reports"
    argv = [
        sys.executable, "-m", "pytest", "features/prepare.feature", "-rs",
        "-p", "tests.rehearsal.prove_probe",
        f"--junitxml={reports / 'junit.xml'}", "--release=v37-6", *args,
    ]  # fmt: skip
    env = {**os.environ, "ATMO_TEST_PROOFS_FILE": str(tmp_path / "proofs.json")}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    record = json.loads((reports / "prepare-record.json").read_text())
    return done, record


GOOD = ("--release-date=2026-12-01", "--notice-date=2026-11-17")
ATTESTED = ("--attest=banner=Ada", "--attest=calendar=Bo")


def proofs(tmp_path: Path) -> dict[str, str]:
    return json.loads((tmp_path / "proofs.json").read_text())


@pytest.mark.proves(
    "the record names the crew chief and the driver",
    "the mail server received the notice naming the release and its date",
    "someone attested the maintenance banner on the user manual",
    "someone attested the maintenance window on the CyVerse maintenance calendar",
    "status.io lists exactly one upcoming maintenance for the release on the release date",
)
def test_passes_on_the_rehearsal_with_each_check_seen_failing(tmp_path: Path) -> None:
    """Before each check, undone after it: the record's driver emptied on disk, the mail server
    losing what it received, an attestation withdrawn, a second maintenance of the same name on
    status.io."""
    done, record = run_feature(tmp_path, *GOOD, *ATTESTED)
    assert done.returncode == 0, done.stdout[-3000:]
    assert proofs(tmp_path) == {
        prepare_faults.ROLES: "AssertionError: the record names no driver",
        prepare_faults.MAIL: f"AssertionError: the SMTP server received no message "
        f"{record['facts']['notice']['message_id']}",
        prepare_faults.BANNER: "AttestationMissing: nobody attested the maintenance banner on "
        "the user manual: confirm it, then run again with --attest banner=NAME",
        prepare_faults.CALENDAR: "AttestationMissing: nobody attested the maintenance window on "
        "the CyVerse maintenance calendar: confirm it, then run again with --attest calendar=NAME",
        prepare_faults.STATUSIO: "AssertionError: status.io lists 2 maintenances named "
        "'2026-12-01 v37-6 deployment', expected exactly 1",
    }
    assert "5 passed, 1 skipped" in done.stdout
    assert record["outcome"] == "passed"
    assert record["facts"]["attested_banner"]["who"] == "Ada"
    assert record["facts"]["attested_calendar"]["who"] == "Bo"
    assert record["facts"]["statusio"]["name"] == "2026-12-01 v37-6 deployment"
    assert "v37-6" in record["facts"]["notice"]["subject"]


def test_passes_with_rehearsal_defaults(tmp_path: Path) -> None:
    done, record = run_feature(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "(rehearsal default)" in record["facts"]["attested_banner"]["who"]


@pytest.mark.proves("the maintenance notice date leaves enough working days before the release")
def test_a_notice_one_working_day_before_fails_naming_the_dates(tmp_path: Path) -> None:
    """A notice date one working day before the release."""
    done, record = run_feature(
        tmp_path, "--release-date=2026-12-01", "--notice-date=2026-11-30", *ATTESTED
    )
    assert done.returncode == 1
    assert "notice of 2026-11-30 (Monday) gives 1 working day(s)" in done.stdout
    assert "release on 2026-12-01" in done.stdout
    assert record["halted_at"].startswith("The maintenance notice goes out in time")


def test_a_missing_attestation_fails_with_how_to_give_it(tmp_path: Path) -> None:
    done, record = run_feature(tmp_path, *GOOD, "--attest=banner=Ada")
    assert done.returncode == 1
    assert "--attest calendar=NAME" in done.stdout
    steps = {step["step"]: step["result"] for step in record["steps"]}
    assert steps["Then someone attested the maintenance banner on the user manual"] == "passed"
    assert record["halted_at"].startswith("Post the banner and the calendar entry")


def test_one_person_in_both_roles_is_warned(tmp_path: Path) -> None:
    done, record = run_feature(tmp_path, *GOOD, "--crew-chief=Ada", "--driver=ada")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "is both crew chief and driver" in done.stdout
    assert any("both crew chief and driver" in n for s in record["steps"] for n in s["notes"])


@pytest.mark.proves(
    "someone attested that the Jetstream tech team knows the date and time and told their users"
)
def test_jetstream_runs_only_its_own_scenario(tmp_path: Path) -> None:
    """The Jetstream tech team's attestation withdrawn before its check, undone after it."""
    done, record = run_feature(
        tmp_path, *GOOD, "--rehearsal-org=jetstream", "--attest=jetstream=Cy"
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert proofs(tmp_path)[prepare_faults.JETSTREAM] == (
        "AttestationMissing: nobody attested that the Jetstream tech team knows the date and "
        "time and told their users: confirm it, then run again with --attest jetstream=NAME"
    )
    assert "3 passed, 3 skipped" in done.stdout
    assert record["facts"]["attested_jetstream"]["who"] == "Cy"
