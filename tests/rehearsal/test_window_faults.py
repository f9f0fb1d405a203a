"""Faults inside the maintenance window: each run ends in a stated, safe place, and the record's
"where the stack was left" is true when read back against the real stack (maintenance by each
database, containers and images by Docker).

One stack for the module: each test undoes its fault and ends maintenance, so the next run
starts from the older release serving with nobody locked out.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rehearsal.stack import RehearsalStack
from tests.rehearsal.feature_runs import env_file_with, feature, finish

pytestmark = pytest.mark.docker

APPS = {
    "atmosphere": ("atmo_prod", "maintenance_record"),
    "troposphere": ("troposphere", "api_maintenancerecord"),
}
OLD = "release-v37-2"


def maintenance_now(stack: RehearsalStack) -> dict[str, bool]:
    return {
        app: int(stack.psql(db, f"SELECT count(*) FROM {table} WHERE end_date IS NULL")) > 0
        for app, (db, table) in APPS.items()
    }


def containers_now(stack: RehearsalStack) -> dict[str, str]:
    found = stack.client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={stack.project}"}
    )
    return {
        c.labels["com.docker.compose.service"]: f"{c.status} {c.attrs['Config']['Image']}"
        for c in found
    }


def old_release(stack: RehearsalStack, status: str) -> dict[str, str]:
    return {app: f"{status} {stack.image(app)}:{OLD}" for app in APPS}


def left_as_recorded(stack: RehearsalStack, out: Path) -> dict[str, Any]:
    """The run's record, once its "where the stack was left" was checked against the stack."""
    record = json.loads((out / "record.json").read_text())
    left = record["stack_state"]
    print(f"{record['outcome']}: {record.get('halted_at')}\nleft: {left}")
    print(f"next: {record.get('next_safe_command')}")
    on = maintenance_now(stack)
    assert left["maintenance on"] == (on if any(on.values()) else "no"), (left, on)
    assert left["containers now"] == containers_now(stack)
    return record


@pytest.fixture
def serving(fresh_stack: RehearsalStack) -> Iterator[RehearsalStack]:
    """The shared stack serving the older release with maintenance off; put back so after."""
    assert {s: c.split(" ")[0] for s, c in containers_now(fresh_stack).items()} == {
        "atmosphere": "running",
        "troposphere": "running",
    }
    yield fresh_stack
    for db, table in APPS.values():
        fresh_stack.psql(db, f"UPDATE {table} SET end_date = now() WHERE end_date IS NULL")


def test_maintenance_command_that_exits_0_and_writes_nothing(
    serving: RehearsalStack, tmp_path: Path
) -> None:
    """Troposphere's record is deleted by a trigger as soon as it is written: the command
    succeeds, nobody is locked out there; atmosphere's record stays. The old release still
    serves, the record says maintenance is on for atmosphere only and how to end it."""
    serving.psql(
        "troposphere",
        "CREATE FUNCTION atmo_test_drop() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN DELETE FROM api_maintenancerecord WHERE id = NEW.id; RETURN NULL; END $$; "
        "CREATE TRIGGER atmo_test_drop AFTER INSERT ON api_maintenancerecord "
        "FOR EACH ROW EXECUTE FUNCTION atmo_test_drop()",
    )
    try:
        rc, output = finish(feature(serving, tmp_path / "run"))
    finally:
        serving.psql("troposphere", "DROP FUNCTION atmo_test_drop() CASCADE")
    assert rc == 1, output[-3000:]
    record = left_as_recorded(serving, tmp_path / "run")
    assert record["halted_at"].startswith("Start maintenance")
    assert (
        "troposphere.api_maintenancerecord holds 0 active maintenance records"
        in (record["halted_at"])
    )
    assert record["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": False}
    assert containers_now(serving) == old_release(serving, "running")
    assert record["next_safe_command"].startswith(
        "the old release still serves under maintenance; fix the cause, or end maintenance"
    )
    assert "rollback" not in record["facts"]


@contextmanager
def small_disk(directory: Path, size: str) -> Iterator[None]:
    """`directory` on a tmpfs of its own, of `size`; what it held before shows again after."""
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here: {mounted.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True)


def test_disk_full_during_the_backups(serving: RehearsalStack, tmp_path: Path) -> None:
    """The backup directory fills up once the apps have stopped: the window dump of what users
    wrote since the proven dumps cannot be written. Maintenance stays on, the old release is
    stopped and untouched, and the record says so and how to bring it back."""
    env_file = env_file_with(
        serving, tmp_path / "small.toml", "backup_dir = ", "free_space_margin_mb = 1\nbackup_dir = "
    )
    late_write = [
        "the migrations succeed there and what they change in each table is recorded",
        "atmo_prod",
        "UPDATE core_atmosphereuser SET email = 'late@example.org' WHERE id = 1",
    ]
    with small_disk(serving.backup_dir, "48m"):
        rc, output = finish(
            feature(
                serving,
                tmp_path / "run",
                env_file=env_file,
                ATMO_TEST_WRITES=json.dumps([late_write]),
                ATMO_TEST_FILL_AFTER="the containers are stopped",
                ATMO_TEST_FILL_FILE=str(serving.backup_dir / "filler"),
            )
        )
    try:
        assert rc == 1, output[-3000:]
        record = left_as_recorded(serving, tmp_path / "run")
        assert record["halted_at"].startswith("Stop the containers and back them up")
        assert "No space left on device" in record["halted_at"]
        assert record["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": True}
        assert containers_now(serving) == old_release(serving, "exited")
        assert record["next_safe_command"].startswith(
            "the old release is stopped (not backed up: no backup image); to bring it back: "
        )
        assert "rollback" not in record["facts"]
    finally:
        subprocess.run(serving.compose("up", "-d"), check=True, capture_output=True)
        serving.wait_ready()


def test_network_to_the_apps_drops_during_readiness(
    serving: RehearsalStack, tmp_path: Path
) -> None:
    """Atmosphere's container leaves the network right after the new release started: the
    runner cannot reach it, readiness times out, the rollback brings the old release back on
    fresh containers, maintenance stays on, and the record says so."""
    env_file = env_file_with(serving, tmp_path / "short.toml", "timeout_s = 120", "timeout_s = 8")
    disconnect = ["network", "disconnect", serving.network, serving.container_name("atmosphere")]
    rc, output = finish(
        feature(
            serving,
            tmp_path / "run",
            env_file=env_file,
            ATMO_TEST_DOCKER_AFTER=json.dumps(
                ["every service container runs the release's image", disconnect]
            ),
        )
    )
    assert rc == 1, output[-3000:]
    record = left_as_recorded(serving, tmp_path / "run")
    assert record["halted_at"].startswith("Start the new images")
    assert "not ready within 8 s" in record["halted_at"]
    assert record["outcome"] == "halted, rolled back"
    assert record["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": True}
    assert containers_now(serving) == old_release(serving, "running")
    assert record["next_safe_command"].startswith("rolled back to")


# Kill PostgreSQL's checkpointer: the postmaster ends every session, restarts its processes
# and recovers, as after any crash of a server process (the container stays up on its port).
CRASH_RESTART = (
    "for p in /proc/[0-9]*; do case $(tr '\\0' ' ' < $p/cmdline 2>/dev/null) in "
    '"postgres: checkpointer"*) kill -9 "${p#/proc/}";; esac; done'
)


def test_database_restarting_during_the_smoke_checks(
    serving: RehearsalStack, tmp_path: Path
) -> None:
    """Last here: the run may end with the new release up. The database restarts between
    the version check and the migration check. Whether the next check meets it recovering
    (a halt, then the rollback) or recovered (the run goes on), the record says where the
    stack was left, and that is where it is."""
    postgres = serving.client.containers.get(f"{serving.project}-postgres")
    crash = ["exec", postgres.id, "sh", "-c", CRASH_RESTART]
    rc, output = finish(
        feature(
            serving,
            tmp_path / "run",
            ATMO_TEST_DOCKER_AFTER=json.dumps(
                ["the version endpoints report the new release", crash]
            ),
        )
    )
    logs = postgres.logs().decode(errors="replace")
    assert "all server processes terminated; reinitializing" in logs
    record = left_as_recorded(serving, tmp_path / "run")
    if rc == 0:
        assert record["outcome"] == "passed"
        assert record["stack_state"]["maintenance on"] == "no"
        assert containers_now(serving) == {
            app: f"running {serving.image(app)}:release-v37-3" for app in APPS
        }
    else:
        assert record["outcome"] == "halted, rolled back", output[-3000:]
        assert record["halted_at"].startswith("Use and test")
        assert record["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": True}
        assert containers_now(serving) == old_release(serving, "running")
