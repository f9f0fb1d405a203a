"""A pytest plugin for the end-to-end tests: exposes the stack's secrets, injects one fault.

Loaded with `-p tests.rehearsal.rehearsal_probe` into a run of features/deploy.feature:
ATMO_TEST_SECRETS_FILE  where to write the rehearsal's secret values (outside the reports)
ATMO_TEST_FAULT         `delete-row`: delete a seeded row once the new release is ready
ATMO_TEST_KILL_AFTER    a step's text: the run kills itself with SIGKILL right after it
ATMO_TEST_PAUSE_AFTER   a step's text: the run sleeps ATMO_TEST_PAUSE_S seconds after it
ATMO_TEST_STOP_AFTER    a step's text: the container ATMO_TEST_STOP_CONTAINER is stopped after it
ATMO_TEST_CUT_SSH_AFTER a step's text: the deploy host ATMO_TEST_HOST_CONTAINER refuses SSH and
                        drops its sessions right after it (the connection is cut)
ATMO_TEST_CUT_SSH_IN_RESTORE  a step's text: during it, once a restore job has started on the
                        deploy host ATMO_TEST_HOST_CONTAINER, the connection is cut as above; a
                        session on the host holds a lock on core_event meanwhile, so the
                        restore is still running then (it goes on and ends on its own)
ATMO_TEST_WRITES        JSON list of [step text, database, SQL]: a user or a task writes after it
                        (through the run's own database client: --env may name any stack)
ATMO_TEST_DOCKER_AFTER  JSON [step text, docker arguments]: that docker command runs after it
                        (a network disconnected, a process killed in a container)
ATMO_TEST_FILL_AFTER    a step's text: the file ATMO_TEST_FILL_FILE grows until its disk is full
ATMO_TEST_REWRITE_RELEASE  release_candidate.feature: once the release of the tag is made,
                        every release on the session's GitHub stand-in is rewritten by hand
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fixtures.release_record import rehearsal_github

READY_STEP = "the apps are ready within the environment's timeout"
RELEASE_MADE = "the GitHub release of the tag is made in each app repository"


CUT_SSH = "iptables -I INPUT -p tcp --dport 22 -j REJECT && pkill -f '^sshd: root'"
# Held on the host while the restore starts: its DROP of core_event waits for it.
HOLD_EVENTS = (
    "psql -X -q -d atmo_prod -c 'BEGIN; LOCK TABLE core_event IN ACCESS SHARE MODE; "
    "SELECT pg_sleep(15); COMMIT;'"
)


def cut_ssh(host: str) -> None:
    subprocess.run(["docker", "exec", host, "sh", "-c", CUT_SSH], check=True, capture_output=True)


def cut_once_a_restore_runs(host: str) -> None:
    """Hold core_event on the host, wait for a restore job's status file, then cut SSH."""
    subprocess.run(["docker", "exec", "-d", host, "su", "postgres", "-c", HOLD_EVENTS], check=True)
    deadline = time.monotonic() + 300
    find = ["find", "/root", "-maxdepth", "1", "-name", "*.restore-*.status"]
    while time.monotonic() < deadline:
        found = subprocess.run(["docker", "exec", host, *find], capture_output=True, text=True)
        if found.stdout.strip():
            cut_ssh(host)
            return
        time.sleep(0.2)


def pytest_bdd_before_step(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    if step.name == os.environ.get("ATMO_TEST_CUT_SSH_IN_RESTORE"):
        host = os.environ["ATMO_TEST_HOST_CONTAINER"]
        threading.Thread(target=cut_once_a_restore_runs, args=(host,), daemon=True).start()


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    target = os.environ.get("ATMO_TEST_SECRETS_FILE")
    if target and not Path(target).exists():
        stack = request.getfixturevalue("rehearsal_stack")
        Path(target).write_text("\n".join(stack.secret_values()) + "\n")


@pytest.hookimpl(trylast=True)
def pytest_bdd_after_step(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Any,
    step_func_args: Any,
) -> None:
    if os.environ.get("ATMO_TEST_FAULT") == "delete-row" and step.name == READY_STEP:
        stack = request.getfixturevalue("rehearsal_stack")
        stack.psql(
            "atmo_prod", "DELETE FROM core_instance WHERE id = (SELECT max(id) FROM core_instance)"
        )
    for after, database, sql in json.loads(os.environ.get("ATMO_TEST_WRITES", "[]")):
        if step.name == after:
            request.getfixturevalue("deployment").db.query(database, sql)
    after, arguments = json.loads(os.environ.get("ATMO_TEST_DOCKER_AFTER", '["", []]'))
    if step.name == after:
        subprocess.run(["docker", *arguments], check=True, capture_output=True)
    if step.name == os.environ.get("ATMO_TEST_FILL_AFTER"):
        fill(Path(os.environ["ATMO_TEST_FILL_FILE"]))
    if os.environ.get("ATMO_TEST_REWRITE_RELEASE") and step.name == RELEASE_MADE:
        for release in rehearsal_github(request.config).releases.values():
            release["body"] = "Rewritten by hand: no changelog here."
    if step.name == os.environ.get("ATMO_TEST_PAUSE_AFTER"):
        time.sleep(float(os.environ.get("ATMO_TEST_PAUSE_S", "10")))
    if step.name == os.environ.get("ATMO_TEST_STOP_AFTER"):
        subprocess.run(
            ["docker", "stop", os.environ["ATMO_TEST_STOP_CONTAINER"]],
            check=True,
            capture_output=True,
        )
    if step.name == os.environ.get("ATMO_TEST_CUT_SSH_AFTER"):
        cut_ssh(os.environ["ATMO_TEST_HOST_CONTAINER"])
    if step.name == os.environ.get("ATMO_TEST_KILL_AFTER"):
        os.kill(os.getpid(), signal.SIGKILL)


def fill(path: Path) -> None:
    """Write to `path` until the disk it is on refuses more."""
    chunk = b"\0" * 2**20
    with path.open("wb", buffering=0) as file:
        try:
            while True:
                file.write(chunk)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
