"""Independent work side by side: the results in order, every item ended before an error is
raised, and the caller's context (where commands are recorded) carried into each thread."""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar

import pytest

from atmo_release import side_by_side
from tests.unit.interrupting import ctrl_c_raising, interrupted_work

WHERE: ContextVar[str] = ContextVar("WHERE", default="nowhere")


def test_items_run_at_once_and_results_keep_their_order() -> None:
    together = threading.Barrier(3, timeout=10)  # broken unless all three run at once

    def work(n: int) -> int:
        together.wait()
        time.sleep(0.2 - n / 10)  # the last item ends first
        return n * 2

    assert side_by_side.each(work, [0, 1, 2]) == [0, 2, 4]


def test_each_thread_sees_the_callers_context() -> None:
    WHERE.set("step 7")
    both = threading.Barrier(2, timeout=5)  # each in a thread of its own, at the same time
    seen = side_by_side.each(
        lambda _: (both.wait(), WHERE.get(), threading.current_thread().name)[1:], [1, 2]
    )
    assert [where for where, _ in seen] == ["step 7", "step 7"]
    assert seen[0][1] != seen[1][1]


def test_every_item_ends_before_the_first_error_in_order_is_raised() -> None:
    ended: list[str] = []

    def work(name: str) -> str:
        time.sleep(0.2 if name == "slow" else 0.0)
        ended.append(name)
        if name != "slow":
            raise ValueError(name)
        return name

    with pytest.raises(ValueError, match="^first$"):
        side_by_side.each(work, ["slow", "first", "second"])
    assert sorted(ended) == ["first", "second", "slow"]


def test_one_item_runs_in_the_callers_thread() -> None:
    assert side_by_side.each(lambda _: threading.current_thread(), ["one"]) == [
        threading.current_thread()
    ]


def test_an_interrupt_waits_for_the_items_at_work() -> None:
    """Ctrl-C while items work: each ends before the interrupt reaches the caller."""
    ended: list[str] = []
    with ctrl_c_raising(), pytest.raises(KeyboardInterrupt):
        side_by_side.each(
            interrupted_work("interrupting", ended.append), ["interrupting", "working"]
        )
    assert sorted(ended) == ["interrupting", "working"]
