"""A pytest plugin for release_candidate.feature runs: someone rewrites the GitHub release.

Loaded with `-p tests.rehearsal.release_probe`; ATMO_TEST_REWRITE_RELEASE set: right after the
release of the tag is made, every release on the session's GitHub stand-in gets another body,
as if edited by hand on the releases page.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from fixtures.release_record import rehearsal_github

MADE = "the GitHub release of the tag is made in each app repository"


@pytest.hookimpl(trylast=True)
def pytest_bdd_after_step(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Any,
    step_func_args: Any,
) -> None:
    if os.environ.get("ATMO_TEST_REWRITE_RELEASE") and step.name == MADE:
        for release in rehearsal_github(request.config).releases.values():
            release["body"] = "Rewritten by hand: no changelog here."
