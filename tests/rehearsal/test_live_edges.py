"""Release-day edges of a live database, each a real run of features/deploy.feature: a migration
rehearsal whose settings name production, too little room for the copies and dumps, a writer
still connected once the apps stopped, and halts once users are back in.

One stack for the module, in this order: the first two halt before anything changes; the writer
halts the run with the old release stopped, and once its session is ended the runs of the last
test resume that run (as an operator runs again), upgrade the stack and halt in "End
maintenance" one step after the other.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.data.migration_runs import manage_argv, settings_for_copy
from atmo_release.data.sessions import APPLICATION_NAME
from atmo_release.data.throwaway_copy import ThrowawayCopy
from atmo_release.environment import parse_environment
from atmo_release.labels import RUN_LABEL
from rehearsal.database import DB_USER
from rehearsal.deploy_repos import SECRETS_BRANCH
from rehearsal.images import POSTGRES_IMAGE
from rehearsal.stack import RehearsalStack
from tests.rehearsal.conftest import deployment_for
from tests.rehearsal.feature_runs import env_file_with, feature, finish
from tests.rehearsal.test_window_faults import (
    APPS,
    containers_now,
    left_as_recorded,
    maintenance_now,
    old_release,
    small_disk,
)

pytestmark = pytest.mark.docker

NEW = "release-v37-3"
PROVEN = "the migrations succeed there and what they change in each table is recorded"
ROWS_KEPT = "every row is kept, changed only as the rehearsed migrations change it"
TROPOSPHERE_ENDED = "maintenance is ended on troposphere"
ATMOSPHERE_ENDED = "maintenance is ended on atmosphere"
NONE_ACTIVE = "no maintenance record is active"


def production(stack: RehearsalStack) -> dict[str, Any]:
    """What a run that halts before the backups must leave as it was."""
    return {
        "migrations": stack.psql(
            "atmo_prod",
            "SELECT string_agg(app || '.' || name, ',' ORDER BY id) FROM django_migrations",
        ).strip(),
        "rows": stack.counts(),
    }


def run(stack: RehearsalStack, out: Path, **options: Any) -> tuple[int, dict[str, Any], str]:
    rc, output = finish(feature(stack, out, **options))
    return rc, json.loads((out / "record.json").read_text()), output


def step_of(record: dict[str, Any], text: str) -> dict[str, Any]:
    return next(s for s in record["steps"] if s["step"].endswith(text))


@pytest.fixture(scope="module")
def live(fresh_stack: RehearsalStack) -> Iterator[RehearsalStack]:
    for app in APPS:
        fresh_stack.publish(app, "v37-98")
    yield fresh_stack


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The records of the writer's run and of the runs that resume it."""
    return tmp_path_factory.mktemp("records")


def test_a_migration_rehearsal_whose_settings_name_production_reaches_nothing(
    live: RehearsalStack, tmp_path: Path
) -> None:
    """Release v37-98's settings template ignores DATABASE_HOST and names production's
    `postgres:5432`. The rehearsal runs the image's own chain (link, configure, manage.py) on
    the copy's internal network: it fails to connect, says so, and halts before maintenance;
    production has no migration recorded and its rows as before. The same chain on the stack's
    own network does reach production: only the network kept it away."""
    before = production(live)
    rc, record, output = run(live, tmp_path / "run", release="v37-98")
    assert rc == 1, output[-3000:]
    step = step_of(record, "When the release's migrations are run on the restored copies")
    image = f"{live.image('atmosphere')}:release-v37-98"
    assert step["error"].startswith(
        f"{image}, set up by its own configure from the settings pointed at the restored copy of "
        "atmo_prod, did not reach it ("
    ), step["error"]
    assert 'OperationalError: could not translate host name "postgres" to address' in step["error"]
    assert step["error"].endswith(
        "its settings name another database server, which the copy's internal network cannot "
        "reach; nothing was changed and users were never locked out: fix the release's settings "
        "template"
    )
    chain = next(c["argv"] for c in step["commands"] if c["argv"][:2] == ["docker", "run"])
    print("the rehearsal's chain:", shlex.join(chain))
    print("seconds per step:", {s["step"]: s.get("seconds") for s in record["steps"]})
    assert chain[chain.index("--network") + 1].startswith("atmo-release-copy-")
    assert chain[chain.index("--entrypoint") + 1 :][:3] == ["/bin/sh", image, "-c"]
    assert record["stack_state"]["maintenance on"] == "no"
    assert production(live) == before
    copies = {"label": f"{RUN_LABEL}={record['run_id']}"}
    assert not live.client.networks.list(filters=copies)
    assert not live.client.containers.list(all=True, filters=copies)
    # The counterfactual: the same chain and settings on the network the apps share with
    # production reach its server, which refuses the copy's password.
    settings = tmp_path / "atmosphere.ini"
    settings.write_text(
        settings_for_copy(
            live.ini("atmosphere", SECRETS_BRANCH), ThrowawayCopy.HOST, 5432, "verify", DB_USER, "x"
        )
    )
    service = parse_environment(live.env_file).services["atmosphere"]
    argv = manage_argv(image, service, live.network, str(settings), live.labels, "showmigrations")
    reached = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert 'connection to server at "postgres"' in reached.stderr, reached.stderr[-2000:]
    assert "password authentication failed" in reached.stderr
    assert production(live) == before


def test_too_little_room_for_the_copies_and_the_window_dumps_is_refused(
    live: RehearsalStack, tmp_path: Path
) -> None:
    """The backup directory on a filesystem of its own (a tmpfs) with room for the proven
    dumps, the layers and the margin, as the check counted before, but not also for the window
    dumps at their worst; the copies and the layers are counted where Docker keeps its data."""
    deployment = deployment_for(live, tmp_path / "reports")
    deployment.env = replace(deployment.env, free_space_margin_mb=1)
    deployment.record.begin_step("Preflight", "room")
    deployment.secrets.load()
    sizes = sum(int(live.psql(db, f"SELECT pg_database_size('{db}')")) for db, _ in APPS.values())
    with small_disk(live.backup_dir, f"{(sizes * 3 // 2) // 2**20 + 2}m"):
        with pytest.raises(CheckFailed) as failed:
            deployment.host.check_room_and_clock()
    disk = deployment.record.facts["disk"]
    print(failed.value, disk, sep="\n")
    backups, docker = disk["filesystems"]
    assert str(failed.value).startswith(
        f"not enough room in the backup directory {live.backup_dir}: "
    )
    assert set(backups["needs_bytes"]) == {"proven dumps", "window dumps at their worst", "margin"}
    assert "two throwaway copies per database" in docker["needs_bytes"]
    assert backups["free_bytes"] < 2 * sizes  # not the proven and the window dumps both
    # what the check asked before: the databases once, the layers and the margin
    assert backups["free_bytes"] > sizes + disk["container_layers_bytes"] + disk["margin_bytes"]


@pytest.mark.proves("nothing else is connected to the databases")
def test_a_writer_still_connected_once_the_apps_stopped_is_named_and_halts_the_run(
    live: RehearsalStack, records: Path, tmp_path: Path
) -> None:
    """A cron job's psql, started from a container on the stack's network while the run
    started maintenance, writes an event and stays connected. Once the apps stopped, the run
    waits 3 s for it, then halts naming it (its application and address) before the databases
    are read and anything is backed up; its row and every other one are there. Its session is
    then ended as the halt says (the next test resumes the run)."""
    env_file = env_file_with(
        live,
        tmp_path / "wait.toml",
        "verify_image = ",
        "other_sessions_wait_s = 3\nverify_image = ",
    )
    writer = f"{live.project}-nightly-cleanup"
    cron = [
        "run", "-d", "--rm", "--name", writer, "--network", live.network,
        *(item for key, value in live.labels.items() for item in ("--label", f"{key}={value}")),
        "-e", f"PGPASSWORD={live.password}", "-e", "PGAPPNAME=nightly-cleanup",
        POSTGRES_IMAGE, "psql", "-h", "postgres", "-U", DB_USER, "-d", "atmo_prod",
        "-c", "INSERT INTO core_event (instance_id, kind, payload, created_at) "
        "VALUES (NULL, 'cron.cleanup', 'written by a cron job', now())",
        "-c", "SELECT pg_sleep(600)",
    ]  # fmt: skip
    before = live.counts()
    try:
        rc, record, output = run(
            live,
            records / "writer",
            env_file=env_file,
            ATMO_TEST_DOCKER_AFTER=json.dumps(["maintenance is started on atmosphere", cron]),
        )
        address = live.client.containers.get(writer).attrs["NetworkSettings"]["Networks"][
            live.network
        ]["IPAddress"]
    finally:
        # Its container gone (with the data volume its image declares: `-v`, else this removal
        # races `--rm` and the volume stays), its session stays in pg_sleep until it writes to
        # the socket: ended as the halt says to.
        subprocess.run(["docker", "rm", "-f", "-v", writer], capture_output=True)
        live.psql(
            "atmo_prod",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'nightly-cleanup'",
        )
    assert rc == 1, output[-3000:]
    record = left_as_recorded(live, records / "writer")
    assert record["halted_at"].startswith(
        "Stop the containers and back them up / And nothing else is connected to the "
        "databases: 1 session(s) other than this run's still connected to atmo_prod, "
        "troposphere 3 s after the apps stopped: pid "
    ), record["halted_at"]
    assert (
        f"atmo_app@atmo_prod from {address}, application 'nightly-cleanup'" in (record["halted_at"])
    )
    assert APPLICATION_NAME not in record["halted_at"]  # the run's own are not counted
    assert record["stack_state"]["backups"] == "none taken"
    assert "snapshot_before" not in record["facts"]
    assert not any("window" in info for info in record["facts"]["dumps"].values())
    assert record["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": True}
    assert containers_now(live) == old_release(live, "exited")
    assert "rollback" not in record["facts"]
    after = live.counts()
    assert after == {**before, "atmo_prod.core_event": before["atmo_prod.core_event"] + 1}
    cron_row = "SELECT count(*) FROM core_event WHERE kind = 'cron.cleanup'"
    assert live.psql("atmo_prod", cron_row).strip() == "1"


def safe_commands(record: dict[str, Any]) -> list[list[str]]:
    """The commands the record's next safe command gives after "with: ", as typed."""
    commands = record["next_safe_command"].split(" with: ", 1)[1]
    return [shlex.split(command) for command in commands.split(" && ")]


def users_kept(stack: RehearsalStack) -> dict[str, str]:
    return {
        "tester": stack.psql(
            "atmo_prod", "SELECT email FROM core_atmosphereuser WHERE username = 'user04'"
        ).strip(),
        "preference": stack.psql(
            "troposphere",
            "SELECT count(*) FROM api_userpreferences WHERE username = 'user05' "
            "AND created_date < '2000-01-01'",
        ).strip(),
        "allocation": stack.psql(
            "atmo_prod", "SELECT compute_allowed FROM core_allocation WHERE id = 1"
        ).strip(),
        "instance": stack.psql(
            "atmo_prod", "SELECT count(*) FROM core_instance WHERE name = 'launched-by-a-user'"
        ).strip(),
    }


REFUSE_END = (
    "CREATE FUNCTION atmo_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'refused by a trigger'; END $$; "
    "CREATE TRIGGER atmo_test_refuse BEFORE UPDATE ON api_maintenancerecord "
    "FOR EACH ROW EXECUTE FUNCTION atmo_test_refuse()"
)


def test_a_halt_while_ending_maintenance_keeps_what_users_wrote_and_the_release_up(
    live: RehearsalStack, records: Path
) -> None:
    """Last here: the stack is upgraded. A halt at each step of "End maintenance", a user
    writing before it: troposphere's end refused (a trigger), atmosphere's container gone once
    troposphere's ended, a maintenance record started by hand once both ended, troposphere's
    container gone before users are let in. The first run resumes the writer's halted run at
    "Stop the containers and back them up" and upgrades; each later one resumes the one before
    at "End maintenance". Each halts with the release up and nothing rolled back, the record
    names what is still in maintenance, and its next safe command, typed as given, ends it."""
    image = {app: f"{live.image(app)}:{NEW}" for app in APPS}
    release_up = {app: f"running {image[app]}" for app in APPS}

    def halted(out: str, at: str, **probe: str) -> dict[str, Any]:
        rc, record, output = run(live, records / out, **probe)
        assert rc == 1, output[-3000:]
        record = left_as_recorded(live, records / out)
        assert record["halted_at"].startswith(f"End maintenance / {at}"), record["halted_at"]
        assert record["outcome"] == "halted" and "rollback" not in record["facts"]
        rolled = step_of(record, "the old release and its data are restored")
        assert rolled["result"] == "skipped" and "users may be back in" in rolled["notes"][0]
        assert record["next_safe_command"].startswith("the new release is up and passed Use")
        resumed = "Stop the containers and back them up" if out == "first" else "End maintenance"
        assert f"resuming at: {resumed}" in output, output[-3000:]
        return record

    writes = [
        [ROWS_KEPT, "atmo_prod", "UPDATE core_atmosphereuser SET email = 'tested@example.org' "
         "WHERE username = 'user04'"],
        [ROWS_KEPT, "troposphere", REFUSE_END],
    ]  # fmt: skip
    try:
        first = halted("first", "When maintenance is ended on troposphere",
                       ATMO_TEST_WRITES=json.dumps(writes))  # fmt: skip
    finally:
        live.psql("troposphere", "DROP FUNCTION IF EXISTS atmo_test_refuse() CASCADE")
    assert "maintenance stop on troposphere failed (exit 1)" in first["halted_at"]
    assert first["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": True}
    assert containers_now(live) == release_up
    assert (
        "maintenance is still on for atmosphere, troposphere: end it with: "
        in (first["next_safe_command"])
    )

    writes = [
        [TROPOSPHERE_ENDED, "troposphere", "UPDATE api_userpreferences SET hide_beta_interface "
         "= NOT hide_beta_interface, created_date = '1999-12-31' WHERE username = 'user05'"],
    ]  # fmt: skip
    second = halted(
        "second",
        "And maintenance is ended on atmosphere",
        ATMO_TEST_WRITES=json.dumps(writes),
        ATMO_TEST_STOP_AFTER=TROPOSPHERE_ENDED,
        ATMO_TEST_STOP_CONTAINER=f"{live.project}_atmosphere_1",
    )
    assert second["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": False}
    assert containers_now(live) == {**release_up, "atmosphere": f"exited {image['atmosphere']}"}
    start, stop = safe_commands(second)
    assert start[-2:] == ["start", "atmosphere"] and stop[-2:] == ["maintenance", "stop"]
    for command in (start, stop):
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    live.wait_ready()
    assert maintenance_now(live) == {"atmosphere": False, "troposphere": False}

    writes = [
        [ATMOSPHERE_ENDED, "atmo_prod", "UPDATE core_allocation SET compute_allowed = 4242 "
         "WHERE id = 1"],
        [ATMOSPHERE_ENDED, "atmo_prod", "INSERT INTO maintenance_record (start_date, title, "
         "message, disable_login) VALUES (now(), 'by hand', 'another operator', true)"],
    ]  # fmt: skip
    third = halted("third", "Then no maintenance record is active",
                   ATMO_TEST_WRITES=json.dumps(writes))  # fmt: skip
    assert third["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": False}
    (stop,) = safe_commands(third)
    subprocess.run(stop, check=True, capture_output=True, timeout=120)
    assert maintenance_now(live) == {"atmosphere": False, "troposphere": False}

    writes = [
        [NONE_ACTIVE, "atmo_prod", "INSERT INTO core_instance (name, owner_id, is_running, "
         "created_at) SELECT 'launched-by-a-user', min(id), true, now() FROM core_atmosphereuser"],
    ]  # fmt: skip
    fourth = halted(
        "fourth",
        "And users are let in again",
        ATMO_TEST_WRITES=json.dumps(writes),
        ATMO_TEST_STOP_AFTER=NONE_ACTIVE,
        ATMO_TEST_STOP_CONTAINER=f"{live.project}_troposphere_1",
    )
    assert fourth["stack_state"]["maintenance on"] == "no"
    (up,) = safe_commands(fourth)
    assert up[-2:] == ["up", "-d"]
    subprocess.run(up, check=True, capture_output=True, timeout=300)
    live.wait_ready()
    assert containers_now(live) == release_up
    assert users_kept(live) == {
        "tester": "tested@example.org",
        "preference": "1",
        "allocation": "4242",
        "instance": "1",
    }
