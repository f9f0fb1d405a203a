"""A target that runs nothing: it records each argv and answers from a script, and keeps
files in a dict, so a resource can be tested by the exact commands it sends."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from atmo_release.redact import Redactor
from atmo_release.target import CommandListener, Result, changes


class FakeTarget:
    name = "fake"

    def __init__(self) -> None:
        self.redactor = Redactor()
        self.listeners: list[CommandListener] = []
        self.before_change: list[Callable[[], None]] = []
        self.calls: list[tuple[str, ...]] = []
        self.results: list[Result] = []
        self.files: dict[Path, str] = {}
        self._answers: list[tuple[tuple[str, ...], int, str]] = []

    def answer(self, *part: str, stdout: str = "", rc: int = 0) -> None:
        """Commands whose argv holds `part` (in a row) answer `stdout` with `rc`."""
        self._answers.append((part, rc, stdout))

    def _answer_for(self, argv: tuple[str, ...]) -> tuple[int, str]:
        for part, rc, stdout in self._answers:
            width = len(part)
            if any(argv[i : i + width] == part for i in range(len(argv) - width + 1)):
                return rc, stdout
        return 0, ""

    def run(self, argv: Sequence[str], **_: object) -> Result:
        if changes(argv):
            for wait in self.before_change:
                wait()
        called = tuple(argv)
        self.calls.append(called)
        rc, stdout = self._answer_for(called)
        result = Result(called, rc, stdout, "" if rc == 0 else "failed", 0.0, changes(argv))
        self.results.append(result)
        for listener in self.listeners:
            listener(result, self.redactor)
        return result

    def run_to_file(self, argv: Sequence[str], path: Path, **_: object) -> Result:
        result = self.run(argv)
        self.files[Path(path)] = result.stdout
        return result

    def read_text(self, path: Path) -> str:
        return self.files[Path(path)]

    def write_text(self, path: Path, text: str) -> None:
        self.calls.append(("write", str(path)))
        self.files[Path(path)] = text

    def exists(self, path: Path) -> bool:
        return Path(path) in self.files

    def create_exclusive(self, path: Path, text: str, mode: int = 0o644) -> bool:
        if Path(path) in self.files:
            return False
        self.calls.append(("create", str(path)))
        self.files[Path(path)] = text
        return True

    def remove(self, path: Path) -> None:
        self.files.pop(Path(path), None)

    def commands(self, *part: str) -> list[tuple[str, ...]]:
        """The calls whose argv holds `part` in a row, in order."""
        width = len(part)
        return [
            argv
            for argv in self.calls
            if any(argv[i : i + width] == part for i in range(len(argv) - width + 1))
        ]


def container(id: str, service: str, image: str, status: str = "running", **more: object) -> dict:
    """One container as `docker inspect` shows it, with `more` of its top-level keys."""
    return {
        "Id": id,
        "Name": f"/{service}",
        "Created": "1",
        "State": {"Status": status},
        "Config": {"Image": image, "Labels": {"com.docker.compose.service": service}},
        **more,
    }


def answer_containers(fake: FakeTarget, *containers: dict) -> None:
    """The compose project holds `containers` (as `container` makes them)."""
    fake.answer("ps", stdout="".join(f"{c['Id']}\n" for c in containers))
    fake.answer("inspect", *(c["Id"] for c in containers), stdout=json.dumps(list(containers)))
