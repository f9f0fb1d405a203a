"""This host as the target: argv lists run with subprocess, files are local paths."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from atmo_release.target.process import Reporting, execute
from atmo_release.target.protocol import Result


class LocalTarget(Reporting):
    """Runs argv lists on this machine; every command is reported, redacted, to the listeners."""

    name = "local"

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
        executed, env = self._executed(argv, env)
        return self._timed(
            argv, lambda: execute(executed, cwd=cwd, env=env, input=input, timeout=timeout)
        )

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

        executed, env = self._executed(argv, env)

        def into_file() -> tuple[int, str, str]:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as output:
                return execute(executed, env=env, timeout=timeout, stdout=output)

        return self._timed(argv, into_file, out=f"(stdout written to {path})")

    def _survey(self, argv: Sequence[str]) -> str:
        return execute(argv, timeout=30)[1]

    def _environ(self) -> Mapping[str, str]:
        return os.environ

    def read_text(self, path: Path) -> str:
        return Path(path).read_text()

    def write_text(self, path: Path, text: str) -> None:
        self._changing()
        Path(path).write_text(text)
        self._wrote(path)

    def exists(self, path: Path) -> bool:
        return Path(path).exists()

    def create_exclusive(self, path: Path, text: str, mode: int = 0o644) -> bool:
        """Create `path` holding `text` unless it exists: the atomic step of a lock, or a file
        only its owner may read (`mode`)."""
        self._changing()
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        return True

    def remove(self, path: Path) -> None:
        self._changing()
        Path(path).unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing is held open here."""
