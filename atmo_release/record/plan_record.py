"""A plan: every command a run would execute that changes something, section by section, and
the checks that would follow; built from a run against a PlanTarget, so it cannot drift."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from atmo_release.record.run_record import ReleaseRecord, write_redacted
from atmo_release.redact import Redactor


def planned_commands(record: ReleaseRecord) -> list[dict[str, object]]:
    return [
        {
            "section": step.section,
            "step": step.step,
            "commands": [c.argv for c in step.commands if c.changes],
        }
        for step in record.steps
    ]


def render_plan(title: str, entries: list[dict[str, Any]]) -> str:
    """The plan's text from its masked entries; each command a line that pastes into a shell."""
    lines = [title]
    section = ""
    for entry in entries:
        if entry["section"] != section:
            section = str(entry["section"])
            lines += ["", f"## {section}"]
        step = str(entry["step"])
        if step.startswith(("Then ", "And ")) and not entry["commands"]:
            lines.append(f"  check: {step}")
            continue
        lines.append(f"  {step}")
        lines += [f"    $ {shlex.join(argv)}" for argv in entry["commands"]]
    return "\n".join(lines) + "\n"


def write_plan(record: ReleaseRecord, directory: Path, redactor: Redactor) -> str:
    """`plan.md` and `plan.json` through the record writer; the plan's text, masked."""
    title = f"Plan: {record.release} on {record.env} (nothing was changed)"
    _, md_path = write_redacted(
        directory,
        "plan",
        planned_commands(record),
        redactor,
        {"md": lambda entries: render_plan(title, entries)},
    )
    return md_path.read_text()
