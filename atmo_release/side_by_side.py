"""Work on independent things (two databases, two apps) at once, as the run's own thread would.

Each item's work runs in a thread of its own carrying a copy of the caller's context, so the
commands it runs land in the record where the caller's would (`run_record.RECORDING_INTO`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextvars import copy_context
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def each(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`work(item)` for every item, side by side; the results in the items' order. Every item
    ends before this returns; then the first item's error that failed, in that order, is
    raised.

    Interrupted (Ctrl-C, SIGTERM), it still waits for the items at work before the interrupt
    goes on: nothing they do may act while the run unwinds and cleans up, and what they ran
    reaches the record. A second interrupt leaves them."""
    if len(items) < 2:
        return [work(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=len(items))
    try:
        running = [pool.submit(copy_context().run, work, item) for item in items]
        wait(running)
    except BaseException:
        pool.shutdown(wait=True)
        raise
    pool.shutdown()
    return [done.result() for done in running]
