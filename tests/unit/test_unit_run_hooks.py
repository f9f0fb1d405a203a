"""The run hooks (step records, checkpoints, halts) serve each run's features only: the
deployment's (record.json) and a pre-release feature's (`<feature>-record.json`), so that
`pytest features/` keeps each feature's steps and failures its own.

Each test runs a generated suite through `pytester`: the project's feature collection, run
plugin and pre-release plugin, a stand-in deployment with two features that share it, a
pre-release feature with its own run, and a feature with no run."""

import html
import json
from xml.sax.saxutils import escape

import pytest

from atmo_release.redact import MASK
from tests.plugin_runs import collection_and_options

pytest_plugins = ["pytester"]

# What JSON and XML escape: a mask applied after escaping would miss them.
DEPLOY_SECRET = 'db"pass\\word-1'
PREP_SECRET = 'api\\key"-2'

CONFTEST = f"""
from types import SimpleNamespace

import pytest

from atmo_release.record.run_record import ReleaseRecord
from atmo_release.redact import Redactor
from atmo_release.resources.run_state import State
from fixtures.deployment import DeployRun
from fixtures.prepare import finish_run, new_run
from fixtures.run import RUN_KEY, register, skip_after_a_halt

pytest_plugins = ["fixtures.run", "fixtures.prepare", "pair_steps"]


def pytest_runtest_setup(item):
    # as fixtures/plugin.py does, for the modules registered here
    skip_after_a_halt(item)

{collection_and_options("v37-6", "Ann", "Bob")}

class StandInDeployment:
    planning = False

    def __init__(self):
        self.record = ReleaseRecord("rehearsal", "v37-3", "Ann", "Bob", "local", "run1")
        self.target = SimpleNamespace(redactor=Redactor([{DEPLOY_SECRET!r}]))
        self.state = State()

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


@pytest.fixture(scope="session")
def prep_run(request):
    registration = new_run(request, "prep")
    registration.run.redactor.add([{PREP_SECRET!r}])
    registration.gives = SimpleNamespace(run=registration.run)
    yield registration.gives
    finish_run(request.config, registration)
"""

STEPS = (
    """
from pytest_bdd import given, parsers


@given(parsers.parse("{feature} step passes"))
def _(feature):
    pass


@given(parsers.parse("{feature} step fails"))
def _(feature):
    raise AssertionError(feature + " failed")


@given(parsers.parse("{feature} step passes but a hook breaks"))
def _(feature):
    pass


def pytest_bdd_after_step(request, feature, scenario, step, step_func, step_func_args):
    if step.name.endswith("a hook breaks"):
        raise RuntimeError("a hook broke")


@given(parsers.parse("{feature} step leaks {names}"))
def _(feature, names):
    leaked = [SECRETS[name] for name in names.split(" and ")]
    print("secrets:", *leaked)
    raise AssertionError(feature + " refused " + " and ".join(leaked))
"""
    + f"\nSECRETS = {dict(deploy=DEPLOY_SECRET, prep=PREP_SECRET)!r}\n"
)


def feature(name: str, *steps: str) -> str:
    """A scenario per step; a step "@always ..." is a scenario tagged @always."""
    scenarios = "".join(
        f"  {'@always' if step.startswith('@always ') else ''}\n"
        f"  Scenario: {name} {i}\n    Given {name} step {step.removeprefix('@always ')}\n"
        for i, step in enumerate(steps)
    )
    return f"Feature: {name}\n{scenarios}"


def run_suite(
    pytester: pytest.Pytester, *args: str, **features: tuple[str, ...]
) -> tuple[pytest.RunResult, dict[str, object]]:
    """Run the generated features in the given order; the outcome and the deployment's record."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(pair_steps=STEPS)
    for name, steps in features.items():
        pytester.makefile(".feature", **{name: feature(name, *steps)})
    pytester.syspathinsert()
    result = pytester.runpytest(*(f"{name}.feature" for name in features), *args)
    return result, read(pytester, "record")


def read(pytester: pytest.Pytester, stem: str) -> dict[str, object]:
    return json.loads((pytester.path / "reports" / f"{stem}.json").read_text())


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


def test_a_failure_outside_the_steps_halts_the_run_too(pytester: pytest.Pytester) -> None:
    result, record = run_suite(pytester, upgrade=("passes but a hook breaks", "passes"))
    result.assert_outcomes(failed=1, skipped=1)
    assert record["outcome"] == "halted"
    assert record["halted_at"] == "upgrade 0 (outside its steps): a hook broke"


def test_a_pre_release_features_failing_step_is_in_its_own_record_and_halts_only_it(
    pytester: pytest.Pytester,
) -> None:
    result, record = run_suite(
        pytester, prep=("fails", "passes"), upgrade=("passes",), notes=("passes",)
    )
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    prep = read(pytester, "prep-record")
    assert prep["feature"] == "prep" and prep["release"] == "v37-6"
    assert recorded(prep) == [("Given prep step fails", "failed")]
    assert prep["steps"][0]["error"] == "prep failed"  # type: ignore[index]
    assert prep["outcome"] == "halted"
    assert prep["halted_at"] == "prep 0 / Given prep step fails: prep failed"
    assert recorded(record) == [("Given upgrade step passes", "passed")]
    assert record["outcome"] == "passed" and record["halted_at"] == ""


def test_the_deployments_halt_stays_out_of_a_pre_release_record(
    pytester: pytest.Pytester,
) -> None:
    result, record = run_suite(
        pytester, upgrade=("fails", "passes", "@always passes"), prep=("passes", "passes")
    )
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    assert recorded(record) == [
        ("Given upgrade step fails", "failed"),
        ("Given upgrade step passes", "passed"),  # the @always scenario, after the halt
    ]
    assert record["outcome"] == "halted"
    prep = read(pytester, "prep-record")
    assert recorded(prep) == [("Given prep step passes", "passed")] * 2
    assert prep["outcome"] == "passed" and prep["halted_at"] == ""


def test_no_written_file_holds_a_secret_with_a_quote_and_a_backslash(
    pytester: pytest.Pytester,
) -> None:
    """Each run knows one secret. A step leaks its run's secret, and the pre-release step the
    deployment's too (known by then): into the record, the halt and the JUnit report."""
    result, record = run_suite(
        pytester,
        "--junitxml=reports/junit.xml",
        upgrade=("leaks deploy",),
        prep=("leaks prep and deploy",),
    )
    result.assert_outcomes(failed=2)
    assert (
        record["halted_at"]
        == f"upgrade 0 / Given upgrade step leaks deploy: upgrade refused {MASK}"
    )
    assert read(pytester, "prep-record")["halted_at"] == (
        f"prep 0 / Given prep step leaks prep and deploy: prep refused {MASK} and {MASK}"
    )
    reports = pytester.path / "reports"
    assert sorted(path.name for path in reports.iterdir()) == [
        "junit.xml", "prep-record.html", "prep-record.json", "prep-record.md",
        "record.html", "record.json", "record.md",
    ]  # fmt: skip
    for path in reports.iterdir():
        text = path.read_text()
        for secret in (DEPLOY_SECRET, PREP_SECRET):
            forms = (
                secret,
                json.dumps(secret)[1:-1],
                escape(secret, {'"': "&quot;"}),
                html.escape(secret),
            )
            for form in forms:
                assert form not in text, f"{path.name} holds {form}"
