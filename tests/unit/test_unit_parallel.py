"""The order the test command hands work out in: the features, then the rehearsal modules
measured longest first, then the other rehearsal modules by their number of tests, then the
unit tests, each module's tests kept together and in their order."""

from __future__ import annotations

from pathlib import Path

from tests.parallel import MEASURED_S, scope_of, slow_first

ROOT = Path(__file__).resolve().parents[2]


def test_the_longest_measured_modules_go_first_and_the_unit_tests_last() -> None:
    many = [f"tests/rehearsal/test_standin_apps.py::t{i}" for i in range(3)]
    collected = [
        "tests/unit/test_unit_release.py::a",
        *many,
        "tests/rehearsal/test_compose_v2.py::v2",
        "tests/rehearsal/test_stack.py::one",
        "features/deploy.feature::deploy",
        "tests/rehearsal/test_data_safety.py::loss",
    ]
    assert (
        MEASURED_S["tests/rehearsal/test_data_safety.py"]
        > MEASURED_S["tests/rehearsal/test_compose_v2.py"]
    )
    assert slow_first(collected) == [
        "features/deploy.feature::deploy",
        "tests/rehearsal/test_data_safety.py::loss",
        "tests/rehearsal/test_compose_v2.py::v2",
        *many,
        "tests/rehearsal/test_stack.py::one",
        "tests/unit/test_unit_release.py::a",
    ]


def test_a_module_and_the_features_are_each_one_unit_of_work() -> None:
    assert scope_of("features/rollback.feature::roll back") == "features"
    assert scope_of("tests/rehearsal/test_stack.py::one[x]") == "tests/rehearsal/test_stack.py"


def test_every_measured_module_exists() -> None:
    assert [module for module in MEASURED_S if not (ROOT / module).is_file()] == []
