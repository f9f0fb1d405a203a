"""prepare_atmobeta.feature on its rehearsal, through subprocess: production variables prepared,
and the faults its checks must catch; no report of any run holds a secret's value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TO_CONFIRM = "inis/atmosphere.ini:MAINTENANCE_EXEMPT_USERNAMES"
pytestmark = pytest.mark.docker  # a feature run asks for a Docker engine


def run_feature(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    reports, secrets_file = tmp_path / "reports", tmp_path / "secrets.txt"
    argv = [
        sys.executable, "-m", "pytest", "features/prepare_atmobeta.feature",
        "-p", "tests.rehearsal.prepare_atmobeta_probe",
        f"--junitxml={reports / 'junit.xml'}", *args,
    ]  # fmt: skip
    env = {**os.environ, "ATMO_TEST_SECRETS_FILE": str(secrets_file)}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return done, reports


def _record(reports: Path) -> dict:
    return json.loads((reports / "prepare_atmobeta-record.json").read_text())


def assert_no_secret_in_reports(tmp_path: Path, done: subprocess.CompletedProcess[str]) -> None:
    """Every file of the run's reports, and its terminal output, scanned for every value."""
    values = [v for v in (tmp_path / "secrets.txt").read_text().splitlines() if v]
    assert len(values) >= 7, f"{len(values)} values"  # passwords, six secret keys, two ARGO tokens
    files = [path for path in (tmp_path / "reports").rglob("*") if path.is_file()]
    assert len(files) >= 4, files  # junit.xml, cucumber.json, the record's json and md
    for text in [done.stdout, done.stderr, *(path.read_text() for path in files)]:
        leaked = sum(value in text for value in values)
        assert leaked == 0, f"{leaked} secret value(s) found"  # never the values themselves


def test_prepared_production_variables_pass_with_the_change_confirmed(tmp_path: Path) -> None:
    done, reports = run_feature(tmp_path, "--attest", "prod-variables=Ada")
    assert done.returncode == 0, done.stdout[-3000:]
    record = _record(reports)
    facts = record["facts"]["production_variables"]
    assert facts["missing"] == [] and facts["to_confirm"] == [TO_CONFIRM]
    assert facts["since"]["described"].startswith("the last production deployment (production-")
    assert record["facts"]["attested_prod-variables"]["who"] == "Ada"
    assert_no_secret_in_reports(tmp_path, done)


@pytest.mark.proves("every key set on the atmobeta branch is set on the production branch")
def test_a_key_missing_on_production_fails_by_name(tmp_path: Path) -> None:
    done, reports = run_feature(tmp_path, "--rehearsal-secrets-fault=missing-prod-key")
    assert done.returncode == 1
    assert (
        "set on atmobeta but missing or empty on prod: inis/atmosphere.ini:ARGO_TOKEN;"
        in done.stdout
    )
    record = _record(reports)
    assert record["outcome"] == "halted"
    assert [step["result"] for step in record["steps"]] == ["passed", "failed"]
    assert record["facts"]["production_variables"]["missing"] == ["inis/atmosphere.ini:ARGO_TOKEN"]
    assert_no_secret_in_reports(tmp_path, done)


@pytest.mark.proves(
    "someone confirmed each key changed on atmobeta but not on production "
    "since the last production deployment"
)
def test_a_change_nobody_confirmed_fails_naming_the_key(tmp_path: Path) -> None:
    done, reports = run_feature(tmp_path, "--attest", "banner=Ada")
    assert done.returncode == 1
    assert f"atmobeta changes to {TO_CONFIRM}" in done.stdout
    assert "run again with --attest prod-variables=NAME" in done.stdout
    assert [step["result"] for step in _record(reports)["steps"]] == ["passed", "passed", "failed"]
    assert_no_secret_in_reports(tmp_path, done)
