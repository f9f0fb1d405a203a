"""The deploy lock, the production gates and the record lookups, without Docker."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest

from atmo_release.environment import parse_environment
from atmo_release.record.run_record import utc_now
from atmo_release.release import Release
from atmo_release.release_day.gates import GateRefused, require_atmobeta_pass, require_confirmation
from atmo_release.release_day.lock import DeployLock, LockHolder, LockRefused
from atmo_release.release_day.resume import newest_record, unfinished_record
from atmo_release.target import LocalTarget

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = parse_environment(ROOT / "environments" / "production.toml")
ATMOBETA = parse_environment(ROOT / "environments" / "atmobeta.toml")


def holder(driver: str, pid: int, since: str | None = None) -> LockHolder:
    import socket

    return LockHolder(
        driver, "atmobeta", "v37-3", f"run-{driver}", pid, socket.gethostname(), since or utc_now()
    )


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_second_run_is_refused_naming_the_holder(tmp_path: Path) -> None:
    lock = DeployLock(LocalTarget(), tmp_path / "lock", 3600)
    ada = holder("Ada", os.getpid())
    assert lock.acquire(ada) == "taken"
    with pytest.raises(LockRefused, match="Ada holds the deploy lock of atmobeta since"):
        lock.acquire(holder("Grace", os.getpid()))
    lock.release(holder("Grace", 1))
    assert lock.holder() == ada, "only the holder's own run releases the lock"
    lock.release(ada)
    assert lock.holder() is None


def test_waiting_gives_up_after_the_given_seconds(tmp_path: Path) -> None:
    lock = DeployLock(LocalTarget(), tmp_path / "lock", 3600)
    lock.acquire(holder("Ada", os.getpid()))
    started = time.monotonic()
    with pytest.raises(LockRefused, match=r"waited 0\.2 s"):
        lock.acquire(holder("Grace", 1), wait_s=0.2)
    assert time.monotonic() - started >= 0.2


def test_a_dead_runs_lock_is_stale_and_broken_only_with_a_reason(tmp_path: Path) -> None:
    lock = DeployLock(LocalTarget(), tmp_path / "lock", 3600)
    lock.acquire(holder("Ada", dead_pid()))
    with pytest.raises(LockRefused, match="stale because its process .* is gone"):
        lock.acquire(holder("Grace", 1))
    taken = lock.acquire(holder("Grace", 1), break_reason="Ada's laptop died")
    assert taken.startswith("taken after breaking a stale lock (Ada holds")
    assert taken.endswith("Ada's laptop died")


def test_an_old_lock_is_stale(tmp_path: Path) -> None:
    lock = DeployLock(LocalTarget(), tmp_path / "lock", 60)
    lock.acquire(holder("Ada", os.getpid(), since="2020-01-01T00:00:00+00:00"))
    with pytest.raises(LockRefused, match="over the limit of 60 s"):
        lock.acquire(holder("Grace", 1))


def test_production_needs_its_name_typed_out() -> None:
    with pytest.raises(GateRefused, match="confirm with --confirm=production"):
        require_confirmation(PRODUCTION, None, {})
    with pytest.raises(GateRefused):
        require_confirmation(PRODUCTION, "prod", {})
    assert require_confirmation(PRODUCTION, "production", {}) == "--confirm"
    assert require_confirmation(PRODUCTION, None, {"ATMO_RELEASE_CONFIRM": "production"}) == (
        "ATMO_RELEASE_CONFIRM"
    )
    assert require_confirmation(ATMOBETA, None, {}) == "not a production environment"


def write_record(directory: Path, name: str, **data: object) -> None:
    (directory / name).mkdir()
    (directory / name / "record.json").write_text(json.dumps(data))


def test_atmobeta_gate_refuses_without_a_pass_and_accepts_with_one(tmp_path: Path) -> None:
    release = Release.parse("37-3")
    write_record(tmp_path, "a", env="atmobeta", release="v37-3", outcome="halted", started="1")
    write_record(tmp_path, "b", env="atmobeta", release="v37-2", outcome="passed", started="2")
    with pytest.raises(GateRefused, match="no passed deploy.feature run of v37-3 on atmobeta"):
        require_atmobeta_pass(PRODUCTION, release, tmp_path, None)
    assert require_atmobeta_pass(PRODUCTION, release, tmp_path, "hotfix") == "skipped: hotfix"
    write_record(tmp_path, "c", env="atmobeta", release="v37-3", outcome="passed", started="3")
    assert require_atmobeta_pass(PRODUCTION, release, tmp_path, None).startswith(
        "passed on atmobeta: "
    )
    assert (
        require_atmobeta_pass(replace(PRODUCTION, production=False), release, tmp_path, None)
        == "not a production environment"
    )


def test_resume_takes_the_newest_unfinished_record_of_the_release(tmp_path: Path) -> None:
    facts = {"previous_images": {"atmosphere": "cyverse/atmosphere:release-v37-2"}}
    write_record(
        tmp_path,
        "old",
        env="atmobeta",
        release="v37-3",
        outcome="halted",
        started="2026-11-01",
        facts=facts,
    )
    write_record(
        tmp_path,
        "new",
        env="atmobeta",
        release="v37-3",
        outcome="running",
        started="2026-11-02",
        facts=facts,
        run_id="new",
    )
    write_record(
        tmp_path,
        "other",
        env="production",
        release="v37-3",
        outcome="halted",
        started="2026-11-03",
        facts=facts,
    )
    assert unfinished_record(tmp_path, "atmobeta", "v37-3")["run_id"] == "new"  # type: ignore[index]
    write_record(
        tmp_path,
        "done",
        env="atmobeta",
        release="v37-3",
        outcome="passed",
        started="2026-11-04",
        facts=facts,
    )
    assert unfinished_record(tmp_path, "atmobeta", "v37-3") is None
    assert newest_record(tmp_path, "atmobeta")["outcome"] == "passed"  # type: ignore[index]
    write_record(
        tmp_path,
        "plan",
        env="atmobeta",
        release="v37-3",
        outcome="planned",
        started="2026-11-05",
        facts={},
    )
    assert newest_record(tmp_path, "atmobeta")["outcome"] == "passed"  # type: ignore[index]


def test_a_record_of_another_deployment_of_the_same_name_is_never_adopted(tmp_path: Path) -> None:
    here = {"project": "atmo-rehearsal-a", "compose_file": "/a/docker-compose.yml"}
    there = {"project": "atmo-rehearsal-b", "compose_file": "/b/docker-compose.yml"}
    facts = {"previous_images": {"atmosphere": "cyverse/atmosphere:release-v37-2"}}
    write_record(
        tmp_path,
        "theirs",
        run_id="theirs",
        env="rehearsal",
        release="v37-3",
        outcome="running",
        started="2026-11-02",
        facts={**facts, "deployment": there},
    )
    assert unfinished_record(tmp_path, "rehearsal", "v37-3", here) is None
    assert newest_record(tmp_path, "rehearsal", where=here) is None
    write_record(
        tmp_path,
        "old",
        run_id="old",
        env="rehearsal",
        release="v37-3",
        outcome="halted",
        started="2026-11-01",
        facts=facts,
    )
    assert unfinished_record(tmp_path, "rehearsal", "v37-3", here)["run_id"] == "old"  # type: ignore[index]
    assert unfinished_record(tmp_path, "rehearsal", "v37-3", there)["run_id"] == "theirs"  # type: ignore[index]
