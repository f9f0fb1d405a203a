"""wait_until polls probes and reports the seconds each took, or names those that never held."""

import time

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.http_checks import wait_until


def after(calls: int):
    """A probe that holds from its `calls`-th call on."""
    count = {"n": 0}

    def probe() -> bool:
        count["n"] += 1
        return count["n"] >= calls

    return probe


def test_returns_seconds_per_probe() -> None:
    ready = wait_until({"atmosphere": lambda: True, "troposphere": after(3)}, 0.01, 2)
    assert set(ready) == {"atmosphere", "troposphere"}
    assert ready["atmosphere"] == 0.0
    assert 0.01 <= ready["troposphere"] < 1
    assert all(isinstance(v, float) for v in ready.values())


def test_a_probe_that_held_is_not_asked_again() -> None:
    calls = []
    wait_until({"a": lambda: calls.append(1) or True, "b": after(3)}, 0.001, 2)
    assert len(calls) == 1


def test_no_probes_returns_at_once() -> None:
    assert wait_until({}, 10, 10) == {}


def test_names_the_probes_that_never_held() -> None:
    started = time.monotonic()
    with pytest.raises(CheckFailed) as caught:
        wait_until(
            {"troposphere": lambda: False, "atmosphere": lambda: True, "celery": lambda: False},
            0.01,
            0.05,
        )
    assert time.monotonic() - started < 1
    message = str(caught.value)
    assert message.endswith(": celery, troposphere")
    assert "atmosphere" not in message
    assert "0.05 s" in message
