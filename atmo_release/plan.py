"""A plan: every command a run would execute that changes something, section by section, and
the checks that would follow; built from a run against a PlanTarget, so it cannot drift."""

from __future__ import annotations

from pathlib import Path

from atmo_release.record import ReleaseRecord, write_redacted
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


def render_plan(record: ReleaseRecord) -> str:
    lines = [f"Plan: {record.release} on {record.env} (nothing was changed)"]
    section = ""
    for entry in planned_commands(record):
        if entry["section"] != section:
            section = str(entry["section"])
            lines += ["", f"## {section}"]
        step = str(entry["step"])
        if step.startswith(("Then ", "And ")) and not entry["commands"]:
            lines.append(f"  check: {step}")
            continue
        lines.append(f"  {step}")
        lines += [f"    $ {' '.join(argv)}" for argv in entry["commands"]]  # type: ignore[attr-defined]
    return "\n".join(lines) + "\n"


def write_plan(record: ReleaseRecord, directory: Path, redactor: Redactor) -> str:
    """`plan.md` and `plan.json` through the record writer; the plan's text, masked."""
    _, md_path = write_redacted(
        directory, "plan", planned_commands(record), render_plan(record), redactor
    )
    return md_path.read_text()
