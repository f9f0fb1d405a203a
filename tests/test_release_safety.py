"""Release-day safety on a real rehearsal: the lock, the plan, resume after a kill, the gates.

Each test drives `pytest features/deploy.feature --env=<the stack's environment file>` in a
subprocess, as a second operator or a rerun would, and reads the stack before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from rehearsal.stack import TOKEN_ENV, RehearsalStack

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stack() -> Iterator[RehearsalStack]:
    """A fresh stack per test: each one changes it for good."""
    stack = RehearsalStack(log=lambda line: None)
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def feature(
    stack: RehearsalStack,
    out: Path,
    *extra: str,
    driver: str = "Ada",
    env_file: Path | None = None,
    **probe: str,
) -> subprocess.Popen[str]:
    environ = {**os.environ, TOKEN_ENV: stack.token, **probe}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "features/deploy.feature",
            "-p",
            "tests.rehearsal_probe",
            f"--env={env_file or stack.env_file}",
            "--release=v37-3",
            "--crew-chief=Lin",
            f"--driver={driver}",
            f"--records-dir={out.parent}",
            f"--junitxml={out / 'junit.xml'}",
            *extra,
        ],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(child: subprocess.Popen[str], timeout: float = 600) -> tuple[int, str]:
    output, _ = child.communicate(timeout=timeout)
    return child.returncode, output


def state(stack: RehearsalStack) -> dict[str, object]:
    client = docker.from_env()
    containers = client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={stack.project}"}
    )
    title_rows = stack.psql("atmo_prod", "SELECT count(*) FROM maintenance_record")
    return {
        "containers": sorted(
            f"{c.labels['com.docker.compose.service']} {c.status} "
            f"{c.attrs['Config']['Image'].rsplit(':', 1)[1]}"
            for c in containers
        ),
        "maintenance_records": int(title_rows),
        "active": int(
            stack.psql(
                "atmo_prod", "SELECT count(*) FROM maintenance_record WHERE end_date IS NULL"
            )
        ),
        "backups": sorted(
            t for i in client.images.list(name=f"old_{stack.project}_*") for t in i.tags
        ),
        "rows": stack.counts(),
    }


UNTOUCHED = {
    "containers": ["atmosphere running release-v37-2", "troposphere running release-v37-2"],
    "maintenance_records": 0,
    "active": 0,
    "backups": [],
}


def released(stack: RehearsalStack) -> dict[str, object]:
    return {
        "containers": ["atmosphere running release-v37-3", "troposphere running release-v37-3"],
        "maintenance_records": 1,
        "active": 0,
        "backups": [
            f"old_{stack.project}_atmosphere:release-v37-2",
            f"old_{stack.project}_troposphere:release-v37-2",
        ],
    }


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
