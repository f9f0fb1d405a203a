"""A plan of a run: reads run on the wrapped target, changes are only recorded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from atmo_release.redact import Redactor
from atmo_release.target.protocol import CommandListener, Result, Target, changes


class PlanTarget:
    """Wraps any target: reads run there for real, every change is recorded as planned and
    reported done. What is a change is decided by the command builders, not by the caller."""

    def __init__(self, inner: Target) -> None:
        self.inner = inner
        self.name = f"plan on {inner.name}"

    @property
    def redactor(self) -> Redactor:
        return self.inner.redactor

    @property
    def listeners(self) -> list[CommandListener]:
        return self.inner.listeners

    @property
    def before_change(self) -> list[Callable[[], None]]:
        return self.inner.before_change

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

    def close(self) -> None:
        self.inner.close()
