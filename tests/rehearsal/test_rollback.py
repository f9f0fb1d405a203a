"""Broken releases rehearsed: each ends with the old release serving, no row lost, maintenance
still on, and a record that says a rollback happened, why, and what it restored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rehearsal.stack import RehearsalStack
from tests.rehearsal.feature_runs import feature, finish, state

pytestmark = pytest.mark.docker

TABLES = {
    "atmo_prod": ("core_atmosphereuser", "core_instance"),
    "troposphere": ("api_userpreferences",),
}


def checksums(stack: RehearsalStack) -> dict[str, str]:
    """Every row of every seeded table, hashed in id order."""
    return {
        f"{db}.{table}": stack.psql(
            db,
            f"SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} t",
        ).strip()
        for db, tables in TABLES.items()
        for table in tables
    }


def run_release(stack: RehearsalStack, tmp_path: Path, release: str) -> dict[str, object]:
    for app in ("atmosphere", "troposphere"):
        stack.publish(app, release)
    before = checksums(stack)
    rc, output = finish(feature(stack, tmp_path / "run", release=release))
    assert rc == 1, output[-3000:]
    after = state(stack)
    assert after["containers"] == [
        "atmosphere running release-v37-2",
        "troposphere running release-v37-2",
    ], output[-3000:]
    assert after["active"] == 1, "maintenance must stay on after a rollback"
    assert checksums(stack) == before
    record = json.loads((tmp_path / "run" / "record.json").read_text())
    assert record["outcome"] == "halted, rolled back"
    assert record["facts"]["rollback"]["why"].startswith("halted at")
    return record


def test_release_whose_container_exits_at_start(stack: RehearsalStack, tmp_path: Path) -> None:
    record = run_release(stack, tmp_path, "v37-91")
    assert "Start the new images" in record["halted_at"]
    # atmosphere exits before migrating; troposphere's v37-91 is v37-3 and did migrate
    restored = record["facts"]["rollback"]["restored"]
    assert [item.split(" ")[0] for item in restored] == ["troposphere"]


def test_release_whose_version_endpoint_answers_500(stack: RehearsalStack, tmp_path: Path) -> None:
    record = run_release(stack, tmp_path, "v37-92")
    assert "Use and test" in record["halted_at"] and "500" in record["halted_at"]
    assert any(
        item.startswith("atmo_prod from") for item in record["facts"]["rollback"]["restored"]
    )


def test_unreachable_database_at_dump_time_stops_before_maintenance(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    before = state(stack)
    rc, output = finish(
        feature(
            stack,
            tmp_path / "run",
            ATMO_TEST_STOP_AFTER="the release images are on the deploy host",
            ATMO_TEST_STOP_CONTAINER=f"{stack.project}-postgres",
        )
    )
    assert rc == 1
    assert "halted at: Dump the databases" in output
    record = json.loads((tmp_path / "run" / "record.json").read_text())
    assert record["outcome"] == "halted" and "rollback" not in record["facts"]
    assert record["stack_state"]["maintenance on"] == "no"
    assert "nothing was changed" in record["next_safe_command"]
    postgres = stack.client.containers.get(f"{stack.project}-postgres")
    postgres.start()
    postgres.reload()
    stack.ports["postgres"] = int(postgres.ports["5432/tcp"][0]["HostPort"])
    stack._wait(lambda: stack.psql("troposphere", "SELECT 1").strip() == "1", "postgres")
    assert state(stack) == before
