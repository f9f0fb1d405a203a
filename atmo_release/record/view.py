"""What the crew chief reads, built from the record's redacted data (record.json's shape):
record.md and record.html render this one view, so neither shows a Python repr nor a command
that cannot be pasted, and neither ever sees a secret the data did not already mask."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from atmo_release.record.window_budget import WindowBudget, parse_time, window_budget


@dataclass(frozen=True)
class Item:
    """One line of a nested value: `key: text`, or `key:` over its children."""

    key: str
    text: str = ""
    children: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class Command:
    line: str
    rc: int
    seconds: float
    output_tail: str
    planned: bool


@dataclass(frozen=True)
class Step:
    section: str
    step: str
    result: str
    seconds: float
    error: str
    notes: list[str]
    commands: list[Command]


@dataclass(frozen=True)
class Section:
    """A scenario of the run on the timeline; `left`/`width` are percent of the run's span."""

    name: str
    result: str
    started: str
    seconds: float
    in_window: bool
    opens_window: bool
    closes_window: bool
    left: float
    width: float


@dataclass(frozen=True)
class Window:
    started: str
    ended: str
    seconds: str
    left: float
    width: float


@dataclass(frozen=True)
class SmokeResult:
    """One smoke check as it ran (facts.smoke_checks), in the phase it ran in."""

    phase: str
    name: str
    as_: str
    url: str
    expected: str
    found: str
    seconds: str
    result: str


@dataclass(frozen=True)
class Shot:
    """What one user of the browser journey met; `screenshot` is a file beside the record."""

    who: str
    url: str
    shows: str
    screenshot: str


@dataclass(frozen=True)
class Journey:
    ran: bool
    why: str
    shots: list[Shot]


@dataclass(frozen=True)
class RecordView:
    title: str
    outcome: str
    who: list[Item]
    halted_at: str
    notes: list[str]
    window: Window | None
    sections: list[Section]
    steps: list[Step]
    stack_state: list[Item]
    next_safe_command: str
    facts: list[Item]
    smoke: list[SmokeResult] = field(default_factory=list)
    journey: Journey | None = None
    budget: WindowBudget | None = None

    @property
    def commands(self) -> list[tuple[Step, Command]]:
        return [(step, command) for step in self.steps for command in step.commands]


def scalar(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def items(value: Any) -> list[Item]:
    """A JSON value as nested lines; a list of plain values reads as one comma-separated line."""
    if isinstance(value, dict):
        return [_item(str(key), inner) for key, inner in value.items()]
    if isinstance(value, list):
        return [_item(f"#{number}", inner) for number, inner in enumerate(value, 1)]
    return [Item("", scalar(value))]


def _item(key: str, value: Any) -> Item:
    if isinstance(value, list) and not any(isinstance(v, dict | list) for v in value):
        return Item(key, ", ".join(scalar(v) for v in value) or "none")
    if isinstance(value, dict | list):
        return Item(key, "" if value else "none", items(value))
    return Item(key, scalar(value))


def _steps(data: dict[str, Any]) -> list[Step]:
    return [
        Step(
            section=str(step.get("section", "")),
            step=str(step.get("step", "")),
            result=str(step.get("result", "")),
            seconds=float(step.get("seconds") or 0),
            error=str(step.get("error") or ""),
            notes=[str(note) for note in step.get("notes", [])],
            commands=[
                Command(
                    line=shlex.join(str(arg) for arg in command.get("argv", [])),
                    rc=int(command.get("rc", 0)),
                    seconds=float(command.get("seconds") or 0),
                    output_tail=str(command.get("output_tail") or ""),
                    planned=bool(command.get("planned")),
                )
                for command in step.get("commands", [])
            ],
        )
        for step in data.get("steps", [])
    ]


@dataclass
class _Span:
    """The run's span on the timeline, to place sections and the window in percent."""

    start: datetime | None
    seconds: float

    def place(self, begin: datetime | None, seconds: float) -> tuple[float, float]:
        if self.start is None or begin is None or self.seconds <= 0:
            return 0.0, 0.0
        left = min(max((begin - self.start).total_seconds() / self.seconds, 0.0), 1.0)
        width = min(max(seconds / self.seconds, 0.005), 1.0 - left)
        return round(left * 100, 2), round(width * 100, 2)


@dataclass
class _Raw:
    """A section's first start and last end (second-precision times, for the bar), the
    measured seconds of its steps (the duration shown) and their results."""

    begin: datetime | None
    end: datetime | None
    seconds: float
    results: list[str]


def _raw_sections(data: dict[str, Any]) -> dict[str, _Raw]:
    """Each section's first start, last end and step results, in the order they ran."""
    raw: dict[str, _Raw] = {}
    for step in data.get("steps", []):
        begin = parse_time(step.get("started"))
        end = begin + timedelta(seconds=float(step.get("seconds") or 0)) if begin else None
        entry = raw.setdefault(str(step.get("section", "")), _Raw(begin, end, 0.0, []))
        if end is not None and (entry.end is None or end > entry.end):
            entry.end = end
        entry.seconds += float(step.get("seconds") or 0)
        entry.results.append(str(step.get("result", "")))
    return raw


def _window_sections(raw: dict[str, _Raw], window: dict[str, Any]) -> tuple[str, str, set[str]]:
    """The sections the window opened and closed in (as recorded, else the last begun by then:
    second-precision times cannot say more), and every section from the one to the other."""
    names = list(raw)
    opened, closed = parse_time(window.get("started")), parse_time(window.get("ended"))
    first = window.get("opened_in") or (_last_begun(raw, opened) if opened else "")
    last = window.get("closed_in") or (_last_begun(raw, closed) if closed else "")
    if first not in names:
        return "", "", set()
    end = names.index(last) + 1 if last in names else len(names)
    return first, last if last in names else "", set(names[names.index(first) : end])


def _last_begun(raw: dict[str, _Raw], moment: datetime) -> str:
    begun = [name for name, e in raw.items() if e.begin is not None and e.begin <= moment]
    return begun[-1] if begun else ""


def _sections(data: dict[str, Any], window: dict[str, Any]) -> tuple[list[Section], Window | None]:
    raw = _raw_sections(data)
    start = parse_time(data.get("started"))
    ends = [e.end for e in raw.values() if e.end is not None]
    finish = max([*ends, *filter(None, [parse_time(data.get("finished"))])], default=start)
    span = _Span(start, (finish - start).total_seconds() if start and finish else 0.0)
    first, last, inside = _window_sections(raw, window)
    sections = []
    for name, entry in raw.items():
        spanned = (entry.end - entry.begin).total_seconds() if entry.begin and entry.end else 0.0
        left, width = span.place(entry.begin, spanned)
        sections.append(
            Section(
                name=name,
                result=_section_result(entry.results),
                started=entry.begin.isoformat(timespec="seconds") if entry.begin else "-",
                seconds=round(entry.seconds, 1),
                in_window=name in inside,
                opens_window=name == first,
                closes_window=name == last,
                left=left,
                width=width,
            )
        )
    opened = parse_time(window.get("started"))
    if opened is None:
        return sections, None
    until = parse_time(window.get("ended")) or finish or opened
    left, width = span.place(opened, (until - opened).total_seconds())
    shown = Window(
        started=str(window["started"]),
        ended=str(window.get("ended") or "still on when the run ended"),
        seconds=scalar(window.get("seconds", "-")),
        left=left,
        width=width,
    )
    return sections, shown


def _section_result(results: list[str]) -> str:
    for worst in ("failed", "running", "skipped"):
        if worst in results:
            return worst
    return "passed" if results else "-"


def _smoke(facts: dict[str, Any]) -> list[SmokeResult]:
    return [
        SmokeResult(
            phase=str(phase),
            name=str(result.get("name", "")),
            as_=str(result.get("as", "")),
            url=str(result.get("url", "")),
            expected=str(result.get("expected", "")),
            found=str(result.get("found", "")),
            seconds=scalar(result.get("seconds")),
            result=str(result.get("result", "")),
        )
        for phase, results in (facts.get("smoke_checks") or {}).items()
        for result in results or []
    ]


def _journey(facts: dict[str, Any]) -> Journey | None:
    journey = facts.get("browser_journey")
    if not isinstance(journey, dict):
        return None
    shots = [
        Shot(who, str(seen.get("url", "")), str(seen.get("shows", "")), str(seen["screenshot"]))
        for who, seen in journey.items()
        if isinstance(seen, dict) and seen.get("screenshot")
    ]
    return Journey(bool(journey.get("ran")), str(journey.get("why") or ""), shots)


def _compose(facts: dict[str, Any]) -> str:
    """The Compose flavour and version that ran the deployment, as read at its start."""
    compose = facts.get("compose")
    if not isinstance(compose, dict):
        return "unknown (its `version` did not answer)"
    return f"{compose.get('flavour')} {compose.get('version')} ({compose.get('command')})"


def record_view(data: dict[str, Any]) -> RecordView:
    """The view of redacted record data; `feature` (a pre-release record's head key) is shown."""
    title = f"Release record: {data.get('release', '-')} on {data.get('env', '-')}"
    if data.get("feature"):
        title += f" ({data['feature']})"
    head = {
        "crew chief": data.get("crew_chief"),
        "driver": data.get("driver"),
        "environment": data.get("env"),
        "release": data.get("release"),
        "previous release": data.get("previous_release") or "unknown",
        "target": data.get("target"),
        "run": data.get("run_id"),
        "started": data.get("started"),
        "finished": data.get("finished") or "-",
    }
    if not data.get("feature"):
        head["compose"] = _compose(data.get("facts") or {})
    who = items(head)
    sections, window = _sections(data, data.get("maintenance_window") or {})
    return RecordView(
        title=title,
        outcome=str(data.get("outcome", "-")),
        who=who,
        halted_at=str(data.get("halted_at") or ""),
        notes=[str(note) for note in data.get("notes", [])],
        window=window,
        sections=sections,
        steps=_steps(data),
        stack_state=items(data.get("stack_state") or {}),
        next_safe_command=str(data.get("next_safe_command") or ""),
        facts=items(data.get("facts") or {}),
        smoke=_smoke(data.get("facts") or {}),
        journey=_journey(data.get("facts") or {}),
        budget=window_budget(data),
    )
