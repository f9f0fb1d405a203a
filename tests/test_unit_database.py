"""Snapshot comparison: rows lost or changed are problems; schema moves are notes."""

from typing import Any

from atmo_release.database import compare_snapshots


def table(count: int, **columns: str) -> dict[str, Any]:
    return {"count": count, "columns": columns}


BEFORE = {
    "core_instance": table(3, id="h1", name="h2", status="h3"),
    "maintenance_record": table(2, id="m1", title="m2"),
}


def test_identical_snapshots() -> None:
    assert compare_snapshots(BEFORE, BEFORE) == ([], [])


def test_a_lost_row_is_a_problem() -> None:
    after = {**BEFORE, "core_instance": table(2, id="x1", name="x2", status="x3")}
    problems, notes = compare_snapshots(BEFORE, after)
    assert problems == ["table core_instance: 3 rows before, 2 after"]
    assert notes == []


def test_a_changed_value_in_a_kept_column_is_a_problem() -> None:
    after = {**BEFORE, "maintenance_record": table(2, id="m1", title="CHANGED")}
    problems, notes = compare_snapshots(BEFORE, after)
    assert problems == ["table maintenance_record: values of column title changed"]
    assert notes == []


def test_a_gone_table_is_a_problem() -> None:
    after = {"core_instance": BEFORE["core_instance"]}
    problems, _ = compare_snapshots(BEFORE, after)
    assert problems == ["table maintenance_record is gone (2 rows before)"]


def test_a_dropped_column_and_an_added_table_are_notes_not_problems() -> None:
    after = {
        "core_instance": table(3, id="h1", name="h2", is_running="r1"),
        "maintenance_record": BEFORE["maintenance_record"],
        "core_volume": table(0, id="v1"),
    }
    problems, notes = compare_snapshots(BEFORE, after)
    assert problems == []
    assert notes == [
        "core_instance.status was dropped by a migration",
        "core_instance.is_running was added",
        "table core_volume was added",
    ]


def test_rows_added_are_a_count_problem_once() -> None:
    after = {**BEFORE, "maintenance_record": table(3, id="n1", title="n2")}
    problems, _ = compare_snapshots(BEFORE, after)
    assert problems == ["table maintenance_record: 2 rows before, 3 after"]
