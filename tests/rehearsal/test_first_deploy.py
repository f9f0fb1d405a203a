"""features/first_deploy.feature as an operator runs it, and the faults its checks must catch."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import pytest

from atmo_release.environment import parse_environment
from atmo_release.release_day.first_deploy import INIT_DUMPS, init_script
from rehearsal.first_deploy import to_toml
from rehearsal.sweep import PID_LABEL
from tests.rehearsal import first_deploy_faults
from tests.rehearsal.prove_probe import assert_proofs

ROOT = Path(__file__).resolve().parents[2]


def run_feature(tmp_path: Path, fault: str = "") -> tuple[int, str, Path, list[str], int]:
    """(exit code, output, reports dir, secret values, pid of the run)."""
    reports, secrets_file = tmp_path / "reports", tmp_path / "secrets.txt"
    env = {**os.environ, "ATMO_TEST_SECRETS_FILE": str(secrets_file), "ATMO_TEST_FAULT": fault}
    if fault == "prove-checks":
        env["ATMO_TEST_PROOFS_FILE"] = str(tmp_path / "proofs.json")
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "features/first_deploy.feature",
        "-p",
        "tests.rehearsal.first_deploy_probe",
        "-p",
        "tests.rehearsal.prove_probe",
        f"--junitxml={reports / 'junit.xml'}",
    ]
    with subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as child:
        output, _ = child.communicate(timeout=600)
    secrets = [line for line in secrets_file.read_text().splitlines() if line]
    return child.returncode, output, reports, secrets, child.pid


def results(reports: Path) -> dict[str, str]:
    """Scenario name -> passed / failed: <message> / skipped: <message>."""
    found: dict[str, str] = {}
    for case in ET.parse(reports / "junit.xml").getroot().iter("testcase"):
        outcome = "passed"
        for kind in ("failure", "skipped", "error"):
            element = case.find(kind)
            if element is not None:
                outcome = f"{kind}: {element.get('message', '')} {element.text or ''}"
        found[case.get("name", "")] = outcome
    return found


def assert_nothing_left(pid: int, reports: Path) -> None:
    client = docker.from_env()
    label = f"{PID_LABEL}={pid}"
    assert not client.containers.list(all=True, filters={"label": label})
    assert not client.networks.list(filters={"label": label})
    assert not client.volumes.list(filters={"label": label})
    record = (reports / "first_deploy-record.json").read_text()
    roots = {part.split("/backups/")[0] for part in record.split('"') if "/backups/" in part}
    assert roots and not [root for root in roots if Path(root).exists()]


@pytest.mark.docker
@pytest.mark.proves(
    "both checkouts are at their upstream heads, the secrets on the environment's branch, "
    "and the compose file is there",
    "every app runs the release's image and answers with the release's version",
    "no migration is left unapplied and the old production's database is untouched",
    "the new deployment holds every row of the old production, by count and by checksum",
)
def test_first_deploy_passes_and_leaves_nothing_with_each_check_seen_failing(
    tmp_path: Path,
) -> None:
    """Before each later check, undone after it: a local commit in the deploy checkout, a commit
    under the running atmosphere, an event written to the old production, an email changed in
    the new database."""
    rc, output, reports, secrets, pid = run_feature(tmp_path, fault="prove-checks")
    assert rc == 0, output[-3000:]
    assert_proofs(
        tmp_path / "proofs.json",
        {
            first_deploy_faults.CHECKOUTS: r"docker is at \w{12}, the upstream's HEAD is at",
            first_deploy_faults.ANSWERING: r"atmosphere serves \w{12} but its image holds \w{12}",
            first_deploy_faults.MIGRATED: r"old production's database changed .*core_event: \d+",
            first_deploy_faults.ROWS_KEPT: r"lost rows of the old production: atmo_prod: .*email",
        },
    )
    outcomes = results(reports)
    assert len(outcomes) == 4 and set(outcomes.values()) == {"passed"}, outcomes
    assert_nothing_left(pid, reports)
    assert secrets
    for path in reports.rglob("*"):
        if path.is_file():
            assert not [s for s in secrets if s in path.read_text(errors="replace")], path.name
    assert not [s for s in secrets if s in output]


@pytest.mark.docker
@pytest.mark.proves(
    "each dump is complete and restores into a throwaway PostgreSQL with the old production's "
    "row counts"
)
def test_a_truncated_dump_halts_at_the_restore_check(tmp_path: Path) -> None:
    """The atmo_prod dump cut in half right after it was taken."""
    rc, output, reports, _, pid = run_feature(tmp_path, fault="truncate-dump")
    assert rc != 0
    outcomes = list(results(reports).values())
    assert outcomes[0].startswith("failure") and "truncated" in outcomes[0], outcomes[0]
    assert "each dump is complete and restores" in outcomes[0]
    assert all(o.startswith("skipped") and "halted at" in o for o in outcomes[1:]), outcomes
    assert_nothing_left(pid, reports)


@pytest.mark.docker
@pytest.mark.proves("every table of the new database holds as many rows as the old production's")
def test_a_row_lost_after_the_load_fails_the_count_check_naming_the_table(
    tmp_path: Path,
) -> None:
    """An instance deleted from the new database right after the load."""
    rc, output, reports, _, pid = run_feature(tmp_path, fault="delete-row")
    assert rc != 0
    outcomes = list(results(reports).values())
    assert outcomes[:2] == ["passed", "passed"], outcomes
    assert outcomes[2].startswith("failure"), outcomes[2]
    assert "atmo_prod.core_instance: 40 rows in the source, 39 restored" in outcomes[2]
    assert outcomes[3].startswith("skipped"), outcomes[3]
    assert_nothing_left(pid, reports)


def test_init_script_loads_each_dump_into_its_own_database() -> None:
    script = init_script([("atmo_prod", "atmo-2026-11-26.sql"), ("troposphere", "tropo-x.sql")])
    assert script.startswith("#!/bin/sh\n") and "set -eu" in script
    assert f"/docker-entrypoint-initdb.d/{INIT_DUMPS}" in script
    assert '-d atmo_prod -f "$here/atmo-2026-11-26.sql"' in script
    assert 'createdb -U "$user" -O "$user" troposphere' in script
    assert script.count("--single-transaction") == 2


def test_rehearsal_environment_toml_parses_with_the_schema(tmp_path: Path) -> None:
    data = {
        "name": "x",
        "org": "cyverse",
        "production": False,
        "maintenance_message": 'say "hi"',
        "deploy": {
            "dir": "/d",
            "compose_file": "c.yml",
            "compose_command": ["docker-compose"],
            "project": "p",
            "backup_dir": "/b",
        },
        "secrets": {"dir": "/s", "branch": "atmobeta", "required_keys": ["env:server_name"]},
        "database": {
            "where": "host",
            "user": "atmo_app",
            "names": ["atmo_prod", "troposphere"],
            "password_from": "inis/atmosphere.ini:DATABASE_PASSWORD",
            "port": 5433,
        },
        "services": {
            app: {
                "image": f"i/{app}",
                "venv": "/v",
                "workdir": "/w",
                "url": "http://127.0.0.1:1",
                "ini": f"inis/{app}.ini",
                "database": "atmo_prod",
                "maintenance_table": "t",
            }
            for app in ("atmosphere", "troposphere")
        },
        "readiness": {"interval_s": 0.5, "timeout_s": 120},
        "smoke": {
            "api_token_env": "T",
            "browser": False,
            "checks": [{"name": 'the "a"', "url": "atmosphere:/a", "as": "exempt", "status": 200}],
        },
    }
    path = tmp_path / "e.toml"
    path.write_text(to_toml(data))
    env = parse_environment(path)
    assert [(c.name, c.url, c.status) for c in env.smoke.checks] == [
        ('the "a"', "atmosphere:/a", 200)
    ]
    assert env.database.port == 5433 and env.maintenance_message == 'say "hi"'
    assert env.services["troposphere"].image == "i/troposphere" and env.project == "p"
