"""What the rehearsal stack's parts share: running a command, a free port, waiting for a probe."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests

# The rehearsal's commits are made by no one's own git identity, and alike on every machine.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Rehearsal",
    "GIT_AUTHOR_EMAIL": "rehearsal@example.org",
    "GIT_COMMITTER_NAME": "Rehearsal",
    "GIT_COMMITTER_EMAIL": "rehearsal@example.org",
}

Log = Callable[[str], None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(
    argv: list[str], cwd: Path | None = None, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command (with GIT_ENV); when `check`, fail with the end of its output."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])} ... failed: {(done.stderr or done.stdout)[-800:]}"
        )
    return done


def wait_until(probe: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Poll `probe` until it holds; a service still starting may refuse or fail the probe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except (requests.RequestException, RuntimeError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"rehearsal {what} was not ready within {timeout:g} s")
