"""A stand-in deployment run through the project's run plugin with pytester: four sections
like deploy.feature's (preflight, start maintenance, start the new images, end maintenance),
a command holding a secret, and the maintenance window opened and closed by its steps. It
passes (its @always rollback skips itself), or halts at "Start the new images" with the window
still open and rolls back.

With the environment variable NOTIFY_VARIABLE naming the variable that holds a webhook URL,
the run's registration gets the notifier of that [notify] table, as fixtures.deployment does.
Used by the notify tests and the headless browser test of record.html."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What HTML, JSON and a shell quote: a mask applied after escaping would miss it.
SECRET = "db\"pass'<&>\\word-7"


def collection_and_options(release: str, crew_chief: str, driver: str) -> str:
    """A generated conftest's part that collects `.feature` files as the project does and sets
    the run's options (rehearsal, reports in `<rootdir>/reports`)."""
    return f"""
import importlib.util

from atmo_release.release import Release
from fixtures.options import OPTIONS_KEY, RunOptions

_spec = importlib.util.spec_from_file_location("atmo_root_conftest", {str(ROOT / "conftest.py")!r})
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
pytest_collect_file = _root.pytest_collect_file


def pytest_configure(config):
    reports = config.rootpath / "reports"
    release = Release.parse({release!r})
    options = RunOptions("rehearsal", release, {crew_chief!r}, {driver!r}, reports, None, {{}})
    config.stash[OPTIONS_KEY] = options
"""


CONFTEST = f"""
import os
from types import SimpleNamespace

import pytest

from atmo_release.record.notify import notifier_for
from atmo_release.record.run_record import ReleaseRecord
from atmo_release.redact import Redactor
from atmo_release.resources.run_state import State
from fixtures.deployment import DeployRun
from fixtures.run import RUN_KEY, register, skip_after_a_halt, say

pytest_plugins = ["fixtures.run", "standin_steps"]


def pytest_runtest_setup(item):
    # as fixtures/plugin.py does, for the modules registered here
    skip_after_a_halt(item)

{collection_and_options("v37-3", "Lin", "Ada")}

class StandInDeployment:
    planning = False

    def __init__(self):
        self.record = ReleaseRecord("rehearsal", "v37-3", "Lin", "Ada", "local", "run7")
        self.record.previous_release = "v37-2"
        self.target = SimpleNamespace(redactor=Redactor([{SECRET!r}]))
        self.state = State()
        self.maintenance_on = False

    def next_safe_command(self):
        if not self.maintenance_on:
            return "none needed"
        return "docker-compose -f docker-compose.prod.yml logs; then roll back as the record says"

    def stack_state(self):
        return {{
            "maintenance on": {{"atmosphere": self.maintenance_on}},
            "backups": ["old_atmosphere"],
        }}


@pytest.fixture(scope="session")
def deployment(request):
    deployment = StandInDeployment()
    run = DeployRun(deployment, request.config.rootpath / "reports", print)
    registration = request.config.stash[RUN_KEY] = register(request.config, run, deployment)
    variable = os.environ.get("NOTIFY_VARIABLE")
    if variable:
        table = {{"webhook_url_env": variable, "timeout_s": float(os.environ["NOTIFY_TIMEOUT"])}}
        registration.notifier = notifier_for(
            table, deployment.record, deployment.target.redactor,
            lambda line: say(request.config, line),
            deployment.next_safe_command,
        )
    yield deployment
    registration.finish()


@pytest.fixture(scope="session")
def standin_run(deployment):
    return deployment
"""


def steps(pause_s: float) -> str:
    """The steps' module; each of the first three steps lasts `pause_s` seconds."""
    return f"""
import time

import pytest
from pytest_bdd import given, then, when

from atmo_release.target import Result
from fixtures.run import RUN_KEY

SECRET = {SECRET!r}


def ran(deployment, *argv, rc=0, stderr=""):
    result = Result(argv, rc, "", stderr, 0.25)
    deployment.record.on_command(result, deployment.target.redactor)


@given("the deploy host is ready")
def _(deployment):
    ran(deployment, "psql", f"postgresql://atmo:{{SECRET}}@db/atmo_prod", "-c", "SELECT 1")
    time.sleep({pause_s!r})


@when("maintenance starts")
def _(deployment):
    ran(deployment, "docker-compose", "exec", "atmosphere", "manage.py", "maintenance", "start")
    deployment.maintenance_on = True
    deployment.record.open_window()
    time.sleep({pause_s!r})


@when("the new images start")
def _(deployment):
    ran(deployment, "docker-compose", "-f", "docker compose.prod.yml", "up", "-d")
    time.sleep({pause_s!r})


@then("the new release answers")
def _(deployment):
    pass


@then("the new release answers 500")
def _(deployment):
    ran(deployment, "curl", "-f", "http://127.0.0.1/api/v2/version", rc=22, stderr="error: 500")
    raise AssertionError(f"/api/v2/version answered 500 <html> (password {{SECRET}})")


@when("the release is rolled back if the run halted")
def _(deployment, request):
    if not request.config.stash[RUN_KEY].halt:
        pytest.skip("no rollback needed: the run did not halt")
    ran(deployment, "docker-compose", "up", "-d")


@when("maintenance ends")
def _(deployment):
    ran(deployment, "docker-compose", "exec", "atmosphere", "manage.py", "maintenance", "stop")
    deployment.maintenance_on = False
    deployment.record.close_window()
"""


def feature(halting: bool) -> str:
    answers = "the new release answers 500" if halting else "the new release answers"
    return (
        "Feature: Stand-in deployment\n"
        "  Scenario: Preflight\n    Given the deploy host is ready\n"
        "  Scenario: Start maintenance\n    When maintenance starts\n"
        f"  Scenario: Start the new images\n    When the new images start\n    Then {answers}\n"
        "  Scenario: End maintenance\n    When maintenance ends\n"
        "  @always\n  Scenario: Roll back\n    When the release is rolled back if the run halted\n"
    )


# What pytest reports of each run.
OUTCOMES = {False: {"passed": 4, "skipped": 1}, True: {"passed": 3, "failed": 1, "skipped": 1}}


def run_deployment(
    pytester: pytest.Pytester, halting: bool, pause_s: float = 0.3
) -> tuple[pytest.RunResult, Path]:
    """The run's outcome and its reports folder. The steps last `pause_s` each, so that the
    record's timeline and maintenance window have a width to show; a test that reads neither
    can pass 0."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(standin_steps=steps(pause_s))
    pytester.makefile(".feature", standin=feature(halting))
    pytester.syspathinsert()
    result = pytester.runpytest("standin.feature")
    return result, pytester.path / "reports"


def record(reports: Path) -> dict[str, Any]:
    return json.loads((reports / "record.json").read_text())
