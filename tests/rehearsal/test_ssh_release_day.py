"""Release day over SSH on the throwaway deploy host: faults with the host's state read before
and after (a changed host key, a hostile maintenance title, the connection cut mid-run)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.commands import manage
from atmo_release.environment import parse_environment
from atmo_release.labels import RUN_LABEL
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from rehearsal.deploy_host import DeployHost
from tests.rehearsal.feature_runs import feature, finish

pytestmark = pytest.mark.docker

PROJECT = "atmosphere-docker"
STOPPED = "every service container has exited"


@pytest.fixture(scope="module")
def host() -> Iterator[DeployHost]:
    deploy_host = DeployHost(log=print)
    try:
        deploy_host.up()
        yield deploy_host
    finally:
        deploy_host.down()


def inside(host: DeployHost, *argv: str) -> str:
    return host.containers.exec(list(argv))


def host_state(host: DeployHost) -> dict[str, object]:
    """Read beside SSH (docker exec): containers, maintenance records, backups, the checkout."""
    sql = "SELECT count(*), count(*) FILTER (WHERE end_date IS NULL) FROM maintenance_record"
    records = inside(host, "su", "postgres", "-c", f'psql -At -d atmo_prod -c "{sql}"').strip()
    deployment = ("--filter", f"label=com.docker.compose.project={PROJECT}")
    return {
        "containers": sorted(
            inside(
                host,
                "docker",
                "ps",
                "-a",
                *deployment,
                "--format",
                "{{.Names}} {{.State}} {{.Image}}",
            )
            .strip()
            .splitlines()
        ),
        # The run id of each throwaway copy (and its migrations) still on the host.
        "copies": sorted(
            inside(
                host,
                "docker",
                "ps",
                "-a",
                "--filter",
                f"label={RUN_LABEL}",
                "--format",
                f'{{{{.Label "{RUN_LABEL}"}}}}',
            )
            .strip()
            .splitlines()
        ),
        "maintenance records, active": records,
        "backups": sorted(
            inside(host, "docker", "images", "--format", "{{.Repository}}:{{.Tag}}")
            .strip()
            .splitlines()
        ),
        "checkout": inside(host, "git", "-C", "/opt/dev/atmosphere-docker", "rev-parse", "HEAD"),
    }


def record_of(out: Path) -> dict[str, object]:
    return json.loads((out / "record.json").read_text())


def test_a_changed_host_key_is_refused_before_any_action(host: DeployHost, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    env_file = tmp_path / "changed-key.toml"
    known = tmp_path / "known_hosts"
    alias = host.alias
    known.write_text(f"{alias} {' '.join(other.with_suffix('.pub').read_text().split()[:2])}\n")
    text = host.env_file.read_text()
    original_known = next(line for line in text.splitlines() if line.startswith("known_hosts"))
    identity = next(line for line in text.splitlines() if line.startswith("identity_file"))
    text = text.replace(original_known, f'known_hosts = "{known}"')
    text = text.replace(identity, f'identity_file = "{host.root / identity.split(chr(34))[1]}"')
    env_file.write_text(text)
    before = host_state(host)
    rc, output = finish(feature(host, tmp_path / "out", env_file=env_file), timeout=300)
    assert rc == 4, output
    lines = [line for line in output.splitlines() if "host key" in line]
    assert lines and "unknown or has changed" in lines[0] and "nothing was run" in lines[0]
    assert host_state(host) == before


def test_a_hostile_title_travels_over_ssh_literally(host: DeployHost, tmp_path: Path) -> None:
    deployment = Deployment.create(
        parse_environment(host.env_file), Release.parse("v37-3"), "Lin", "Ada", tmp_path
    )
    try:
        deployment.secrets.load()
        service = deployment.service("atmosphere")
        title = "v37-3 'quoted' \"double\" $(touch /tmp/pwned) `id`; rm -rf / \\ end"
        message = "line one\nline two; $HOME"
        argv = deployment.compose.exec_(
            "atmosphere", manage.maintenance_start(service.venv, service.workdir, title, message)
        )
        assert deployment.target.run(argv).ok
        records = deployment.db.active_records(service.database, service.maintenance_table)
        assert records == [(title, message)]
        assert not deployment.target.exists(Path("/tmp/pwned"))
        stop = deployment.compose.exec_(
            "atmosphere", manage.maintenance_stop(service.venv, service.workdir)
        )
        assert deployment.target.run(stop).ok
        assert deployment.db.active_maintenance(service.database, service.maintenance_table) == 0
    finally:
        deployment.target.close()


def test_a_cut_connection_halts_and_the_next_run_finishes_with_one_backup_each(
    host: DeployHost, tmp_path: Path
) -> None:
    first = tmp_path / "runs" / "first"
    cut = {"ATMO_TEST_CUT_SSH_AFTER": STOPPED, "ATMO_TEST_HOST_CONTAINER": host.containers.host}
    rc, output = finish(feature(host, first, **cut), timeout=900)
    assert rc == 1, output
    record = record_of(first)
    assert record["outcome"] == "halted", record["outcome"]
    assert str(record["halted_at"]).startswith("Stop the containers and back them up"), record
    cut_state = host_state(host)
    assert all(" exited " in line for line in cut_state["containers"]), cut_state
    assert cut_state["maintenance records, active"].endswith("|1"), cut_state
    assert not [b for b in cut_state["backups"] if b.startswith(f"old_{PROJECT}_")]
    # The copies the cut kept the run from removing are its own, named in its record.
    assert set(cut_state["copies"]) <= {record["run_id"]}, cut_state
    if cut_state["copies"]:
        assert record["run_id"] in str(record["facts"]["copies_left"])
    inside(host, "iptables", "-D", "INPUT", "-p", "tcp", "--dport", "22", "-j", "REJECT")
    refused = tmp_path / "runs" / "refused"
    rc, output = finish(feature(host, refused), timeout=300)
    assert rc == 3 and "the lock is stale because its process" in output, output
    second = tmp_path / "runs" / "second"
    reason = "--break-lock=the first run lost its SSH connection"
    rc, output = finish(feature(host, second, reason), timeout=900)
    assert rc == 0, output
    record = record_of(second)
    assert record["outcome"] == "passed"
    assert record["facts"]["resumed_from"]["run_id"] == record_of(first)["run_id"]
    after = host_state(host)
    backups = [b for b in after["backups"] if b.startswith(f"old_{PROJECT}_")]
    assert sorted(backups) == [
        f"old_{PROJECT}_atmosphere:release-v37-2",
        f"old_{PROJECT}_troposphere:release-v37-2",
    ]
    assert all("release-v37-3" in line for line in after["containers"] if " running " in line)
    assert after["copies"] == [], after  # the run that resumed removed what the cut one left
    assert after["maintenance records, active"].endswith("|0"), after


ROLLBACK = "the new release failed its checks, the old release and its data are restored"
READY = "the apps are ready within the environment's timeout"
LOST_EVENT = "DELETE FROM core_event WHERE id = (SELECT max(id) FROM core_event)"
AS_AFTER_PG_UPGRADE = (
    "psql -X -q -d atmo_prod -c 'ALTER SCHEMA public OWNER TO postgres' "
    "-c 'GRANT CREATE ON SCHEMA public TO PUBLIC'"
)


@pytest.mark.proves("the database's role can do what a rollback's restore does")
def test_the_role_must_be_able_to_restore_where_postgres_owns_public(
    host: DeployHost, tmp_path: Path
) -> None:
    """Schema public belongs to postgres, as after pg_upgrade: with CREATE on it for everybody
    (pg_upgrade keeps the old default) the role can restore; with CREATE revoked from PUBLIC
    it cannot, and preflight says what it lacks."""
    deployment = Deployment.create(
        parse_environment(host.env_file), Release.parse("v37-3"), "Lin", "Ada", tmp_path
    )
    revoke = "psql -X -q -d atmo_prod -c 'REVOKE CREATE ON SCHEMA public FROM PUBLIC'"
    try:
        deployment.secrets.load()
        inside(host, "su", "postgres", "-c", AS_AFTER_PG_UPGRADE)
        deployment.restores.check_rights()
        inside(host, "su", "postgres", "-c", revoke)
        with pytest.raises(CheckFailed, match="lacks CREATE on schema public, which postgres"):
            deployment.restores.check_rights()
    finally:
        inside(host, "su", "postgres", "-c", AS_AFTER_PG_UPGRADE)
        deployment.target.close()


def test_a_connection_cut_during_a_restore_leaves_a_verdict_for_the_next_run(
    host: DeployHost, tmp_path: Path
) -> None:
    """Schema public belongs to postgres, as after pg_upgrade. The release loses an event once
    started, so the run rolls back and restores atmo_prod as a job on the host; the
    connection is cut while that job runs. The run halts saying where
    the restore's status is; the job goes on and commits; the next run, rollback.feature,
    reads that it committed and goes back from there."""
    inside(host, "su", "postgres", "-c", AS_AFTER_PG_UPGRADE)
    running = [line for line in host_state(host)["containers"] if " running " in line]
    events = "SELECT count(*) FROM core_event"
    count = f'psql -At -d atmo_prod -c "{events}"'
    before = inside(host, "su", "postgres", "-c", count).strip()
    cut = tmp_path / "runs" / "cut"
    probe = {
        "ATMO_TEST_WRITES": json.dumps([[READY, "atmo_prod", LOST_EVENT]]),
        "ATMO_TEST_CUT_SSH_IN_RESTORE": ROLLBACK,
        "ATMO_TEST_HOST_CONTAINER": host.containers.host,
    }
    rc, output = finish(feature(host, cut, **probe), timeout=900)
    assert rc == 1, output
    record = record_of(cut)
    status = record["facts"]["restore_jobs"]["atmo_prod"]["status"]
    assert status in str(record["next_safe_command"]) and "rollback.feature" in str(
        record["next_safe_command"]
    ), record["next_safe_command"]
    deadline = time.monotonic() + 120
    while "exited" not in inside(host, "cat", status):
        assert time.monotonic() < deadline, inside(host, "cat", status)
        time.sleep(1)
    assert "exited 0" in inside(host, "cat", status)
    inside(host, "iptables", "-D", "INPUT", "-p", "tcp", "--dport", "22", "-j", "REJECT")
    back = tmp_path / "runs" / "back"
    reason = "--break-lock=the run lost its SSH connection during the restore"
    rc, output = finish(feature(host, back, reason, path="features/rollback.feature"), timeout=900)
    assert rc == 0, output
    earlier = record_of(back)["facts"]["earlier_restores"]
    assert earlier == [{"status": status, "exit": 0, "verdict": "committed"}], earlier
    assert inside(host, "su", "postgres", "-c", count).strip() == before
    assert inside(host, "cat", status).splitlines()[-1].startswith("settled committed")
    left = host_state(host)
    assert [line for line in left["containers"] if " running " in line] == running
    # rollback.feature does not resume the cut run: its copies stay, named in its record.
    assert set(left["copies"]) <= {record["run_id"]}, left
    if left["copies"]:
        assert record["run_id"] in str(record["facts"]["copies_left"])
