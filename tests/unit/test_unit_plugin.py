"""The suite is one pytest plugin: the project's conftest names only fixtures/plugin.py, every
hook is defined once across the fixtures and the steps, and steps take what they need from
fixtures by injection, never by importing fixtures/."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from tests.unit.test_unit_import_cycles import PACKAGES, import_graph

ROOT = Path(__file__).parents[2]


def hooks_defined(*folders: str) -> Counter[str]:
    return Counter(
        node.name
        for folder in folders
        for path in sorted((ROOT / folder).glob("*.py"))
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("pytest_")
    )


def test_the_conftest_registers_the_one_plugin_only() -> None:
    tree = ast.parse((ROOT / "conftest.py").read_text())
    plugins = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(getattr(target, "id", "") == "pytest_plugins" for target in node.targets)
    ]
    assert plugins == [["fixtures.plugin"]]


def test_each_hook_is_defined_once() -> None:
    defined = hooks_defined("fixtures", "steps")
    assert {"pytest_addoption", "pytest_runtest_setup"} <= set(defined)
    assert {hook: n for hook, n in defined.items() if n > 1} == {}


def test_steps_import_nothing_from_fixtures() -> None:
    graph = import_graph(ROOT, PACKAGES)
    steps = {name for name in graph if name.startswith("steps.")}
    assert len(steps) > 10
    assert {
        f"{step} imports {module}"
        for step in steps
        for module in graph[step]
        if module == "fixtures" or module.startswith("fixtures.")
    } == set()
