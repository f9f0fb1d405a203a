"""Plugin wiring only: the collection of `.feature` files and the suite's one plugin
(fixtures/plugin.py, which registers the rest)."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

pytest_plugins = ["fixtures.plugin"]


class FeatureModule(pytest.Module):
    """A `.feature` file collected as a module whose tests are its scenarios.

    Each scenario uses the session fixture `<feature stem>_run` (e.g. `deploy_run`), so that a
    feature brings up exactly what it needs before its first step, and joins the run registered
    for what that fixture gives (fixtures.run.join_run).
    """

    def _getobj(self) -> types.ModuleType:
        from fixtures.run import join_run  # a plugin: imported once pytest has registered it

        module = types.ModuleType(f"feature_{self.path.stem}")
        module.__file__ = str(self.path)
        module.__dict__["FEATURE"] = str(self.path)
        module.__dict__["RUN_FIXTURE"] = f"{self.path.stem}_run"
        module.__dict__["join_run"] = join_run
        exec(  # noqa: S102 - the namespace is the point: scenarios() binds to its caller
            "from pytest_bdd import scenarios\n"
            "import pytest\n"
            "scenarios(FEATURE)\n"
            "@pytest.fixture(autouse=True)\n"
            "def _feature_run(request):\n"
            "    return join_run(request, request.getfixturevalue(RUN_FIXTURE))\n",
            module.__dict__,
        )
        return module


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".feature":
        return FeatureModule.from_parent(parent, path=file_path)
    return None
