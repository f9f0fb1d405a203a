"""The runbook's order is written once, in features/deploy.feature: the plain-call sequence
(deploy_steps, for the bench and the rehearsals of a rollback) and the resume table follow it
line for line, and fail here when they drift."""

from __future__ import annotations

import re
from pathlib import Path

from atmo_release.release_day.deploy_steps import deploy_steps
from atmo_release.release_day.deployment import Deployment
from fixtures.deployment import RESUMABLE

FEATURE = Path(__file__).resolve().parents[2] / "features" / "deploy.feature"
_STEP = re.compile(r"^\s*(?:Given|When|Then|And|But) (.+?)\s*$")
_SCENARIO = re.compile(r"^\s*Scenario: (.+?)\s*$")


def feature_lines(text: str) -> list[tuple[str, str]]:
    """(scenario, step) of every step of the scenarios that always run in order (a scenario
    tagged @always runs only after a halt)."""
    lines: list[tuple[str, str]] = []
    scenario, tagged_always, skip = "", False, False
    for line in text.splitlines():
        if line.strip() == "@always":
            tagged_always = True
        elif found := _SCENARIO.match(line):
            scenario, skip, tagged_always = found.group(1), tagged_always, False
        elif (found := _STEP.match(line)) and scenario and not skip:
            lines.append((scenario, found.group(1)))
    return lines


def test_the_feature_parser_reads_scenarios_steps_and_leaves_out_the_rollback() -> None:
    text = (
        "Feature: f\n  Scenario: One\n    When a\n    And b\n"
        "  @always\n  Scenario: Roll back\n    When c\n  Scenario: Two\n    Then d\n"
    )
    assert feature_lines(text) == [("One", "a"), ("One", "b"), ("Two", "d")]


def test_the_plain_calls_are_deploy_feature_line_for_line(deployment: Deployment) -> None:
    planned = [(scenario, step) for scenario, step, _ in deploy_steps(deployment)]
    assert planned == feature_lines(FEATURE.read_text())


def test_the_resume_table_names_the_feature_s_scenarios_in_its_order() -> None:
    scenarios = list(dict.fromkeys(scenario for scenario, _ in feature_lines(FEATURE.read_text())))
    # Preflight always runs again; End maintenance is where a run past Use and test resumes.
    assert [name for name, _ in RESUMABLE] == scenarios[1:-1]
