"""Checks read ahead of their steps: run together, judged and recorded in their own steps, and
never under a change of the deployment."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from unittest.mock import MagicMock

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.commands import Read
from atmo_release.record.run_record import ReleaseRecord
from atmo_release.release_day import use_and_test
from atmo_release.release_day.reads_ahead import ReadsAhead
from atmo_release.target import PlanTarget
from tests.unit.fake_target import FakeTarget
from tests.unit.test_unit_resources import deployment_on


def test_what_reaches_the_database_starts_after_the_row_check() -> None:
    """The row check's change markers trust no table while another session is busy, and the
    smoke checks and the browser journey sign in (a write): both wait for it."""
    assert set(use_and_test.AFTER) == set(use_and_test.checks(MagicMock()))
    assert use_and_test.AFTER["rows"] == ()
    assert {key for key, first in use_and_test.AFTER.items() if "rows" not in first} == {
        "rows",
        "logs",
    }
    assert "smoke" in use_and_test.AFTER["browser"]


def test_a_plan_reads_nothing_ahead(tmp_path: Path) -> None:
    inner = FakeTarget()
    planned = deployment_on(PlanTarget(inner), tmp_path)
    planned.record.begin_step("Use and test", "the version endpoints report the new release")
    with pytest.raises(CheckFailed):  # nothing answers on the fake target
        use_and_test.take(planned, "versions")
    assert not planned.reads_ahead.started


@pytest.fixture
def record(fake: FakeTarget) -> ReleaseRecord:
    record = ReleaseRecord("atmobeta", "v37-3", "Ada", "Grace", "fake", "r1")
    fake.listeners.append(record.on_command)
    return record


@pytest.fixture
def fake() -> FakeTarget:
    return FakeTarget()


def reading(fake: FakeTarget, name: str, seconds: float = 0.0, fails: bool = False):  # noqa: ANN201
    def check() -> None:
        time.sleep(seconds)
        fake.run(Read(["read", name]))
        if fails:
            raise CheckFailed(f"{name} does not hold")

    return check


def test_checks_run_together_and_each_step_gets_its_own_commands(
    record: ReleaseRecord, fake: FakeTarget
) -> None:
    ahead = ReadsAhead(record, fake)
    record.begin_step("Start the new images", "the apps are ready")
    began = time.monotonic()
    ahead.start({"a": reading(fake, "a", 0.4), "b": reading(fake, "b", 0.4)}, {})
    fake.run(Read(["ready", "probe"]))
    record.end_step("passed")
    for key in ("a", "b"):
        record.begin_step("Use and test", key)
        ahead.take(key, reading(fake, "never"))
        record.end_step("passed")
    assert time.monotonic() - began < 0.75  # one after the other would take 0.8 s
    ready, a, b = record.steps
    assert [c.argv for c in ready.commands] == [["ready", "probe"]]
    assert [c.argv for c in a.commands] == [["read", "a"]]
    assert [c.argv for c in b.commands] == [["read", "b"]]
    assert a.ahead_seconds is not None and a.ahead_seconds >= 0.4
    assert b.seconds < 0.2  # it had finished while the step before waited
    assert "never" not in str(fake.calls)


def test_a_failed_check_fails_its_own_step_and_one_after_it_starts_once_it_ended(
    record: ReleaseRecord, fake: FakeTarget
) -> None:
    ahead = ReadsAhead(record, fake)
    ahead.start(
        {"versions": reading(fake, "versions"), "rows": reading(fake, "rows", 0.3, fails=True)},
        {"versions": ("rows",)},
    )
    record.begin_step("Use and test", "versions")
    began = time.monotonic()
    ahead.take("versions", reading(fake, "never"))
    assert time.monotonic() - began >= 0.25  # it started once the row check had ended
    assert [c.argv for c in record.steps[-1].commands] == [["read", "versions"]]
    record.begin_step("Use and test", "rows")
    with pytest.raises(CheckFailed, match="rows does not hold"):
        ahead.take("rows", reading(fake, "never"))
    assert [c.argv for c in record.steps[-1].commands] == [["read", "rows"]]


def test_no_change_runs_while_a_check_reads_but_a_check_may_change_its_own(
    record: ReleaseRecord, fake: FakeTarget
) -> None:
    ahead = ReadsAhead(record, fake)
    finished: list[str] = []
    release = threading.Event()

    def slow_check() -> None:
        fake.run(["docker", "rm", "-f", "its-own-copy"])  # a change, from the check's thread
        release.wait(5)
        finished.append("check")

    ahead.start({"rows": slow_check}, {})
    record.begin_step("Roll back", "restore")
    threading.Timer(0.3, release.set).start()
    fake.run(["docker-compose", "stop"])
    finished.append("change")
    assert finished == ["check", "change"]
    restore = record.steps[-1]
    assert [c.argv for c in restore.commands] == [
        ["docker", "rm", "-f", "its-own-copy"],
        ["docker-compose", "stop"],
    ]
    assert restore.notes == ["rows, read ahead, was not judged: the run went on first"]


def test_a_check_not_started_runs_in_its_step(record: ReleaseRecord, fake: FakeTarget) -> None:
    ahead = ReadsAhead(record, fake)
    record.begin_step("Use and test", "versions")
    ahead.take("versions", reading(fake, "now"))
    assert [c.argv for c in record.steps[-1].commands] == [["read", "now"]]
    assert record.steps[-1].ahead_seconds is None


def test_a_check_whose_step_was_interrupted_is_still_waited_for(
    record: ReleaseRecord, fake: FakeTarget
) -> None:
    """Ctrl-C (or SIGTERM) while a step waits: the check is still in flight, and the teardown's
    first change waits for it."""
    ahead = ReadsAhead(record, fake)
    ahead.start({"rows": reading(fake, "rows", 0.3)}, {})
    record.begin_step("Use and test", "rows")
    done = ahead.pending["rows"].done
    waited = done.exception

    def interrupted(timeout: float | None = None) -> BaseException | None:
        done.exception = waited  # type: ignore[method-assign]
        raise KeyboardInterrupt

    done.exception = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        ahead.take("rows", reading(fake, "never"))
    fake.run(["docker", "rm", "-f", "a-copy"])
    assert [c.argv for c in record.steps[-1].commands] == [
        ["read", "rows"],
        ["docker", "rm", "-f", "a-copy"],
    ]
