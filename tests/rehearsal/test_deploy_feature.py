"""features/deploy.feature run as an operator runs it: reports, halting, and no secret leaks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import pytest

from rehearsal.sweep import PID_LABEL

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


def run_feature(
    tmp_path: Path, *extra: str, fault: str = ""
) -> tuple[subprocess.CompletedProcess[str], Path, list[str]]:
    reports = tmp_path / "reports"
    secrets_file = tmp_path / "secrets.txt"
    env = {**os.environ, "ATMO_TEST_SECRETS_FILE": str(secrets_file), "ATMO_TEST_FAULT": fault}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "features/deploy.feature",
            "-p",
            "tests.rehearsal.rehearsal_probe",
            f"--junitxml={reports / 'junit.xml'}",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    secrets = [line for line in secrets_file.read_text().splitlines() if line]
    return done, reports, secrets


def assert_no_secret_anywhere(reports: Path, output: str, secrets: list[str]) -> None:
    assert len(secrets) >= 5
    files = [path for path in reports.rglob("*") if path.is_file()]
    assert {p.name for p in files} >= {"junit.xml", "cucumber.json", "record.json", "record.md"}
    for path in files:
        text = path.read_text(errors="replace")
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{path.name} holds {len(leaked)} secret values"
    assert not [s for s in secrets if s in output], "the terminal showed a secret value"


def test_rehearsal_deploy_passes_with_reports_and_no_secrets(tmp_path: Path) -> None:
    """`./scripts/rehearse --compose=v2`: the README's command runs deploy.feature on v1 too."""
    done, reports, secrets = run_feature(
        tmp_path, "--crew-chief=Ada", "--driver=Grace", "--compose=v2"
    )
    assert done.returncode == 0, done.stdout[-3000:]
    suite = ET.parse(reports / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "10" and suite.get("failures") == "0"
    assert suite.get("skipped") == "1", "only the rollback scenario, which was not needed"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {
        "env": "rehearsal",
        "release": "v37-3",
        "crew_chief": "Ada",
        "driver": "Grace",
    }
    record = json.loads((reports / "record.json").read_text())
    assert record["outcome"] == "passed" and record["previous_release"] == "v37-2"
    assert record["facts"]["compose"]["flavour"] == "v2"
    compose = record["facts"]["compose"]
    shown = f"- compose: v2 {compose['version']} (docker compose)"
    assert shown in (reports / "record.md").read_text()
    assert record["maintenance_window"]["seconds"] > 0
    changes = record["facts"]["secrets_changes"]
    assert changes["added"] == ["inis/atmosphere.ini:ARGO_TOKEN"]
    assert "inis/atmosphere.ini:SECRET_KEY" in changes["changed"]
    assert_no_secret_anywhere(reports, done.stdout + done.stderr, secrets)


def test_deleted_row_halts_the_run_and_names_the_step(tmp_path: Path) -> None:
    done, reports, secrets = run_feature(tmp_path, fault="delete-row")
    assert done.returncode == 1, done.stdout[-3000:]
    cases = {case.get("name"): case for case in ET.parse(reports / "junit.xml").iter("testcase")}
    failure = cases["test_use_and_test"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith(
        "Step failed: And every row is kept, changed only as the rehearsed migrations change it"
    )
    assert "core_instance: 40 rows expected, 39 after" in (failure.text or "")
    skipped = cases["test_end_maintenance"].find("skipped")
    assert skipped is not None
    assert (
        "halted at: Use and test / And every row is kept, changed only as the rehearsed "
        "migrations change it" in (skipped.get("message") or "")
    )
    assert cases["test_roll_back_when_the_new_release_failed_its_checks"].find("failure") is None
    record = json.loads((reports / "record.json").read_text())
    assert record["outcome"] == "halted, rolled back"
    assert "every row is kept" in record["halted_at"]
    assert record["facts"]["rollback"]["proven"] is True
    assert record["stack_state"]["maintenance on"] == {"troposphere": True, "atmosphere": True}
    assert "rolled back to" in record["next_safe_command"]
    assert "maintenance is still on" in record["next_safe_command"]
    assert_no_secret_anywhere(reports, done.stdout + done.stderr, secrets)


def _leftovers(pid: int) -> list[str]:
    client = docker.from_env()
    label = f"{PID_LABEL}={pid}"
    # A container removed between the listing and its inspection (another run's sweep of
    # what a dead process left) is gone, not left.
    listed = client.containers.list(all=True, filters={"label": label}, ignore_removed=True)
    found = [c.name for c in listed]
    found += [n.name for n in client.networks.list(filters={"label": label})]
    found += [v.name for v in client.volumes.list(filters={"label": label})]
    return found


def test_ctrl_c_leaves_nothing_behind(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "features/deploy.feature",
            f"--junitxml={tmp_path / 'junit.xml'}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    deadline = time.monotonic() + 600
    for line in child.stdout:
        if "Start maintenance: When maintenance is started on troposphere" in line:
            break
        assert time.monotonic() < deadline
    assert _leftovers(child.pid), "the stack should be up when Ctrl-C is sent"
    child.send_signal(signal.SIGINT)
    child.communicate(timeout=300)
    assert _leftovers(child.pid) == []
