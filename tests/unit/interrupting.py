"""Ctrl-C while two items work side by side, for the tests of what an interrupt waits for."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable


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
