"""How the test command spreads over pytest-xdist workers (`-n N`): by module, the features
together, the slow modules first.

A module's tests share its stack (module-scoped fixtures), so a module stays on one worker. The
in-process feature runs share one session's rehearsal stack and release record (rollback.feature
rolls back what deploy.feature deployed), so they stay together too. Work is handed out in
collection order, so the modules that bring up stacks are put first and the unit tests, which
take seconds, fill the gaps at the end.
"""

from __future__ import annotations

import os

import pytest

FEATURES = "features/"
SLOW = ("features/", "tests/rehearsal/")


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to: all features, else its module."""
    return "features" if nodeid.startswith(FEATURES) else nodeid.split("::", 1)[0]


def slow_first(nodeids: list[str]) -> list[str]:
    """Stable: features, then rehearsal modules by their number of tests (most first), then
    the rest as collected."""
    sizes: dict[str, int] = {}
    for nodeid in nodeids:
        sizes[scope_of(nodeid)] = sizes.get(scope_of(nodeid), 0) + 1

    def key(nodeid: str) -> tuple[int, int]:
        scope = scope_of(nodeid)
        if scope == "features":
            return (0, 0)
        if nodeid.startswith(SLOW):
            return (1, -sizes[scope])
        return (2, 0)

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
