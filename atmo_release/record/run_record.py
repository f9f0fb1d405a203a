"""The release record: who did what, when, how long, with what result; written even on failure,
as record.json and, rendered from its masked data, record.md and record.html."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from atmo_release import side_by_side
from atmo_release.record.render import render_html, render_markdown
from atmo_release.redact import Redactor
from atmo_release.target import Result


def utc_now(timespec: str = "seconds") -> str:
    return datetime.now(UTC).isoformat(timespec=timespec)


T = TypeVar("T")
R = TypeVar("R")

# Copies of the record taken again when another thread changed it meanwhile.
COPY_TRIES = 5

# Steps and the window to the millisecond: the timeline places sections shorter than a second.
PRECISE = "milliseconds"


@dataclass
class CommandEntry:
    argv: list[str]
    rc: int
    seconds: float
    output_tail: str
    changes: bool = False
    planned: bool = False


@dataclass
class StepEntry:
    section: str
    step: str
    started: str
    result: str = "running"
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    commands: list[CommandEntry] = field(default_factory=list)
    error: str = ""
    # A check read ahead of its step (release_day/reads_ahead.py): the seconds its own work
    # took, beside other checks; `seconds` is then what the step waited for it.
    ahead_seconds: float | None = None


# Where a check read ahead of its step records its commands and notes until the step takes them
# (set in that check's thread only): never into the step that happens to run meanwhile.
RECORDING_INTO: ContextVar[StepEntry | None] = ContextVar("recording_into", default=None)


@dataclass
class ReleaseRecord:
    """Everything a crew chief needs after the run; every string passes the redactor on write."""

    env: str
    release: str
    crew_chief: str
    driver: str
    target: str
    run_id: str
    started: str = field(default_factory=utc_now)
    finished: str = ""
    outcome: str = "running"
    previous_release: str = ""
    halted_at: str = ""
    stack_state: dict[str, Any] = field(default_factory=dict)
    next_safe_command: str = ""
    maintenance_window: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    # What the run says about itself outside any step (a webhook that failed), shown on top.
    notes: list[str] = field(default_factory=list)
    steps: list[StepEntry] = field(default_factory=list)

    def begin_step(self, section: str, step: str) -> StepEntry:
        entry = StepEntry(section=section, step=step, started=utc_now(PRECISE))
        self._step_started = time.monotonic()
        self.steps.append(entry)
        return entry

    def end_step(self, result: str, error: str = "") -> None:
        if not self.steps:
            return
        entry = self.steps[-1]
        entry.result = result
        entry.error = error
        entry.seconds = round(
            time.monotonic() - getattr(self, "_step_started", time.monotonic()), 3
        )

    def open_window(self) -> None:
        """Maintenance went on: the first time opens the window, in the section running now."""
        if "started" not in self.maintenance_window:
            self.maintenance_window["started"] = utc_now(PRECISE)
            self.maintenance_window["opened_in"] = self.steps[-1].section if self.steps else ""

    def close_window(self) -> None:
        self.maintenance_window["ended"] = utc_now(PRECISE)
        self.maintenance_window["closed_in"] = self.steps[-1].section if self.steps else ""

    def _entry(self) -> StepEntry | None:
        return RECORDING_INTO.get() or (self.steps[-1] if self.steps else None)

    def side_by_side(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`side_by_side.each`, with each item's commands and notes kept apart and then
        recorded where the caller records, in the items' order: the same record every run."""
        into = self._entry()
        apart = [StepEntry("", "", "") for _ in items]

        def recorded_apart(index: int) -> R:
            token = RECORDING_INTO.set(apart[index])
            try:
                return work(items[index])
            finally:
                RECORDING_INTO.reset(token)

        try:
            return side_by_side.each(recorded_apart, range(len(items)))
        finally:
            if into is not None:
                for entry in apart:
                    into.commands += entry.commands
                    into.notes += entry.notes

    def note(self, text: str) -> None:
        if entry := self._entry():
            entry.notes.append(text)

    def on_command(self, result: Result, redactor: Redactor) -> None:
        entry = self._entry()
        if entry is None:
            return
        entry.commands.append(
            CommandEntry(
                argv=redactor.argv(result.argv),
                rc=result.rc,
                seconds=round(result.seconds, 3),
                output_tail=redactor(result.tail(3)) if not result.ok else "",
                changes=result.changes,
                planned=result.planned,
            )
        )

    def commands(self, changes_only: bool = False) -> list[list[str]]:
        return [
            command.argv
            for step in self.steps
            for command in step.commands
            if command.changes or not changes_only
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def in_window(self) -> bool:
        window = self.maintenance_window
        return "started" in window and "ended" not in window

    def write(
        self,
        directory: Path,
        redactor: Redactor,
        stem: str = "record",
        rendered: bool = True,
        **head: str,
    ) -> list[Path]:
        """`<stem>.json`, then (`rendered`) `<stem>.md` and `<stem>.html`, `head` keys first in
        the JSON."""
        renderers: dict[str, Renderer] = {
            "md": render_markdown,
            "html": lambda masked: render_html(masked, directory),
        }
        return write_masked(
            directory, stem, self.masked(redactor, **head), renderers if rendered else {}
        )

    def masked(self, redactor: Redactor, **head: str) -> dict[str, Any]:
        """The record as it is written, every string masked. A step that a later one follows
        no longer changes, so its masked form is kept (until the redactor learns a secret):
        the checkpoint after each step masks one step, not all of them (that took about
        0.05 s a step, over a second of a window)."""
        if getattr(self, "_masked_with", None) != (id(redactor), len(redactor)):
            self._masked_steps: dict[int, tuple[StepEntry, dict[str, Any]]] = {}
            self._masked_with = (id(redactor), len(redactor))
        steps = []
        for index, step in enumerate(self.steps):
            kept = self._masked_steps.get(index)
            if kept is None or kept[0] is not step:
                kept = (step, redact_data(asdict(step), redactor))
                if index < len(self.steps) - 1:
                    self._masked_steps[index] = kept
            steps.append(kept[1])
        masked = redact_data({**head, **self._facts_copied()}, redactor)
        masked["steps"] = steps
        return masked

    def _facts_copied(self) -> dict[str, Any]:
        """Everything but the steps, copied; a check read ahead in its own thread may add a
        fact while the copy goes through them ("dictionary changed size"): copied again."""
        for _ in range(COPY_TRIES - 1):
            try:
                return asdict(replace(self, steps=[]))
            except RuntimeError:
                continue
        return asdict(replace(self, steps=[]))


Renderer = Callable[[Any], str]


def write_redacted(
    directory: Path, stem: str, data: Any, redactor: Redactor, renderers: dict[str, Renderer]
) -> list[Path]:
    """The one writer of record files: `<stem>.json`, then `<stem>.<suffix>` per renderer. Each
    string of `data` is masked before JSON or HTML escapes it (a quote or a backslash in a
    secret would slip past a mask applied after), and the renderers see the masked data only."""
    return write_masked(directory, stem, redact_data(data, redactor), renderers)


def write_masked(
    directory: Path, stem: str, masked: Any, renderers: dict[str, Renderer]
) -> list[Path]:
    """`write_redacted` of data whose every string is masked already."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{stem}.json"
    json_path.write_text(json.dumps(masked, indent=2) + "\n")
    paths = [json_path]
    for suffix, render in renderers.items():
        path = directory / f"{stem}.{suffix}"
        path.write_text(render(masked))
        paths.append(path)
    return paths


def redact_data(data: Any, redactor: Redactor) -> Any:
    """Masks secrets in every string of a JSON-like value before it is escaped for output;
    any other value (a path, a date) is written as its masked string."""
    if isinstance(data, dict):
        return {redactor(str(k)): redact_data(v, redactor) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(item, redactor) for item in data]
    if data is None or isinstance(data, bool | int | float):
        return data
    return redactor(str(data))
