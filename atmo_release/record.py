"""The release record: who did what, when, how long, with what result; written even on failure."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atmo_release.redact import Redactor
from atmo_release.target import Result


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    steps: list[StepEntry] = field(default_factory=list)

    def begin_step(self, section: str, step: str) -> StepEntry:
        entry = StepEntry(section=section, step=step, started=utc_now())
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

    def note(self, text: str) -> None:
        if self.steps:
            self.steps[-1].notes.append(text)

    def on_command(self, result: Result, redactor: Redactor) -> None:
        if not self.steps:
            return
        self.steps[-1].commands.append(
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

    def write(
        self, directory: Path, redactor: Redactor, stem: str = "record", **head: str
    ) -> tuple[Path, Path]:
        """`<stem>.json|md`, `head` keys first in the JSON."""
        return write_redacted(
            directory, stem, {**head, **self.to_dict()}, render_markdown(self, redactor), redactor
        )


def write_redacted(
    directory: Path, stem: str, data: Any, markdown: str, redactor: Redactor
) -> tuple[Path, Path]:
    """The one writer of record files (`<stem>.json|md`): each string of `data` is masked before
    JSON escapes it (a quote or a backslash in a secret would slip past a mask applied after)."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / f"{stem}.json", directory / f"{stem}.md"
    json_path.write_text(json.dumps(redact_data(data, redactor), indent=2) + "\n")
    md_path.write_text(redactor(markdown))
    return json_path, md_path


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


def render_markdown(record: ReleaseRecord, redactor: Redactor | None = None) -> str:
    lines = [
        f"# Release record: {record.release} on {record.env}",
        "",
        f"- Outcome: **{record.outcome}**",
        f"- Crew chief: {record.crew_chief}; driver: {record.driver}; target: {record.target}",
        f"- Started {record.started}, finished {record.finished or '-'}",
        f"- Previous release: {record.previous_release or 'unknown'}",
    ]
    if record.maintenance_window:
        window = record.maintenance_window
        lines.append(
            f"- Maintenance window: {window.get('started', '-')} "
            f"to {window.get('ended', 'still on')}"
            f" ({window.get('seconds', '-')} s)"
        )
    if record.halted_at:
        lines += ["", f"**Halted at:** {record.halted_at}"]
    if record.stack_state:
        lines += ["", "## Where the stack was left", ""]
        lines += [f"- {key}: {value}" for key, value in record.stack_state.items()]
    if record.next_safe_command:
        lines += ["", f"**Next safe command:** `{record.next_safe_command}`"]
    lines += ["", "## Steps", "", "| result | section | step | seconds |", "|---|---|---|---|"]
    for step in record.steps:
        lines.append(f"| {step.result} | {step.section} | {step.step} | {step.seconds} |")
    for step in record.steps:
        if not (step.commands or step.notes or step.error):
            continue
        lines += ["", f"### {step.section}: {step.step}", ""]
        lines += [f"- note: {note}" for note in step.notes]
        if step.error:
            lines.append(f"- error: {step.error}")
        for command in step.commands:
            lines.append(f"- `{' '.join(command.argv)}` -> rc {command.rc} in {command.seconds} s")
    if record.facts:
        facts = redact_data(record.facts, redactor or Redactor())
        lines += ["", "## Facts", "", "```json", json.dumps(facts, indent=2), "```"]
    return "\n".join(lines) + "\n"
