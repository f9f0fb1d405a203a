"""The target protocol, the result of a command and what counts as a change: what every
transport implements and every library module takes, apart from any transport."""

from __future__ import annotations

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
    # Called before each command or file access that changes the deployment.
    before_change: list[Callable[[], None]]

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float | None = 600,
    ) -> Result:
        """Run argv; its output as text, any bytes that are not text replaced, never raised."""
        ...

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

    def close(self) -> None: ...


def changes(argv: Sequence[str]) -> bool:
    """Only a `Read` built by a command builder leaves the deployment as it was."""
    return not isinstance(argv, Read)
