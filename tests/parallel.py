"""How the test command spreads over pytest-xdist workers (`-n N`): by module, the features
together, the slow modules first.

A module's tests share its stack (module-scoped fixtures), so a module stays on one worker. The
in-process feature runs share one session's rehearsal stack and release record (rollback.feature
rolls back what deploy.feature deployed), so they stay together too. Work is handed out in
collection order, so the modules that bring up stacks are put first, the longest first, and the
unit tests, which take seconds, fill the gaps at the end.
"""

from __future__ import annotations

import os

import pytest

FEATURES = "features/"
SLOW = ("features/", "tests/rehearsal/")
# Seconds of each module's slowest tests in the test command's runs in .ci/run on 2026-12-07
# (its other tests took under 76 s each, so a lower bound): the longest are handed out first,
# so that none is left running alone at the end; the others follow by their number of tests.
MEASURED_S = {
    "tests/rehearsal/test_data_safety.py": 531,
    "tests/rehearsal/test_release_safety.py": 436,
    "tests/rehearsal/test_ssh_release_day.py": 411,
    "tests/rehearsal/test_deploy_feature.py": 355,
    "tests/rehearsal/test_release_record.py": 295,
    "tests/rehearsal/test_exact_rows.py": 264,
    "tests/rehearsal/test_compose_v2.py": 253,
    "tests/rehearsal/test_rollback_by_hand.py": 204,
    "tests/rehearsal/test_window_faults.py": 202,
    "tests/rehearsal/test_first_deploy.py": 198,
    "tests/rehearsal/test_live_edges.py": 100,
    "tests/rehearsal/test_deploy_host.py": 96,
}


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to: all features, else its module."""
    return "features" if nodeid.startswith(FEATURES) else nodeid.split("::", 1)[0]


def slow_first(nodeids: list[str]) -> list[str]:
    """Stable: features, then rehearsal modules by their measured seconds, then by their number
    of tests (most first), then the rest as collected."""
    sizes: dict[str, int] = {}
    for nodeid in nodeids:
        sizes[scope_of(nodeid)] = sizes.get(scope_of(nodeid), 0) + 1

    def key(nodeid: str) -> tuple[int, int, int]:
        scope = scope_of(nodeid)
        if scope == "features":
            return (0, 0, 0)
        if nodeid.startswith(SLOW):
            return (1, -MEASURED_S.get(scope, 0), -sizes[scope])
        return (2, 0, 0)

    return sorted(nodeids, key=key)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist only: every worker sorts alike, so their collections stay identical."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    order = {nodeid: i for i, nodeid in enumerate(slow_first([item.nodeid for item in items]))}
    items.sort(key=lambda item: order[item.nodeid])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    config.option.loadscopereorder = False
    return ModuleScheduling(config, log)
