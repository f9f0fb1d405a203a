"""A pytest plugin that sees each check fail under its own fault inside one feature run.

Loaded with `-p tests.rehearsal.prove_probe` and ATMO_TEST_PROOFS_FILE set: before each Then
step that has a fault in FAULTS, the fault is injected, the step's own function runs, what it
raised is written into that file (JSON, step -> message), and the fault is undone; then the step
runs as usual and must pass. One run proves every check of its feature.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.rehearsal import (
    first_deploy_faults,
    prepare_faults,
    release_candidate_faults,
    rollback_faults,
)

HELD = "the check held under its fault"
FAULTS: dict[str, Callable[..., AbstractContextManager[object]]] = {
    **first_deploy_faults.FAULTS,
    **prepare_faults.FAULTS,
    **release_candidate_faults.FAULTS,
    **rollback_faults.FAULTS,
}


@pytest.hookimpl(trylast=True)
def pytest_bdd_before_step_call(
    step: Any, step_func: Callable[..., object], step_func_args: dict[str, Any], **_: Any
) -> None:
    proofs_file = os.environ.get("ATMO_TEST_PROOFS_FILE")
    if not proofs_file or step.name not in FAULTS:
        return
    try:
        with FAULTS[step.name](**step_func_args):
            step_func(**step_func_args)
        message = HELD
    except Exception as failed:  # the step's own failure: CheckFailed, an assert, CandidateError
        message = f"{type(failed).__name__}: {failed}"
    path = Path(proofs_file)
    found = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**found, step.name: message}))


def assert_proofs(proofs_file: Path, expected: dict[str, str]) -> None:
    """Each step's check failed under its fault with a message matching the step's pattern."""
    found = json.loads(proofs_file.read_text())
    for step, pattern in expected.items():
        assert re.search(pattern, found.get(step, "")), (step, found.get(step))
