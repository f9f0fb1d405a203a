"""The maintenance window's budget read from a record: the runbook's own work against the
suite's checks, per step inside the window, and its rendering."""

from __future__ import annotations

from atmo_release.record.render import render_html, render_markdown
from atmo_release.record.window_budget import window_budget


def _step(step: str, started: str, seconds: float, *commands: tuple[float, bool]) -> dict:
    return {
        "section": "S",
        "step": step,
        "started": f"2026-12-01T10:00:{started}+00:00",
        "seconds": seconds,
        "result": "passed",
        "commands": [
            {"argv": ["x"], "rc": 0, "seconds": s, "changes": c, "output": ""} for s, c in commands
        ],
        "notes": [],
    }


RECORD = {
    "maintenance_window": {
        "started": "2026-12-01T10:00:10.000+00:00",
        "ended": "2026-12-01T10:00:30.000+00:00",
    },
    "steps": [
        _step("Then the dumps restore", "01.000", 8.0, (8.0, False)),  # before the window
        _step("When maintenance is started on troposphere", "09.000", 1.5, (1.5, True)),
        _step("When the containers are stopped", "12.000", 3.0, (2.5, True), (0.4, False)),
        _step("When the databases are read now that nothing writes", "15.000", 2.0, (2.0, False)),
        _step("And every table written since the proven dumps is dumped again", "17.000", 0.0),
        # overlapping commands: the share is never more than the step's time
        _step("When the new images are pulled and started", "18.000", 2.0, (1.5, True), (1, True)),
        _step("And the apps are ready within the environment's timeout", "20.000", 4.0),
        _step("When maintenance is ended on atmosphere", "28.000", 3.0, (3.0, True)),
        _step("Then no maintenance record is active", "31.000", 0.5, (0.5, False)),  # after
    ],
}


def test_each_step_inside_the_window_splits_into_the_runbooks_work_and_the_checks() -> None:
    budget = window_budget(RECORD)
    assert budget is not None and budget.seconds == 20.0
    shares = [(s.step.split(" ")[1], s.seconds, s.runbook, s.checks) for s in budget.steps]
    assert shares == [
        ("maintenance", 0.5, 0.5, 0.0),  # only its last half second is inside
        ("the", 3.0, 2.5, 0.5),
        ("the", 2.0, 0.0, 2.0),
        ("every", 0.0, 0.0, 0.0),
        ("the", 2.0, 2.0, 0.0),
        ("the", 4.0, 4.0, 0.0),  # the runbook waits for the apps too
        ("maintenance", 2.0, 2.0, 0.0),  # cut at the window's end
    ]
    assert (budget.runbook, budget.checks, budget.between) == (11.0, 2.5, 6.5)


def test_a_window_that_did_not_close_has_no_budget() -> None:
    assert window_budget({**RECORD, "maintenance_window": {"started": "x"}}) is None
    assert window_budget({"steps": RECORD["steps"]}) is None


def test_the_budget_is_in_the_markdown_and_html_records() -> None:
    line = (
        "Users were locked out 20 s: 11 s the runbook's own work, 2.5 s this suite's checks "
        "and guards, 6.5 s between steps."
    )
    md = render_markdown(RECORD)
    assert "## Maintenance window budget" in md and line in md
    assert "| S | When the containers are stopped | 3 | 2.5 | 0.5 |" in md
    html = render_html(RECORD)
    assert 'id="window-budget"' in html and line in html
    assert "Maintenance window budget" not in render_markdown({"steps": RECORD["steps"]})
