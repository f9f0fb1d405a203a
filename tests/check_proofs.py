"""Which fault proves each Then step: a check nobody has seen failing could pass forever.

Every Then step of every feature (a `Then` line and the `And`/`But` lines after it) must be
named, with its exact text, by a `@pytest.mark.proves(...)` marker on a test whose fault turns
it red. The markers are read statically (decorators and module-level `pytestmark`), so this
runs in a blink without collecting anything. `python -m tests.check_proofs --write` writes the
report table `docs/check-proofs.md`.
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

from pytest_bdd.parser import FeatureParser

ROOT = Path(__file__).resolve().parents[1]
REPORT = Path("docs/check-proofs.md")
WRITE_COMMAND = "python -m tests.check_proofs --write"


@dataclass(frozen=True)
class ThenStep:
    feature: str
    scenario: str
    text: str


@dataclass(frozen=True)
class Proof:
    step: str
    fault: str
    node_id: str


def then_steps(features_dir: Path) -> list[ThenStep]:
    """Every Then step, in file order, parsed by pytest-bdd itself (the text it matches)."""
    found: list[ThenStep] = []
    for path in sorted(features_dir.glob("*.feature")):
        feature = FeatureParser(str(features_dir), path.name).parse()
        for scenario in feature.scenarios.values():
            found += [
                ThenStep(path.name, scenario.name, step.name)
                for step in scenario.steps
                if step.type == "then"
            ]
    return found


def _is_proves(node: ast.expr) -> TypeGuard[ast.Call]:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "proves"
    )


def _marker_steps(call: ast.Call, relative: str) -> list[str]:
    steps = []
    for arg in call.args:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise ValueError(
                f"{relative}:{call.lineno}: give proves() the step texts as string literals"
            )
        steps.append(arg.value)
    return steps


def _module_markers(tree: ast.Module) -> list[ast.Call]:
    calls: list[ast.Call] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            values = (
                node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            )
            calls += [v for v in values if _is_proves(v)]
    return calls


@functools.cache
def _parsed(source: str, filename: str) -> ast.Module:
    """A test module's tree, parsed once per source (the unit tests read the same tests twice)."""
    return ast.parse(source, filename=filename)


def proofs(tests_dir: Path, root: Path) -> list[Proof]:
    """Every (step, fault, test) named by a `proves` marker under `tests_dir`."""
    found: list[Proof] = []
    for path in sorted(tests_dir.rglob("*.py")):
        tree = _parsed(path.read_text(), str(path))
        relative = path.relative_to(root).as_posix()
        module_calls = _module_markers(tree)
        module_doc = ast.get_docstring(tree) or ""
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
                continue
            calls = module_calls + [d for d in node.decorator_list if _is_proves(d)]
            if not calls:
                continue
            steps = [step for call in calls for step in _marker_steps(call, relative)]
            fault = " ".join((ast.get_docstring(node) or module_doc).split("\n\n")[0].split())
            if not fault:
                raise ValueError(
                    f"{relative}:{node.lineno}: say the fault in {node.name}'s docstring"
                )
            found += [Proof(step, fault, f"{relative}::{node.name}") for step in steps]
    return found


def problems(steps: list[ThenStep], found: list[Proof]) -> list[str]:
    """Unproven steps and markers naming a step that no feature has, one sentence each."""
    proven = {proof.step for proof in found}
    texts = {step.text for step in steps}
    unproven = [
        f'{step.feature} / {step.scenario}: no test proves "{step.text}"; give a fault test '
        f"@pytest.mark.proves with that text"
        for step in steps
        if step.text not in proven
    ]
    stale = [
        f'{proof.node_id} proves "{proof.step}", which no feature has; fix or drop the marker'
        for proof in found
        if proof.step not in texts
    ]
    return unproven + stale


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def report(steps: list[ThenStep], found: list[Proof]) -> str:
    """The Markdown table: one row per step and proving test."""
    proven = sum(1 for step in steps if any(p.step == step.text for p in found))
    lines = [
        "# Every check proven",
        "",
        f"Generated by `{WRITE_COMMAND}`; `tests/unit/test_unit_check_proofs.py` fails when",
        "it is not current. Each Then step, the fault that turns it red, the test injecting it.",
        "",
        f"**{proven} of {len(steps)} Then steps have a proving fault.**",
        "",
        "| Feature | Scenario | Step | Fault that proves it | Test |",
        "|---|---|---|---|---|",
    ]
    for step in steps:
        by = [p for p in found if p.step == step.text] or [Proof(step.text, "**none yet**", "")]
        for proof in by:
            test = f"`{proof.node_id}`" if proof.node_id else ""
            cells = (step.feature, step.scenario, step.text, proof.fault, test)
            lines.append("| " + " | ".join(_cell(c) if c else "" for c in cells) + " |")
    return "\n".join(lines) + "\n"


def current_report(root: Path = ROOT) -> str:
    return report(then_steps(root / "features"), proofs(root / "tests", root))


def main(argv: list[str]) -> int:
    if argv not in ([], ["--write"]):
        print(f"usage: {WRITE_COMMAND} (or without --write to list what is unproven)")
        return 2
    steps, found = then_steps(ROOT / "features"), proofs(ROOT / "tests", ROOT)
    if argv:
        (ROOT / REPORT).parent.mkdir(exist_ok=True)
        (ROOT / REPORT).write_text(report(steps, found))
    unproven = problems(steps, found)
    print("\n".join(unproven) or f"all {len(steps)} Then steps are proven")
    return 1 if unproven else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
