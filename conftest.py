"""Plugin wiring only: options, collection of `.feature` files, and the run's plugins."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

pytest_plugins = [
    "fixtures.options",
    "fixtures.run",
    "fixtures.deployment",
    "steps.preflight",
    "steps.dump_the_databases",
    "steps.start_maintenance",
    "steps.check_out_the_secrets",
    "steps.stop_the_containers",
    "steps.update_the_deploy_checkout",
    "steps.start_the_new_images",
    "steps.use_and_test",
    "steps.end_maintenance",
    "steps.roll_back",
    "fixtures.prepare",
    "fixtures.release_candidate",
    "steps.prepare",
    "steps.release_candidate",
    "fixtures.prepare_atmobeta",
    "steps.prepare_atmobeta",
    "steps.tag_release",
    "fixtures.first_deploy",
    "steps.first_deploy",
    "tests.parallel",
]


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
