"""Release day on Compose v2 (`docker compose`), beside the suite's v1 runs: one stack brought up
and run by v2 only, on a compose file v1 refuses (a top-level `name:`, no `version:`).

The plan, a run halted and rolled back (its record's "where the stack was left" read back
against the stack), then deploy.feature and rollback.feature passing: each record names v2 and
its version, and the backups are committed by the containers' v2 names. The fault suites stay
on v1 (README, "Compose v1 and v2"): these runs go through every Compose command a run sends
(version, config, stop, pull, up -d, exec -T), which is all that differs between the two.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rehearsal.stack import RehearsalStack
from tests.rehearsal.feature_runs import feature, finish
from tests.rehearsal.test_window_faults import APPS, left_as_recorded

pytestmark = pytest.mark.docker

READY = "the apps are ready within the environment's timeout"
DELETE_A_ROW = "DELETE FROM core_instance WHERE id = (SELECT max(id) FROM core_instance)"
# This machine's v2 (scripts/ensure-compose-v2.sh keeps a plugin that was there before it).
VERSION = subprocess.run(
    ["docker", "compose", "version", "--short"], capture_output=True, text=True, check=False
).stdout.strip()


@pytest.fixture(scope="module")
def v2_stack() -> Iterator[RehearsalStack]:
    stack = RehearsalStack(log=lambda line: None, compose_flavour="v2")
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def names(stack: RehearsalStack) -> list[str]:
    return [stack.container_name(app) for app in ("atmosphere", "troposphere")]


def assert_on_v2(record: dict[str, Any]) -> list[str]:
    """The record names v2 and its version, and every Compose command it ran (or planned) is
    `docker compose`; returns the containers its `docker commit`s name."""
    assert record["facts"]["compose"] == {
        "flavour": "v2",
        "version": VERSION,
        "command": "docker compose",
        "chosen": "deploy.compose_command",
    }
    argvs = [c["argv"] for step in record["steps"] for c in step["commands"]]
    assert any(argv[:2] == ["docker", "compose"] for argv in argvs)
    assert not any(argv[0] == "docker-compose" for argv in argvs)
    return [argv[-2] for argv in argvs if argv[:2] == ["docker", "commit"]]


def test_the_stack_runs_on_v2_under_v2_names(v2_stack: RehearsalStack) -> None:
    text = v2_stack.compose_path.read_text()
    assert text.startswith(f"---\nname: '{v2_stack.project}'\n") and "version:" not in text
    assert names(v2_stack) == [
        f"{v2_stack.project}-{app}-1" for app in ("atmosphere", "troposphere")
    ]
    found = [v2_stack.client.containers.get(name) for name in names(v2_stack)]
    versions = {container.labels["com.docker.compose.version"] for container in found}
    assert versions == {VERSION}


def test_the_plan_commits_the_containers_by_their_v2_names(
    v2_stack: RehearsalStack, tmp_path: Path
) -> None:
    rc, output = finish(feature(v2_stack, tmp_path / "plan", "--plan"))
    assert rc == 0, output[-3000:]
    planned = json.loads((tmp_path / "plan" / "record.json").read_text())
    assert planned["outcome"] == "planned"
    assert assert_on_v2(planned) == names(v2_stack)


def test_a_halted_v2_run_rolls_back_and_its_record_reads_as_the_stack(
    v2_stack: RehearsalStack, tmp_path: Path
) -> None:
    """A row deleted once the new release is ready: the run halts at Use and test, rolls back
    on v2, and says where it left the stack, which the stack confirms."""
    out = tmp_path / "runs" / "halted"
    writes = json.dumps([[READY, "atmo_prod", DELETE_A_ROW]])
    rc, output = finish(feature(v2_stack, out, ATMO_TEST_WRITES=writes))
    assert rc == 1, output[-3000:]
    assert f"Compose v2 {VERSION}: this run uses `docker compose`" in output
    record = left_as_recorded(v2_stack, out)
    assert record["outcome"] == "halted, rolled back"
    assert record["halted_at"].startswith("Use and test")
    assert record["facts"]["rollback"]["proven"] is True
    assert record["stack_state"]["maintenance on"] == {"atmosphere": True, "troposphere": True}
    assert {s: c.split(" ")[0] for s, c in record["stack_state"]["containers now"].items()} == {
        "atmosphere": "running",
        "troposphere": "running",
    }
    assert assert_on_v2(record) == names(v2_stack)
    assert "docker compose -f" in record["next_safe_command"]
    html = (out / "record.html").read_text()
    assert f"v2 {VERSION} (docker compose)" in html


def test_deploy_and_rollback_features_pass_on_v2(v2_stack: RehearsalStack, tmp_path: Path) -> None:
    """After the halted run, maintenance ended by hand: deploy.feature, then rollback.feature in
    the same session, both on v2."""
    for db, table in APPS.values():
        v2_stack.psql(db, f"UPDATE {table} SET end_date = now() WHERE end_date IS NULL")
    rows = v2_stack.counts()
    out = tmp_path / "runs" / "deployed"
    rc, output = finish(feature(v2_stack, out, "features/rollback.feature", "--to=v37-2"))
    assert rc == 0, output[-3000:]
    record = left_as_recorded(v2_stack, out)
    assert record["outcome"] == "passed", record.get("halted_at")
    assert assert_on_v2(record) == [], "the backups of the halted run were kept"
    assert record["facts"]["rollback"]["why"] == "rolled back by hand"
    assert record["facts"]["rollback"]["proven"] is True
    assert record["facts"]["versions_after"], "the release was deployed before the rollback"
    assert v2_stack.counts() == rows
