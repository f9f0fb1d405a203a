"""The deployment run's hooks (step records, checkpoints, halts) serve only the features that run
against the deployment, so `pytest features/` keeps each feature's steps and failures its own.

Each test runs a generated suite through `pytester`: the project's feature collection and run
plugin, a stand-in deployment, and two features that share it beside one that does not."""

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = f"""
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from atmo_release.record import ReleaseRecord
from atmo_release.redact import Redactor
from fixtures.deployment import DeployRun
from fixtures.run import RUN_KEY, register

pytest_plugins = ["fixtures.run", "pair_steps"]

_spec = importlib.util.spec_from_file_location("atmo_root_conftest", {str(ROOT / "conftest.py")!r})
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
pytest_collect_file = _root.pytest_collect_file


class StandInDeployment:
    planning = False

    def __init__(self):
        self.record = ReleaseRecord("rehearsal", "v37-3", "Ann", "Bob", "local", "run1")
        self.target = SimpleNamespace(redactor=Redactor())

    def next_safe_command(self):
        return "nothing to undo"

    def stack_state(self):
        return {{}}


@pytest.fixture(scope="session")
def deployment(request):
    deployment = StandInDeployment()
    run = DeployRun(deployment, request.config.rootpath / "reports", print)
    registration = request.config.stash[RUN_KEY] = register(request.config, run, deployment)
    yield deployment
    registration.finish()


@pytest.fixture(scope="session")
def upgrade_run(deployment):
    return deployment


@pytest.fixture(scope="session")
def undo_run(deployment):
    return deployment


@pytest.fixture(scope="session")
def notes_run():
    return SimpleNamespace()
"""

STEPS = """
from pytest_bdd import given, parsers


@given(parsers.parse("{feature} step passes"))
def _(feature):
    pass


@given(parsers.parse("{feature} step fails"))
def _(feature):
    raise AssertionError(feature + " failed")
"""


def feature(name: str, *steps: str) -> str:
    scenarios = "".join(
        f"  Scenario: {name} {i}\n    Given {name} step {step}\n" for i, step in enumerate(steps)
    )
    return f"Feature: {name}\n{scenarios}"


def run_suite(
    pytester: pytest.Pytester, **features: tuple[str, ...]
) -> tuple[pytest.RunResult, dict[str, object]]:
    """Run the generated features in the given order; the outcome and the deployment's record."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(pair_steps=STEPS)
    for name, steps in features.items():
        pytester.makefile(".feature", **{name: feature(name, *steps)})
    pytester.syspathinsert()
    result = pytester.runpytest(*(f"{name}.feature" for name in features))
    return result, json.loads((pytester.path / "reports" / "record.json").read_text())


def recorded(record: dict[str, object]) -> list[tuple[str, str]]:
    return [(step["step"], step["result"]) for step in record["steps"]]  # type: ignore[index]


def test_another_feature_neither_writes_into_the_record_nor_halts_it(
    pytester: pytest.Pytester,
) -> None:
    result, record = run_suite(
        pytester, upgrade=("passes",), notes=("fails", "passes"), undo=("passes",)
    )
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    assert recorded(record) == [
        ("Given upgrade step passes", "passed"),
        ("Given undo step passes", "passed"),
    ]
    assert record["outcome"] == "passed" and record["halted_at"] == ""


def test_a_feature_of_the_deployment_halts_its_run_and_only_its_own_scenarios(
    pytester: pytest.Pytester,
) -> None:
    result, record = run_suite(pytester, upgrade=("fails", "passes"), notes=("passes",))
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert recorded(record) == [("Given upgrade step fails", "failed")]
    assert record["outcome"] == "halted"
    assert record["halted_at"] == "upgrade 0 / Given upgrade step fails: upgrade failed"
