"""Where commands run: one object, so a remote target can follow without touching a step."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from atmo_release.redact import Redactor


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    seconds: float
    changes: bool = False
    planned: bool = False

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def tail(self, lines: int = 5) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return "\n".join(text[-lines:])


CommandListener = Callable[[Result, Redactor], None]


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
        changes: bool = False,
    ) -> Result:
        """Run argv; `changes` marks a command that changes the deployment (a plan skips it)."""
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
                timeout=timeout,
                check=False,
            )
            rc, out, err = done.returncode, done.stdout, done.stderr
        except FileNotFoundError as error:
            rc, out, err = 127, "", f"command not found: {error.filename}"
        except subprocess.TimeoutExpired as error:
            rc, out, err = 124, _text(error.stdout), f"timed out after {timeout} s"
        return self._emit(Result(tuple(argv), rc, out, err, time.monotonic() - started, changes))

    def run_to_file(
        self,
        argv: Sequence[str],
        path: Path,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 3600,
        changes: bool = False,
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
        return self._emit(Result(tuple(argv), rc, out, err, time.monotonic() - started, changes))

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

    def create_exclusive(self, path: Path, text: str) -> bool:
        """Create `path` holding `text` unless it exists: the atomic step of a lock."""
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
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


class PlanTarget(LocalTarget):
    """Reads for real, changes nothing: each change is recorded as planned and reported done."""

    name = "plan"

    def run(self, argv: Sequence[str], *, changes: bool = False, **kwargs: object) -> Result:
        if changes:
            return self._emit(Result(tuple(argv), 0, "", "", 0.0, changes=True, planned=True))
        return super().run(argv, **kwargs)  # type: ignore[arg-type]

    def write_text(self, path: Path, text: str) -> None:
        self._emit(Result(("write", str(path)), 0, "", "", 0.0, changes=True, planned=True))

    def run_to_file(
        self, argv: Sequence[str], path: Path, *, changes: bool = False, **kwargs: object
    ) -> Result:
        if changes:
            return self._emit(Result(tuple(argv), 0, "", "", 0.0, changes=True, planned=True))
        return super().run_to_file(argv, path, **kwargs)  # type: ignore[arg-type]
