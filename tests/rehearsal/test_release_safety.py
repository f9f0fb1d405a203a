"""Release-day safety on a real rehearsal: the lock, the plan, resume after a kill, the gates.

Each test drives `pytest features/deploy.feature --env=<the stack's environment file>` in a
subprocess, as a second operator or a rerun would, and reads the stack before and after.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from rehearsal.stack import RehearsalStack
from rehearsal.sweep import RUN_LABEL
from tests.rehearsal.feature_runs import UNTOUCHED, feature, finish, released, state

pytestmark = pytest.mark.docker


def test_two_runs_at_once_one_deploys_the_other_names_the_holder(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    rows = stack.counts()
    first = feature(
        stack,
        tmp_path / "first",
        driver="Ada",
        ATMO_TEST_PAUSE_AFTER="Docker answers",
        ATMO_TEST_PAUSE_S="8",
    )
    lock = stack.backup_dir / f".atmo-release-{stack.project}.lock"
    deadline = time.monotonic() + 120
    while not lock.exists():
        assert time.monotonic() < deadline and first.poll() is None, "the first run took no lock"
        time.sleep(0.2)
    rc, output = finish(feature(stack, tmp_path / "second", driver="Grace"), timeout=120)
    assert rc == 3
    assert "Ada holds the deploy lock of rehearsal since" in output
    rc, output = finish(first)
    assert rc == 0, output[-3000:]
    assert not lock.exists()
    assert state(stack) == {**released(stack), "rows": rows}


def test_sigkill_after_stop_resumes_with_one_backup_per_service(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    rows = stack.counts()
    rc, _ = finish(
        feature(stack, tmp_path / "killed", ATMO_TEST_KILL_AFTER="the containers are stopped")
    )
    assert rc == -9
    after_kill = state(stack)
    assert after_kill["containers"] == [
        "atmosphere exited release-v37-2",
        "troposphere exited release-v37-2",
    ]
    assert after_kill["active"] == 1 and after_kill["backups"] == []
    rc, output = finish(feature(stack, tmp_path / "refused"))
    assert rc == 3 and "the lock is stale because its process" in output
    rc, output = finish(feature(stack, tmp_path / "resumed", "--break-lock=the first run died"))
    assert rc == 0, output[-3000:]
    assert "resuming at: Stop the containers and back them up" in output
    assert state(stack) == {**released(stack), "rows": rows}
    record = json.loads((tmp_path / "resumed" / "record.json").read_text())
    assert record["facts"]["resumed_from"]["outcome"] == "running"
    assert "breaking a stale lock" in record["facts"]["lock"]


def test_kill_after_the_compose_edit_resumes_at_pull_and_up_without_editing_again(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    rows = stack.counts()
    rc, _ = finish(
        feature(
            stack,
            tmp_path / "killed",
            ATMO_TEST_KILL_AFTER="the compose file is set to the release's image tags",
        )
    )
    assert rc == -9
    edited = stack.compose_path.read_text()
    assert "release-v37-3" in edited and "release-v37-2" not in edited
    assert state(stack)["containers"] == [
        "atmosphere exited release-v37-2",
        "troposphere exited release-v37-2",
    ]
    rc, output = finish(feature(stack, tmp_path / "resumed", "--break-lock=killed on purpose"))
    assert rc == 0, output[-3000:]
    assert "resuming at: Start the new images" in output
    assert stack.compose_path.read_text() == edited
    record = json.loads((tmp_path / "resumed" / "record.json").read_text())
    writes = [c for s in record["steps"] for c in s["commands"] if c["argv"][0] == "write"]
    assert writes == []
    assert any("not edited again" in n for s in record["steps"] for n in s["notes"])
    # the killed run's throwaway copies went with it: the rows are judged against new ones
    restored = [n for s in record["steps"] for n in s["notes"] if "restored again in" in n]
    assert [n.split(":")[0] for n in restored] == ["atmo_prod", "troposphere"], restored
    assert all("(this run resumes run " in n for n in restored)
    # Removed by the resumed run, or first by a concurrent rehearsal's sweep of objects whose
    # process is gone; on a deploy host with its own engine, test_ssh_release_day sees the
    # resumed run remove them.
    killed = json.loads((tmp_path / "killed" / "record.json").read_text())["run_id"]
    selector = {"label": f"{RUN_LABEL}={killed}"}
    assert stack.client.containers.list(all=True, filters=selector) == []
    assert stack.client.networks.list(filters=selector) == []
    removed = [n for s in record["steps"] for n in s["notes"] if f"run {killed} left" in n]
    said = {f"removed {n} throwaway containers run {killed} left" for n in (1, 2)}
    assert len(removed) <= 1 and set(removed) <= said, removed
    assert state(stack) == {**released(stack), "rows": rows}


def test_production_without_confirmation_is_refused_untouched(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    before = state(stack)
    production = tmp_path / "production-rehearsal.toml"
    production.write_text(
        stack.env_file.read_text().replace("production = false", "production = true")
    )
    rc, output = finish(
        feature(stack, tmp_path / "run", "--skip-atmobeta-gate=test", env_file=production)
    )
    assert rc == 4
    assert "is a production environment: confirm with --confirm=rehearsal" in output
    assert state(stack) == before == {**UNTOUCHED, "rows": before["rows"]}


@pytest.mark.proves("there is room for the backups and dumps and the clock is right")
def test_too_little_disk_is_refused_in_preflight_with_the_numbers(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    before = state(stack)
    small = tmp_path / "small-disk.toml"
    small.write_text(
        stack.env_file.read_text().replace(
            "backup_dir = ", "free_space_margin_mb = 100000000\nbackup_dir = "
        )
    )
    rc, output = finish(feature(stack, tmp_path / "run", env_file=small))
    assert rc == 1
    assert "not enough room in" in output and "MiB free" in output and "MiB needed" in output
    assert "halted at: Preflight" in output
    assert state(stack) == before == {**UNTOUCHED, "rows": before["rows"]}


def test_plan_lists_exactly_the_commands_of_the_real_run(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    before = state(stack)
    rc, output = finish(feature(stack, tmp_path / "plan", "--plan"))
    assert rc == 0, output[-3000:]
    assert "Plan: v37-3 on rehearsal (nothing was changed)" in output
    assert state(stack) == before
    planned = json.loads((tmp_path / "plan" / "plan.json").read_text())
    rc, output = finish(feature(stack, tmp_path / "real"))
    assert rc == 0, output[-3000:]
    record = json.loads((tmp_path / "real" / "record.json").read_text())
    real = [c["argv"] for s in record["steps"] for c in s["commands"] if c["changes"]]
    assert [argv for entry in planned for argv in entry["commands"]] == real
    assert len(real) >= 14
    commits = [argv[-2] for argv in real if argv[:2] == ["docker", "commit"]]
    assert commits == [f"{stack.project}_atmosphere_1", f"{stack.project}_troposphere_1"]
