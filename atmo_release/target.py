"""Where commands run: one object, so a remote target can follow without touching a step."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from atmo_release.commands import Read
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


class Target(Protocol):
    """Where the deployment lives: every command and every file access of a run goes here."""

    name: str
    redactor: Redactor
    listeners: list[CommandListener]

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float | None = 600,
    ) -> Result: ...

    def run_to_file(
        self,
        argv: Sequence[str],
        path: Path,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 3600,
    ) -> Result: ...

    def read_text(self, path: Path) -> str: ...

    def write_text(self, path: Path, text: str) -> None: ...

    def exists(self, path: Path) -> bool: ...

    def create_exclusive(self, path: Path, text: str, mode: int = 0o644) -> bool: ...

    def remove(self, path: Path) -> None: ...


def changes(argv: Sequence[str]) -> bool:
    """Only a `Read` built by a command builder leaves the deployment as it was."""
    return not isinstance(argv, Read)


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


class PlanTarget:
    """Wraps any target: reads run there for real, every change is recorded as planned and
    reported done. What is a change is decided by the command builders, not by the caller."""

    name = "plan"

    def __init__(self, inner: Target) -> None:
        self.inner = inner

    @property
    def redactor(self) -> Redactor:
        return self.inner.redactor

    @property
    def listeners(self) -> list[CommandListener]:
        return self.inner.listeners

    def _planned(self, argv: Sequence[str]) -> Result:
        result = Result(tuple(argv), 0, "", "", 0.0, changes=True, planned=True)
        for listener in self.listeners:
            listener(result, self.redactor)
        return result

    def run(self, argv: Sequence[str], **kwargs: object) -> Result:
        if changes(argv):
            return self._planned(argv)
        return self.inner.run(argv, **kwargs)  # type: ignore[arg-type]

    def run_to_file(self, argv: Sequence[str], path: Path, **kwargs: object) -> Result:
        if changes(argv):
            return self._planned(argv)
        return self.inner.run_to_file(argv, path, **kwargs)  # type: ignore[arg-type]

    def read_text(self, path: Path) -> str:
        return self.inner.read_text(path)

    def exists(self, path: Path) -> bool:
        return self.inner.exists(path)

    def write_text(self, path: Path, text: str) -> None:
        self._planned(("write", str(path)))

    def create_exclusive(self, path: Path, text: str, mode: int = 0o644) -> bool:
        """As if created: the command that fills the file is what the plan lists."""
        return True

    def remove(self, path: Path) -> None:
        self._planned(("remove", str(path)))
