"""Every table judged exactly after the upgrade, busy or migrated, on a cluster whose session
defaults are neither UTC nor ISO (rehearsal.stack.NON_UTC_SETTINGS: America/Phoenix, "SQL, DMY",
sql_standard intervals, extra_float_digits=0, bytea escape), as a cluster initialised on an
Arizona host has them. Real deploy.feature runs with users and tasks writing (the probe plugin).

One stack for the module, walked forward release by release: each test starts from the release
the one before left serving, maintenance off (v37-3, then v37-96, v37-97, then v37-94 rolled
back to v37-97).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atmo_release.data import way_back
from atmo_release.resources.todays_copy import TABLES_WITH_ID_SQL, tables_with_id
from rehearsal.stack import NON_UTC_SETTINGS, RehearsalStack
from tests.rehearsal.conftest import stack_with
from tests.rehearsal.rehearsal_probe import READY_STEP
from tests.rehearsal.test_data_safety import DUMPS_PROVEN, MAINTENANCE_ON, notes, run

pytestmark = pytest.mark.docker

LAUNCH = (  # a user launches an instance, on a database at v37-3 or later
    "INSERT INTO core_instance (name, owner_id, is_running, created_at) "
    "SELECT 'launched-while-preparing', min(id), true, now() FROM core_atmosphereuser"
)
LAUNCH_AT_V37_2 = (
    "INSERT INTO core_instance (name, owner_id, status, created_at) "
    "SELECT 'launched-while-preparing', min(id), 'active', now() FROM core_atmosphereuser"
)
EDIT_PROFILE = "UPDATE core_atmosphereuser SET email = 'edited@example.org' WHERE id = 4"
SIGN_UP = (
    "INSERT INTO core_atmosphereuser (username, email, is_staff) "
    "VALUES ('signed-up-while-preparing', 'new@example.org', false)"
)
SIGNED_UP_GONE = "DELETE FROM core_atmosphereuser WHERE username = 'signed-up-while-preparing'"
TICK = (
    "INSERT INTO core_event (instance_id, kind, payload, created_at) "
    "SELECT max(id), 'task.tick', 'written by a periodic task', now() FROM core_instance"
)


@pytest.fixture(scope="module")
def arizona() -> Iterator[RehearsalStack]:
    yield from stack_with(postgres_settings=NON_UTC_SETTINGS)


def writes(*steps: tuple[str, str]) -> str:
    return json.dumps([[step, "atmo_prod", sql] for step, sql in steps])


def stamp_notes(record: dict[str, Any], column: str) -> list[str]:
    return [n for n in notes(record) if f"column {column} stamped by" in n]


def test_a_plain_upgrade_on_a_non_utc_cluster_dumps_again_only_the_table_written(
    arizona: RehearsalStack, tmp_path: Path
) -> None:
    """v37-2 to v37-3, one instance launched after the proven dumps: only core_instance is
    dumped again, and only its new row ("only grew"), as on a UTC cluster."""
    assert arizona.psql("atmo_prod", "SHOW timezone").strip() == "America/Phoenix"
    rc, output, record = run(
        arizona, tmp_path / "run", "v37-3", ATMO_TEST_WRITES=writes((DUMPS_PROVEN, LAUNCH_AT_V37_2))
    )
    assert rc == 0, output[-3000:]
    dumps = record["facts"]["dumps"]
    assert dumps["atmo_prod"]["window"]["tables"] == []
    assert sorted(dumps["atmo_prod"]["window"]["grown"]) == ["core_instance"]
    assert dumps["troposphere"]["window"] == {"tables": [], "grown": {}}
    assert record["facts"]["written_while_preparing"] == {
        "atmo_prod": ["core_instance: 40 rows before, 41 after"]
    }
    # Once the apps stopped, of the table a user only added to, only the new row was read.
    stopped = record["facts"]["stopped_reading"]["atmo_prod"]
    assert stopped["markers"] == "trusted" and stopped["only_grew"] == ["core_instance"]
    assert "core_event" in stopped["from_earlier"] and "core_instance" not in stopped["read"]
    # As many rows above the dump's highest id as inserts counted since its markers: the rows
    # up to that id are the dump's without a count of them, nor a reading for the window dump.
    steps = ("When the databases are read now", "And every table written since")
    below = [
        command["argv"][-1]
        for step in record["steps"]
        if step["step"].startswith(steps)
        for command in step["commands"]
        if '"id" <=' in command["argv"][-1]
    ]
    assert below == []
    assert any(
        "table core_instance: column status dropped; column is_running added, by "
        "core.0002_instance_is_running_volume, exactly as on a copy of the stopped" in n
        for n in notes(record)
    ), notes(record)
    # After the upgrade only what the migrations or anybody else wrote is read again: on the
    # live database and on its migrated copy, the rest proven unwritten by the change markers.
    untouched = ["core_allocation", "core_atmosphereuser", "core_event"]
    after = record["facts"]["reading_after_upgrade"]["atmo_prod"]
    assert after["markers"] == "trusted", after
    assert set(untouched) <= set(after["from_earlier"]) and "core_instance" in after["read"]
    copy = record["facts"]["window_copies"]["atmo_prod"]
    assert copy["markers"] == "trusted", copy
    assert set(untouched) <= set(copy["left_alone_by_migrations"])
    assert "core_instance" in copy["read"]


def test_a_migration_stamping_the_clock_passes_named(
    arizona: RehearsalStack, tmp_path: Path
) -> None:
    """v37-96 adds core_allocation.reviewed_at with default=timezone.now (the issue's case 2:
    a judgement against the rehearsal's values halted here); a user edited a profile after the
    proven dumps."""
    rc, output, record = run(
        arizona, tmp_path / "run", "v37-96", ATMO_TEST_WRITES=writes((DUMPS_PROVEN, EDIT_PROFILE))
    )
    assert rc == 0, output[-3000:]
    rehearsal = record["facts"]["migration_rehearsal"]["atmo_prod"]
    assert rehearsal["stamped_by_migration"] == {
        "core.0003_allocation_reviewed_at": ["core_allocation.reviewed_at"]
    }
    assert stamp_notes(record, "reviewed_at") == [
        "atmo_prod: table core_allocation: column reviewed_at stamped by "
        "core.0003_allocation_reviewed_at (the clock or chance), compared by shape: 12 values "
        "in the rows expected, one value everywhere, within the window"
    ]
    assert record["facts"]["dumps"]["atmo_prod"]["window"]["tables"] == ["core_atmosphereuser"]
    one = "SELECT count(DISTINCT reviewed_at) || ' ' || count(*) FROM core_allocation"
    assert arizona.psql("atmo_prod", one).strip() == "1 12"
    default = (  # dropped once the rows have theirs, as Django does
        "SELECT column_default IS NULL, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'core_allocation' AND column_name = 'reviewed_at'"
    )
    assert arizona.psql("atmo_prod", default).strip() == "t|NO"


def test_a_migration_stamping_chance_and_the_clock_per_row_passes_named(
    arizona: RehearsalStack, tmp_path: Path
) -> None:
    """v37-97 fills a new uuid and stamped_at per core_instance row (RunPython: uuid4(), now());
    a user launched an instance after the proven dumps: the stamped table is written too."""
    rc, output, record = run(
        arizona, tmp_path / "run", "v37-97", ATMO_TEST_WRITES=writes((DUMPS_PROVEN, LAUNCH))
    )
    assert rc == 0, output[-3000:]
    rehearsal = record["facts"]["migration_rehearsal"]["atmo_prod"]
    assert rehearsal["stamped_by_migration"] == {
        "core.0003_instance_uuid_stamped": ["core_instance.stamped_at", "core_instance.uuid"]
    }
    for column in ("uuid", "stamped_at"):
        assert stamp_notes(record, column) == [
            f"atmo_prod: table core_instance: column {column} stamped by "
            "core.0003_instance_uuid_stamped (the clock or chance), compared by shape: 42 "
            "values in the rows expected, a different value in every row"
            + (", within the window" if column == "stamped_at" else "")
        ]
    distinct = "SELECT count(DISTINCT uuid) || ' ' || count(*) FROM core_instance"
    assert arizona.psql("atmo_prod", distinct).strip() == "42 42"
    # The rows as the upgrade left them: core_instance (stamped) read live inside the window,
    # the other tables from the migrated copy once users were in, in one file: row for row
    # what the live database reads now (nobody wrote since).
    facts = record["facts"]
    assert (
        facts["release_rows_stamped"]["atmo_prod"]
        and facts["release_rows_stamped"]["troposphere"] == ""
    )
    recorded = Path(facts["release_rows"]["atmo_prod"]).read_text().splitlines()
    tables = tables_with_id([[t] for t in arizona.psql("atmo_prod", TABLES_WITH_ID_SQL).split()])
    live = arizona.psql("atmo_prod", way_back.digests_sql(tables), timeout=120).splitlines()
    assert sorted(recorded) == sorted(live)
    assert {"core_instance", "core_event"} <= {line.split("\t")[0] for line in recorded}
    arizona.psql("atmo_prod", LAUNCH.replace("launched-while-preparing", "launched-after"))
    later = "SELECT uuid IS NULL AND stamped_at IS NULL FROM core_instance WHERE name = %s"
    assert arizona.psql("atmo_prod", later % "'launched-after'").strip() == "t"  # kept NULL


def test_a_busy_migrated_table_that_loses_its_rows_fails_and_rolls_back(
    arizona: RehearsalStack, tmp_path: Path
) -> None:
    """The issue's case 1: v37-94 deletes duplicate events in a migration; a periodic task
    logged an event once maintenance was on; after the upgrade every event is gone. And a
    user who signed up while the run prepared is gone too, from a table that no migration
    touches (proven on the migrated copy by its change markers): the live table's markers
    moved, so it is read again and the loss is caught."""
    before = arizona.psql("atmo_prod", "SELECT count(*) FROM core_event").strip()
    users = int(arizona.psql("atmo_prod", "SELECT count(*) FROM core_atmosphereuser"))
    rc, output, record = run(
        arizona,
        tmp_path / "run",
        "v37-94",
        ATMO_TEST_WRITES=writes(
            (DUMPS_PROVEN, SIGN_UP),
            (MAINTENANCE_ON, TICK),
            (READY_STEP, "DELETE FROM core_event"),
            (READY_STEP, SIGNED_UP_GONE),
        ),
    )
    assert rc == 1, output[-3000:]
    assert record["halted_at"].startswith(
        "Use and test / And every row is kept, changed only as the rehearsed migrations change it"
    )
    step = next(s for s in record["steps"] if s["step"].startswith("And every row is kept"))
    expected = int(before) + 1 - 5  # the task's event; the five exact copies the migration drops
    assert step["error"] == (
        f"atmo_prod: table core_atmosphereuser: {users + 1} rows expected, {users} after (no "
        "migration changes it); "
        f"atmo_prod: table core_event: {expected} rows expected, 0 after (compared with the "
        "stopped rows as core.0003_data_cleanup change them, on a copy)"
    )
    assert (
        "core_atmosphereuser"
        in record["facts"]["window_copies"]["atmo_prod"]["left_alone_by_migrations"]
    )
    after = record["facts"]["reading_after_upgrade"]["atmo_prod"]
    assert after["markers"] == "trusted" and "core_atmosphereuser" in after["read"], after
    assert record["outcome"] == "halted, rolled back"
    assert record["facts"]["rollback"]["proven"] is True
    assert arizona.psql("atmo_prod", "SELECT count(*) FROM core_event").strip() == str(
        int(before) + 1
    )
    count = "SELECT count(*) FROM core_atmosphereuser"
    assert int(arizona.psql("atmo_prod", count)) == users + 1  # the sign-up is kept
