"""Faults inside the maintenance window: each run ends in a stated, safe place, and the record's
"where the stack was left" is true when read back against the real stack (maintenance by each
database, containers and images by Docker).

One stack for the module: each test undoes its fault and ends maintenance, so the next run
starts from the older release serving with nobody locked out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rehearsal.stack import RehearsalStack
from tests.rehearsal.feature_runs import feature, finish

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


def left_as_recorded(stack: RehearsalStack, out: Path) -> dict[str, Any]:
    """The run's record, once its "where the stack was left" was checked against the stack."""
    record = json.loads((out / "record.json").read_text())
    left = record["stack_state"]
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
    assert containers_now(serving) == {
        "atmosphere": f"running {serving.image('atmosphere')}:{OLD}",
        "troposphere": f"running {serving.image('troposphere')}:{OLD}",
    }
    assert record["next_safe_command"].startswith(
        "the old release still serves under maintenance; fix the cause, or end maintenance"
    )
    assert "rollback" not in record["facts"]
