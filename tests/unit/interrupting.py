"""Ctrl-C while two items work side by side, for the tests of what an interrupt waits for."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def ctrl_c_raising() -> Iterator[None]:
    """For the block, SIGINT reaches the main thread and raises KeyboardInterrupt there, as
    Ctrl-C does in a terminal, whatever the process had set before (in CI an xdist worker,
    after other tests, did not raise it)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, before)


def interrupted_work(first: str, then: Callable[[str], None]) -> Callable[[str], None]:
    """Work for two items at once: once both run, item `first` sends the main thread SIGINT
    (Ctrl-C); each item then works 0.3 s longer and ends with `then(item)`."""
    both = threading.Barrier(2, timeout=5)

    def work(name: str) -> None:
        both.wait()
        if name == first:
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        time.sleep(0.3)
        then(name)

    return work
