"""Row checks on fingerprints: a migration explains a change, a loss is a problem."""

from typing import Any

from atmo_release.row_checks import (
    changed_tables,
    compare_snapshots,
    differences,
    judge_upgrade,
    migration_changes,
)


def table(count: int, **columns: str) -> dict[str, Any]:
    return {"count": count, "columns": columns}


BEFORE = {
    "core_instance": table(3, id="h1", name="h2", status="h3"),
    "core_volume": table(2, id="m1", title="m2"),
}


def test_identical_snapshots() -> None:
    assert compare_snapshots(BEFORE, BEFORE) == ([], [])


def test_a_lost_row_is_a_problem() -> None:
    after = {**BEFORE, "core_instance": table(2, id="x1", name="x2", status="x3")}
    problems, notes = compare_snapshots(BEFORE, after)
    assert problems == ["table core_instance: 3 rows before, 2 after"]
    assert notes == []


def test_a_changed_value_in_a_kept_column_is_a_problem() -> None:
    after = {**BEFORE, "core_volume": table(2, id="m1", title="CHANGED")}
    problems, notes = compare_snapshots(BEFORE, after)
    assert problems == ["table core_volume: values of column title changed"]
    assert notes == []


def test_a_gone_table_is_a_problem() -> None:
    after = {"core_instance": BEFORE["core_instance"]}
    problems, _ = compare_snapshots(BEFORE, after)
    assert problems == ["table core_volume is gone (2 rows before)"]


def test_a_dropped_column_and_an_added_table_are_notes_not_problems() -> None:
    after = {
        "core_instance": table(3, id="h1", name="h2", is_running="r1"),
        "core_volume": BEFORE["core_volume"],
        "core_event": table(0, id="v1"),
    }
    problems, notes = compare_snapshots(BEFORE, after)
    assert problems == []
    assert notes == [
        "core_instance.status was dropped by a migration",
        "core_instance.is_running was added",
        "table core_event was added",
    ]


def test_rows_added_are_a_count_problem_once() -> None:
    after = {**BEFORE, "core_volume": table(3, id="n1", title="n2")}
    problems, _ = compare_snapshots(BEFORE, after)
    assert problems == ["table core_volume: 2 rows before, 3 after"]


# -- judge_upgrade: the stopped database, the dump, its rehearsed copy, and the upgrade --------

DUMPED = {
    "core_instance": table(3, id="i", name="n", status="s"),
    "core_event": table(5, id="e", kind="K"),
    "core_volume": table(2, id="m1", title="m2"),
    "maintenance_record": table(1, id="r", title="t"),
}
# core.0002 swaps status for is_running; core.0003 deletes two duplicate events, lowers kinds.
REHEARSED = {
    "core_instance": table(3, id="i", name="n", is_running="r"),
    "core_event": table(3, id="e2", kind="k"),
    "core_volume": table(2, id="m1", title="m2"),
    "maintenance_record": table(1, id="r", title="t"),
    "core_allocation": table(0, id="0:0"),
}
MIGRATIONS = {
    "core.0002_is_running": ["core_instance"],
    "core.0003_cleanup": ["core_allocation", "core_event"],
    "api.0002_hide_beta": [],
}


def test_migration_changes_say_which_tables_and_columns_and_how() -> None:
    changes = migration_changes(DUMPED, REHEARSED)
    assert changes == {
        "core_allocation": {
            "how": ["the table is new (0 rows)"],
            "whole_table": True,
            "columns": [],
        },
        "core_event": {
            "how": ["5 rows before, 3 after"],
            "whole_table": True,
            "columns": [],
        },
        "core_instance": {
            "how": ["column status dropped", "column is_running added"],
            "whole_table": False,
            "columns": ["is_running", "status"],
        },
    }


def test_the_upgrade_as_rehearsed_passes_with_the_changes_named() -> None:
    problems, notes = judge_upgrade(DUMPED, REHEARSED, DUMPED, REHEARSED, MIGRATIONS)
    assert problems == []
    assert "table core_event: 5 rows before, 3 after, by core.0003_cleanup (as rehearsed)" in notes


def test_a_lost_row_in_an_untouched_table_is_a_loss() -> None:
    after = {**REHEARSED, "core_volume": table(1, id="x", title="y")}
    problems, _ = judge_upgrade(DUMPED, after, DUMPED, REHEARSED, MIGRATIONS)
    assert problems == [
        "table core_volume: 2 rows before, 1 after (no rehearsed migration changes it)"
    ]


def test_a_touched_table_that_differs_from_the_rehearsal_is_a_loss() -> None:
    after = {**REHEARSED, "core_event": table(2, id="e3", kind="k")}
    problems, _ = judge_upgrade(DUMPED, after, DUMPED, REHEARSED, MIGRATIONS)
    assert problems == [
        "table core_event: 3 rows before, 2 after compared with what the rehearsed "
        "migrations produced"
    ]


def test_writes_after_the_dump_to_a_touched_table_are_noted_not_failed() -> None:
    stopped = {**DUMPED, "core_instance": table(4, id="i+", name="n+", status="s+")}
    after = {**REHEARSED, "core_instance": table(4, id="i+", name="n+", is_running="r+")}
    problems, notes = judge_upgrade(stopped, after, DUMPED, REHEARSED, MIGRATIONS)
    assert problems == []
    assert any(n.startswith("table core_instance: column status dropped") for n in notes)


def test_untouched_columns_of_a_written_touched_table_are_still_compared() -> None:
    stopped = {**DUMPED, "core_instance": table(4, id="i+", name="n+", status="s+")}
    after = {**REHEARSED, "core_instance": table(4, id="i+", name="LOST", is_running="r+")}
    problems, _ = judge_upgrade(stopped, after, DUMPED, REHEARSED, MIGRATIONS)
    assert problems == [
        "table core_instance: values changed in name (columns no rehearsed migration changes)"
    ]


def test_the_maintenance_tables_are_not_judged() -> None:
    after = {**REHEARSED, "maintenance_record": table(2, id="r2", title="t2")}
    assert judge_upgrade(DUMPED, after, DUMPED, REHEARSED, MIGRATIONS)[0] == []


def test_a_write_before_the_stop_is_not_a_loss_when_read_at_the_stop() -> None:
    stopped = {**DUMPED, "core_volume": table(3, id="m+", title="m+")}
    after = {**REHEARSED, "core_volume": table(3, id="m+", title="m+")}
    assert judge_upgrade(stopped, after, DUMPED, REHEARSED, MIGRATIONS)[0] == []


def test_changed_tables_and_differences() -> None:
    now = {**DUMPED, "core_volume": table(2, id="m1", title="other")}
    assert changed_tables(DUMPED, now) == ["core_volume"]
    assert differences(DUMPED["core_volume"], now["core_volume"]) == ["values changed in title"]
    assert differences(None, None) == []
