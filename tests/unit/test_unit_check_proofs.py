"""Every Then step has a fault that turns it red, and the report of them is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.check_proofs import (
    REPORT,
    ROOT,
    WRITE_COMMAND,
    current_report,
    problems,
    proofs,
    then_steps,
)


def test_every_then_step_has_a_proving_fault_and_every_marker_a_step() -> None:
    """Red until each Then step is named by a `proves` marker; the failure lists the missing."""
    found = problems(then_steps(ROOT / "features"), proofs(ROOT / "tests", ROOT))
    assert not found, f"{len(found)} problem(s):\n" + "\n".join(found)


def test_the_committed_report_is_current() -> None:
    path = ROOT / REPORT
    written = path.read_text() if path.exists() else ""
    assert written == current_report(), f"{REPORT} is not current: run `{WRITE_COMMAND}`"


def _write(root: Path, feature: str, test: str) -> None:
    (root / "features").mkdir()
    (root / "features" / "x.feature").write_text(feature)
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text(test)


FEATURE = """Feature: X
  Then not a step: a description line

  Scenario: S
    When something is done
    Then it is there
    And it is right
    When more is done
    Then it is there
"""


def test_steps_come_from_the_scenarios_only_and_markers_from_decorators_and_pytestmark(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        FEATURE,
        '"""Module fault."""\nimport pytest\n'
        'pytestmark = [pytest.mark.docker, pytest.mark.proves("it is there")]\n'
        '@pytest.mark.proves("it is right", "gone")\n'
        'def test_a():\n    """A row deleted.\n\n    More."""\n'
        "def test_b():\n    pass\n"
        "def helper():\n    pass\n",
    )
    steps = then_steps(tmp_path / "features")
    assert [(s.scenario, s.text) for s in steps] == [
        ("S", "it is there"),
        ("S", "it is right"),
        ("S", "it is there"),
    ]
    found = proofs(tmp_path / "tests", tmp_path)
    assert {(p.step, p.fault, p.node_id) for p in found} == {
        ("it is there", "A row deleted.", "tests/test_x.py::test_a"),
        ("it is right", "A row deleted.", "tests/test_x.py::test_a"),
        ("gone", "A row deleted.", "tests/test_x.py::test_a"),
        ("it is there", "Module fault.", "tests/test_x.py::test_b"),
    }
    assert problems(steps, found) == [
        'tests/test_x.py::test_a proves "gone", which no feature has; fix or drop the marker'
    ]


def test_an_unproven_step_is_named_with_its_feature_and_scenario(tmp_path: Path) -> None:
    _write(tmp_path, FEATURE, "import pytest\n")
    found = problems(then_steps(tmp_path / "features"), proofs(tmp_path / "tests", tmp_path))
    assert found[1] == (
        'x.feature / S: no test proves "it is right"; give a fault test @pytest.mark.proves '
        "with that text"
    )


def test_a_marker_without_a_literal_or_a_docstring_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, FEATURE, "import pytest\n@pytest.mark.proves(STEP)\ndef test_a():\n    pass\n")
    with pytest.raises(ValueError, match="test_x.py:2: give proves"):
        proofs(tmp_path / "tests", tmp_path)
    (tmp_path / "tests" / "test_x.py").write_text(
        'import pytest\n@pytest.mark.proves("it is right")\ndef test_a():\n    pass\n'
    )
    with pytest.raises(ValueError, match="say the fault in test_a's docstring"):
        proofs(tmp_path / "tests", tmp_path)
