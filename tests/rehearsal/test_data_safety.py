"""Data safety on a live rehearsal: users and tasks write while the run prepares, releases rewrite
data on purpose, lose it by accident, or fail to migrate. Each run is a real deploy.feature
against a fresh stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.release_day import rollback
from atmo_release.release_day.deploy_steps import deploy
from rehearsal.stack import RehearsalStack
from tests.rehearsal.conftest import deployment_for
from tests.rehearsal.faults import code_committed
from tests.rehearsal.feature_runs import UNTOUCHED, feature, finish, state

pytestmark = pytest.mark.docker

DUMPS_PROVEN = "the migrations succeed there and what they change in each table is recorded"
MAINTENANCE_ON = "maintenance is started on atmosphere"
# A user, between the proven dumps and maintenance: launches an instance, edits a profile,
# ends an allocation, flips a preference. A periodic task, until the apps stop: logs an event.
WRITES = [
    [
        DUMPS_PROVEN,
        "atmo_prod",
        "INSERT INTO core_instance (name, owner_id, status, created_at) "
        "SELECT 'launched-while-preparing', min(id), 'active', now() FROM core_atmosphereuser",
    ],
    [
        DUMPS_PROVEN,
        "atmo_prod",
        "UPDATE core_atmosphereuser SET email = 'edited@example.org' WHERE username = 'user03'",
    ],
    [
        DUMPS_PROVEN,
        "atmo_prod",
        "DELETE FROM core_allocation WHERE id = (SELECT max(id) FROM core_allocation)",
    ],
    [
        DUMPS_PROVEN,
        "troposphere",
        "UPDATE api_userpreferences SET show_beta_interface = NOT show_beta_interface "
        "WHERE username = 'user05'",
    ],
    [
        MAINTENANCE_ON,
        "atmo_prod",
        "INSERT INTO core_event (instance_id, kind, payload, created_at) "
        "SELECT max(id), 'task.tick', 'written by a periodic task', now() FROM core_instance",
    ],
]
WRITTEN_TABLES = ["core_allocation", "core_atmosphereuser", "core_event", "core_instance"]


def run(stack: RehearsalStack, out: Path, release: str, **probe: str) -> tuple[int, str, Any]:
    if release != "v37-3":
        for app in ("atmosphere", "troposphere"):
            stack.publish(app, release)
    rc, output = finish(feature(stack, out, release=release, **probe))
    return rc, output, json.loads((out / "record.json").read_text())


def notes(record: dict[str, Any]) -> list[str]:
    return [note for step in record["steps"] for note in step.get("notes", [])]


def writes_kept(stack: RehearsalStack) -> dict[str, str]:
    return {
        "instance": stack.psql(
            "atmo_prod",
            "SELECT count(*) FROM core_instance WHERE name = 'launched-while-preparing'",
        ).strip(),
        "email": stack.psql(
            "atmo_prod", "SELECT email FROM core_atmosphereuser WHERE username = 'user03'"
        ).strip(),
        "event": stack.psql(
            "atmo_prod", "SELECT count(*) FROM core_event WHERE kind = 'task.tick'"
        ).strip(),
    }


def test_writes_while_the_run_prepares_let_a_good_release_pass(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    allocations = int(stack.psql("atmo_prod", "SELECT count(*) FROM core_allocation"))
    rc, output, record = run(stack, tmp_path / "run", "v37-3", ATMO_TEST_WRITES=json.dumps(WRITES))
    assert rc == 0, output[-3000:]
    written = record["facts"]["written_while_preparing"]
    assert [line.split(":")[0] for line in written["atmo_prod"]] == WRITTEN_TABLES
    assert [line.split(":")[0] for line in written["troposphere"]] == ["api_userpreferences"]
    window = record["facts"]["dumps"]["atmo_prod"]["window"]
    # updated or deleted rows: the whole table again; only inserts: only the new rows
    assert window["tables"] == ["core_allocation", "core_atmosphereuser"]
    assert Path(window["path"]).is_file()
    assert sorted(window["grown"]) == ["core_event", "core_instance"]
    assert all(Path(g["path"]).stat().st_size > 0 for g in window["grown"].values())
    # migrated and written since the dump: judged exactly, against a copy of the stopped rows
    exact = "exactly as on a copy of the stopped database migrated beside the upgrade"
    assert any("table api_userpreferences" in n and exact in n for n in notes(record))
    assert any("table core_instance" in n and exact in n for n in notes(record))
    assert writes_kept(stack) == {"instance": "1", "email": "edited@example.org", "event": "1"}
    assert int(stack.psql("atmo_prod", "SELECT count(*) FROM core_allocation")) == allocations - 1


def test_a_halt_for_another_cause_rolls_back_without_losing_a_write(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    rc, output, record = run(stack, tmp_path / "run", "v37-92", ATMO_TEST_WRITES=json.dumps(WRITES))
    assert rc == 1, output[-3000:]
    assert record["outcome"] == "halted, rolled back" and "500" in record["halted_at"]
    assert record["facts"]["rollback"]["proven"] is True
    restored = " ".join(record["facts"]["rollback"]["restored"])
    assert "atmo-window-" in restored and "tropo-window-" in restored
    assert state(stack)["containers"] == UNTOUCHED["containers"]
    assert writes_kept(stack) == {"instance": "1", "email": "edited@example.org", "event": "1"}
    flipped = stack.psql(
        "troposphere",
        "SELECT show_beta_interface FROM api_userpreferences WHERE username = 'user05'",
    ).strip()
    assert flipped == "t"  # seeded false (5 % 3 != 0), flipped by the user before the window


def test_a_release_that_rewrites_data_on_purpose_passes_with_the_changes_named(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    rc, output, record = run(stack, tmp_path / "run", "v37-94")
    assert rc == 0, output[-3000:]
    rehearsal = record["facts"]["migration_rehearsal"]["atmo_prod"]
    assert "core.0003_data_cleanup" in rehearsal["migrations"]
    assert {"core_event", "core_allocation"} <= set(rehearsal["changes"])
    named = [n for n in notes(record) if "core.0003_data_cleanup" in n and "exactly as on" in n]
    assert any("table core_event" in n for n in named), notes(record)
    assert any("table core_allocation" in n for n in named), notes(record)


def test_a_release_that_loses_rows_outside_its_migrations_fails_and_rolls_back(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    before = stack.psql("atmo_prod", "SELECT count(*) FROM core_allocation").strip()
    rc, output, record = run(stack, tmp_path / "run", "v37-95")
    assert rc == 1, output[-3000:]
    assert "every row is kept" in record["halted_at"]
    step = next(s for s in record["steps"] if s["step"].startswith("And every row is kept"))
    assert "table core_allocation" in step["error"], step["error"]
    assert record["outcome"] == "halted, rolled back"
    assert stack.psql("atmo_prod", "SELECT count(*) FROM core_allocation").strip() == before


def test_a_release_whose_migration_fails_is_stopped_before_maintenance(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    compose_before = stack.compose_path.read_text()
    before = state(stack)
    rc, output, record = run(stack, tmp_path / "run", "v37-93")
    assert rc == 1, output[-3000:]
    assert "Dump the databases" in record["halted_at"]
    assert "fail on a copy of atmo_prod" in record["halted_at"]
    step = next(s for s in record["steps"] if s["step"].startswith("When the release's migrations"))
    assert "nothing was changed and users were never locked out" in step["error"], step["error"]
    assert record["stack_state"]["maintenance on"] == "no"
    assert "nothing was changed" in record["next_safe_command"]
    assert state(stack) == before
    assert before["maintenance_records"] == 0 and before["backups"] == []
    assert stack.compose_path.read_text() == compose_before


@pytest.mark.proves(
    "the old release answers with the versions from before the deploy",
    "every row is as it was when the apps stopped",
)
def test_the_rollback_checks_see_other_code_and_a_row_lost_after_the_restore(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    """After the rollback: the old atmosphere restarted with a commit in its code; an event
    deleted from the restored atmo_prod."""
    deployment = deployment_for(stack, tmp_path / "reports")
    deploy(deployment)
    rollback.roll_back(deployment, "rehearsed by hand")
    rollback.check_old_release_answers(deployment)
    rollback.check_rows_as_before(deployment)
    before = deployment.state.versions_before["atmosphere"]["git_sha"][:12]
    with code_committed(deployment, "atmosphere", restart=True):
        with pytest.raises(CheckFailed, match=f"atmosphere serves [0-9a-f]{{12}}, not {before}"):
            rollback.check_old_release_answers(deployment)
    rollback.check_old_release_answers(deployment)
    stack.psql("atmo_prod", "DELETE FROM core_event WHERE id = (SELECT max(id) FROM core_event)")
    with pytest.raises(CheckFailed, match="atmo_prod: table core_event: 30 rows before, 29 after"):
        rollback.check_rows_as_before(deployment)
