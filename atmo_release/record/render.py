"""record.md and record.html, both rendered from the record's redacted data through one view:
the renderers never see a secret, so they never need to mask rendered (escaped) text."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from atmo_release.record.view import Item, RecordView, record_view

_TEMPLATES = Environment(
    loader=PackageLoader("atmo_release", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render_html(data: dict[str, Any], directory: Path | None = None) -> str:
    """One self-contained page: inline CSS, no script, nothing fetched; the screenshots the
    record names, found beside it in `directory`, inline as data URIs."""
    view = record_view(data)
    return _TEMPLATES.get_template("record.html.j2").render(
        view=view, images=inline_images(view, directory)
    )


def inline_images(view: RecordView, directory: Path | None) -> dict[str, str]:
    """File name -> data URI of each PNG screenshot the view names that is in `directory`."""
    images: dict[str, str] = {}
    for shot in view.journey.shots if view.journey and directory else []:
        path = Path(str(directory)) / shot.screenshot
        if Path(shot.screenshot).name == shot.screenshot and path.suffix == ".png":
            if path.is_file():
                encoded = base64.b64encode(path.read_bytes()).decode("ascii")
                images[shot.screenshot] = f"data:image/png;base64,{encoded}"
    return images


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _tree(entries: list[Item], depth: int = 0) -> list[str]:
    lines = []
    for item in entries:
        head = f"{item.key}: {item.text}" if item.key else item.text
        lines.append(f"{'  ' * depth}- {head}".rstrip())
        lines += _tree(item.children, depth + 1)
    return lines


def _code(text: str) -> str:
    """Inline code that survives a backtick inside (CommonMark's longer fence)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _budget_lines(view: RecordView) -> list[str]:
    budget = view.budget
    if budget is None:
        return []
    lines = [
        "",
        "## Maintenance window budget",
        "",
        f"Users were locked out {budget.seconds:g} s: {budget.runbook:g} s the runbook's own "
        f"work, {budget.checks:g} s this suite's checks and guards, {budget.between:g} s "
        "between steps.",
        "",
        "| section | step | in the window (s) | runbook (s) | checks (s) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {_cell(s.section)} | {_cell(s.step)} | {s.seconds:g} | {s.runbook:g} | {s.checks:g} |"
        for s in budget.steps
    ]
    return lines


def render_markdown(data: dict[str, Any]) -> str:
    view = record_view(data)
    lines = [f"# {view.title}", "", f"- Outcome: **{view.outcome}**"]
    lines += [f"- {item.key}: {item.text}" for item in view.who]
    if view.window:
        window = view.window
        lines.append(
            f"- Maintenance window: {window.started} to {window.ended} ({window.seconds} s)"
        )
    if view.halted_at:
        lines += ["", f"**Halted at:** {view.halted_at}"]
    if view.notes:
        lines += ["", *(f"- Note: {note}" for note in view.notes)]
    lines += ["", "## Timeline", "", "| section | started | seconds | result | window |"]
    lines.append("|---|---|---|---|---|")
    for section in view.sections:
        mark = (
            "opens"
            if section.opens_window
            else "closes"
            if section.closes_window
            else "inside"
            if section.in_window
            else ""
        )
        lines.append(
            f"| {_cell(section.name)} | {section.started} | {section.seconds} "
            f"| {section.result} | {mark} |"
        )
    lines += _budget_lines(view)
    lines += ["", "## Where the stack was left", ""]
    lines += _tree(view.stack_state) or ["- not recorded"]
    if view.next_safe_command:
        lines += ["", f"**Next safe command:** {_code(view.next_safe_command)}"]
    lines += ["", "## Steps", "", "| result | section | step | seconds |", "|---|---|---|---|"]
    lines += [
        f"| {s.result} | {_cell(s.section)} | {_cell(s.step)} | {s.seconds} |" for s in view.steps
    ]
    for step in view.steps:
        if not (step.commands or step.notes or step.error):
            continue
        lines += ["", f"### {step.section}: {step.step}"]
        lines += [""] if step.notes or step.error else []
        lines += [f"- note: {note}" for note in step.notes]
        if step.error:
            lines.append(f"- error: {step.error}")
        if step.commands:
            lines += ["", "```sh"] if lines[-1] else ["```sh"]
            for command in step.commands:
                done = (
                    "planned, not run"
                    if command.planned
                    else (f"rc {command.rc} in {command.seconds} s")
                )
                lines.append(f"{command.line}  # {done}")
                lines += [f"# {tail}" for tail in command.output_tail.splitlines()]
            lines.append("```")
    lines += _use_and_test(view)
    if view.facts:
        lines += ["", "## Facts", "", *_tree(view.facts)]
    return "\n".join(lines) + "\n"


def _use_and_test(view: RecordView) -> list[str]:
    """The smoke checks' results and the browser journey (its screenshots beside the file)."""
    lines = []
    if view.smoke:
        lines += ["", "## Smoke checks", ""]
        lines += ["| when | check | as | url | expected | found | seconds | result |"]
        lines.append("|---|---|---|---|---|---|---|---|")
        lines += [
            f"| {_cell(r.phase)} | {_cell(r.name)} | {r.as_} | {_cell(r.url)} "
            f"| {_cell(r.expected)} | {_cell(r.found)} | {r.seconds} | {r.result} |"
            for r in view.smoke
        ]
    if view.journey:
        lines += ["", "## In a browser", ""]
        if not view.journey.ran:
            lines.append(f"- {view.journey.why}")
        for shot in view.journey.shots:
            lines.append(f"- {shot.who}: {shot.url}: {shot.shows}")
            lines.append(f"  ![{shot.who}]({shot.screenshot})")
    return lines
