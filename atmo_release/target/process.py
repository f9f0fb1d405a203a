"""Running a program on this machine, for every target: a local one runs the command itself,
an SSH one runs `ssh` with the command as its last argument."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from atmo_release.commands import Read
from atmo_release.redact import Redactor
from atmo_release.target import pg_clients
from atmo_release.target.protocol import CommandListener, Result, changes


def execute(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float | None = 600,
    stdout: IO[bytes] | None = None,
) -> tuple[int, str, str]:
    """(rc, stdout, stderr); 127 when the program is missing, 124 after `timeout`. With
    `stdout`, the output goes into that file and never sits in memory."""
    child_env = {**os.environ, **env} if env else None
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=child_env,
            input=None if input is None else input.encode(),
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL if input is None else None,
            timeout=timeout,
            check=False,
        )
        return done.returncode, _text(done.stdout), _text(done.stderr)
    except FileNotFoundError as error:
        return 127, "", f"command not found: {error.filename}"
    except subprocess.TimeoutExpired as error:
        return 124, _text(error.stdout), f"timed out after {timeout} s"


def _text(value: bytes | str | None) -> str:
    """A command's bytes are not always text (a dump's tail): undecodable bytes are replaced."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""


class Reporting:
    """Every command a target runs is reported, redacted, to its listeners (the record)."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        self.listeners: list[CommandListener] = []
        self.before_change: list[Callable[[], None]] = []
        self._pg_direct: pg_clients.Direct | None = None
        self._pg_lock = threading.Lock()

    def _survey(self, argv: Sequence[str]) -> str:
        """The output of a read the target runs unrecorded (its own, not the runbook's)."""
        raise NotImplementedError

    def _environ(self) -> Mapping[str, str]:
        """The environment a command starts from on the target, as far as it is known."""
        return {}

    def _executed(
        self, argv: Sequence[str], env: Mapping[str, str] | None
    ) -> tuple[list[str], Mapping[str, str] | None]:
        """What to execute for `argv`: a PostgreSQL client without Debian's wrapper where the
        wrapper would exec the same binary (target/pg_clients.py); `argv` itself otherwise."""
        if not argv or argv[0] not in pg_clients.PROGRAMS:
            return list(argv), env
        with self._pg_lock:
            if self._pg_direct is None:
                self._pg_direct = pg_clients.parse_survey(
                    self._survey(Read(pg_clients.SURVEY_ARGV))
                )
        return self._pg_direct.argv_env(argv, env, self._environ())

    def _changing(self) -> None:
        """Called before anything that changes the deployment: checks still reading it
        (release_day/reads_ahead.py) end first."""
        for wait in self.before_change:
            wait()

    def _emit(self, result: Result) -> Result:
        for listener in self.listeners:
            listener(result, self.redactor)
        return result

    def _timed(
        self, argv: Sequence[str], run: Callable[[], tuple[int, str, str]], out: str | None = None
    ) -> Result:
        """`run` (the command `argv`, however the target executes it) timed and reported;
        `out` stands for a stdout that went into a file."""
        if changes(argv):
            self._changing()
        started = time.monotonic()
        rc, stdout, err = run()
        seconds = time.monotonic() - started
        return self._emit(
            Result(tuple(argv), rc, stdout if out is None else out, err, seconds, changes(argv))
        )

    def _wrote(self, path: Path) -> None:
        self._emit(Result(("write", str(path)), 0, "", "", 0.0, changes=True))
