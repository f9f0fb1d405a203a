"""This host as the target: argv lists run with subprocess, files are local paths."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from atmo_release.redact import Redactor
from atmo_release.target import CommandListener, Result, changes


class LocalTarget:
    """Runs argv lists on this machine; every command is reported, redacted, to the listeners."""

    name = "local"

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        self.listeners: list[CommandListener] = []

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float | None = 600,
    ) -> Result:
        """Run argv; the result says whether it was a change (see `changes`)."""
        started = time.monotonic()
        child_env = {**os.environ, **env} if env else None
        try:
            done = subprocess.run(
                list(argv),
                cwd=cwd,
                env=child_env,
                input=input,
                capture_output=True,
                text=True,
                errors="replace",  # a command's bytes are not always text (a dump's tail)
                timeout=timeout,
                check=False,
            )
            rc, out, err = done.returncode, done.stdout, done.stderr
        except FileNotFoundError as error:
            rc, out, err = 127, "", f"command not found: {error.filename}"
        except subprocess.TimeoutExpired as error:
            rc, out, err = 124, _text(error.stdout), f"timed out after {timeout} s"
        seconds = time.monotonic() - started
        return self._emit(Result(tuple(argv), rc, out, err, seconds, changes(argv)))

    def run_to_file(
        self,
        argv: Sequence[str],
        path: Path,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 3600,
    ) -> Result:
        """Run argv with stdout streamed into the new file `path` (created 0600, never
        overwritten): a 1 GB dump never sits in memory."""
        started = time.monotonic()
        child_env = {**os.environ, **env} if env else None
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as output:
            try:
                done = subprocess.run(
                    list(argv),
                    env=child_env,
                    stdout=output,
                    stderr=subprocess.PIPE,
                    timeout=timeout,
                    check=False,
                )
                rc, err = done.returncode, _text(done.stderr)
            except FileNotFoundError as error:
                rc, err = 127, f"command not found: {error.filename}"
            except subprocess.TimeoutExpired:
                rc, err = 124, f"timed out after {timeout} s"
        out = f"(stdout written to {path})"
        seconds = time.monotonic() - started
        return self._emit(Result(tuple(argv), rc, out, err, seconds, changes(argv)))

    def _emit(self, result: Result) -> Result:
        for listener in self.listeners:
            listener(result, self.redactor)
        return result

    def read_text(self, path: Path) -> str:
        return Path(path).read_text()

    def write_text(self, path: Path, text: str) -> None:
        Path(path).write_text(text)
        self._emit(Result(("write", str(path)), 0, "", "", 0.0, changes=True))

    def exists(self, path: Path) -> bool:
        return Path(path).exists()

    def create_exclusive(self, path: Path, text: str, mode: int = 0o644) -> bool:
        """Create `path` holding `text` unless it exists: the atomic step of a lock, or a file
        only its owner may read (`mode`)."""
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        return True

    def remove(self, path: Path) -> None:
        Path(path).unlink(missing_ok=True)


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value or ""
