"""Where the maintenance window's seconds went, per step: the raw runbook's own work (its
commands that change the deployment, and its wait for the apps to answer) against this suite's
checks and guards. Users are locked out for all of it; the split says what a longer window
spent its time on, from the record alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Steps whose whole time is the runbook's own: it too polls until both apps answer.
RUNBOOK_WAITS = frozenset({"the apps are ready within the environment's timeout"})


def parse_time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


@dataclass(frozen=True)
class StepShare:
    section: str
    step: str
    seconds: float  # of the step's time, what fell inside the window
    runbook: float
    checks: float


@dataclass(frozen=True)
class WindowBudget:
    seconds: float
    steps: list[StepShare]

    @property
    def runbook(self) -> float:
        return round(sum(step.runbook for step in self.steps), 2)

    @property
    def checks(self) -> float:
        return round(sum(step.checks for step in self.steps), 2)

    @property
    def between(self) -> float:
        """The runner's own time between steps (step bookkeeping, hooks)."""
        return round(max(0.0, self.seconds - sum(step.seconds for step in self.steps)), 2)


def window_budget(data: dict[str, Any]) -> WindowBudget | None:
    """The budget of a record whose window opened and closed; None otherwise."""
    window = data.get("maintenance_window") or {}
    opened, closed = parse_time(window.get("started")), parse_time(window.get("ended"))
    if opened is None or closed is None:
        return None
    shares = []
    for step in data.get("steps") or []:
        begun = parse_time(step.get("started"))
        if begun is None:
            continue
        ended = begun + timedelta(seconds=float(step.get("seconds") or 0))
        if ended < opened or begun > closed:
            continue
        inside = max(0.0, (min(ended, closed) - max(begun, opened)).total_seconds())
        text = str(step.get("step", ""))
        changing = sum(
            float(command.get("seconds") or 0)
            for command in step.get("commands") or []
            if command.get("changes")
        )
        # Commands of one step may overlap: its share is never more than its time inside.
        runbook = inside if text.split(" ", 1)[-1] in RUNBOOK_WAITS else min(inside, changing)
        shares.append(
            StepShare(
                section=str(step.get("section", "")),
                step=text,
                seconds=round(inside, 2),
                runbook=round(runbook, 2),
                checks=round(inside - runbook, 2),
            )
        )
    return WindowBudget(round((closed - opened).total_seconds(), 2), shares)
