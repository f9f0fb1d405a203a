"""Row checks on fingerprints: a migration explains a change, a loss is a problem."""

from typing import Any

from atmo_release.data.row_checks import (
    Expected,
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


# -- judge_upgrade: the stopped database, its copy migrated beside the upgrade, and the upgrade -

STOPPED = {
    "core_instance": table(3, id="i", name="n", status="s"),
    "core_event": table(5, id="e", kind="K"),
    "core_volume": table(2, id="m1", title="m2"),
    "core_allocation": table(2, id="a", end_date="d"),
    "maintenance_record": table(1, id="r", title="t"),
}
# core.0002 swaps status for is_running; core.0003 deletes two duplicate events, lowers kinds;
# core.0004 adds reviewed_at, stamped with the clock (one value everywhere).
MIGRATED = {
    "core_instance": table(3, id="i", name="n", is_running="r"),
    "core_event": table(3, id="e2", kind="k"),
    "core_volume": table(2, id="m1", title="m2"),
    "core_allocation": table(2, id="a", end_date="d", reviewed_at="2:copy-stamp"),
    "maintenance_record": table(1, id="r", title="t"),
}
MIGRATIONS = {
    "core.0002_is_running": ["core_instance"],
    "core.0003_cleanup": ["core_event"],
    "core.0004_reviewed": ["core_allocation"],
    "api.0002_hide_beta": [],
}
SPAN = (1000.0, 1100.0)


def shape(values: int, distinct: int, first: float | None = None) -> dict[str, Any]:
    return {"values": values, "distinct": distinct, "first": first, "last": first, "ids": "77"}


EXPECTED = Expected(
    MIGRATED,
    stamped={"core_allocation": {"reviewed_at": ["core.0004_reviewed"]}},
    shapes={"core_allocation": {"reviewed_at": shape(2, 1, 1010.0)}},
)
UPGRADED = {**MIGRATED, "core_allocation": table(2, id="a", end_date="d", reviewed_at="2:live")}
SHAPES = {"core_allocation": {"reviewed_at": shape(2, 1, 1050.0)}}


def judge(
    after: dict[str, Any], shapes: dict[str, Any] = SHAPES, stopped: dict[str, Any] = STOPPED
) -> tuple[list[str], list[str]]:
    return judge_upgrade(stopped, after, shapes, EXPECTED, SPAN, MIGRATIONS)


def test_migration_changes_say_which_tables_and_columns_and_how() -> None:
    changes = migration_changes(STOPPED, {**MIGRATED, "core_volume_new": table(0, id="0:0")})
    assert changes == {
        "core_allocation": {
            "how": ["column reviewed_at added"],
            "whole_table": False,
            "columns": ["reviewed_at"],
        },
        "core_event": {"how": ["5 rows before, 3 after"], "whole_table": True, "columns": []},
        "core_instance": {
            "how": ["column status dropped", "column is_running added"],
            "whole_table": False,
            "columns": ["is_running", "status"],
        },
        "core_volume_new": {
            "how": ["the table is new (0 rows)"],
            "whole_table": True,
            "columns": [],
        },
    }


def test_the_upgrade_as_on_the_copy_passes_with_the_changes_and_stamps_named() -> None:
    problems, notes = judge(UPGRADED)
    assert problems == []
    assert (
        "table core_event: 5 rows before, 3 after, by core.0003_cleanup, exactly as on a copy "
        "of the stopped database migrated beside the upgrade"
    ) in notes
    assert (
        "table core_allocation: column reviewed_at stamped by core.0004_reviewed (the clock "
        "or chance), compared by shape: 2 values in the rows expected, one value everywhere, "
        "within the window"
    ) in notes


def test_a_busy_migrated_table_that_lost_its_rows_fails() -> None:
    """The issue's case 1: core_event written since the dump and migrated; all rows lost."""
    stopped = {**STOPPED, "core_event": table(6, id="e+", kind="K+")}
    after = {**UPGRADED, "core_event": table(0, id="0:0", kind="0:0")}
    problems, _ = judge(after, stopped=stopped)
    assert problems == [
        "table core_event: 3 rows expected, 0 after (compared with the stopped rows as "
        "core.0003_cleanup change them, on a copy)"
    ]


def test_a_value_changed_in_a_migrated_column_of_a_written_table_fails() -> None:
    stopped = {**STOPPED, "core_instance": table(4, id="i+", name="n+", status="s+")}
    expected = Expected(
        {**MIGRATED, "core_instance": table(4, id="i+", name="n+", is_running="r+")}
    )
    after = {**MIGRATED, "core_instance": table(4, id="i+", name="n+", is_running="LOST")}
    problems, _ = judge_upgrade(stopped, after, {}, expected, SPAN, MIGRATIONS)
    assert problems == [
        "table core_instance: values changed in is_running (compared with the stopped rows as "
        "core.0002_is_running change them, on a copy)"
    ]


def test_a_lost_row_in_an_untouched_table_is_a_loss() -> None:
    problems, _ = judge({**UPGRADED, "core_volume": table(1, id="x", title="y")})
    assert problems == ["table core_volume: 2 rows expected, 1 after (no migration changes it)"]


def test_a_stamped_column_is_judged_by_its_shape_and_the_others_exactly() -> None:
    after = {**UPGRADED, "core_allocation": table(2, id="a", end_date="X", reviewed_at="2:live")}
    assert judge(after)[0] == [
        "table core_allocation: values changed in end_date (compared with the stopped rows as "
        "core.0004_reviewed change them, on a copy)"
    ]
    stamp = "table core_allocation: column reviewed_at stamped by core.0004_reviewed: "
    wrong = {
        "1 values, 2 expected": shape(1, 1, 1050.0),
        "a different value in every row, expected one value everywhere": shape(2, 2, 1050.0),
        "times from 1970-01-01T00:15:00+00:00 to 1970-01-01T00:15:00+00:00, outside the window "
        "(1970-01-01T00:16:40+00:00 to 1970-01-01T00:18:20+00:00)": shape(2, 1, 900.0),
    }
    for problem, found in wrong.items():
        shapes = {"core_allocation": {"reviewed_at": found}}
        assert judge(UPGRADED, shapes)[0] == [f"{stamp}{problem} (compared by shape)"]
    other_rows = {"core_allocation": {"reviewed_at": {**shape(2, 1, 1050.0), "ids": "78"}}}
    assert judge(UPGRADED, other_rows)[0] == [
        f"{stamp}the values are in other rows than expected (compared by shape)"
    ]
    gone = {**UPGRADED, "core_allocation": table(2, id="a", end_date="d")}
    assert judge(gone, {})[0] == [f"{stamp}the column is gone (compared by shape)"]


def test_the_maintenance_tables_are_not_judged() -> None:
    assert judge({**UPGRADED, "maintenance_record": table(2, id="r2", title="t2")})[0] == []


def test_a_write_before_the_stop_is_expected_through_the_copy() -> None:
    stopped = {**STOPPED, "core_volume": table(3, id="m+", title="m+")}
    expected = Expected({**MIGRATED, "core_volume": table(3, id="m+", title="m+")})
    after = {**MIGRATED, "core_volume": table(3, id="m+", title="m+")}
    assert judge_upgrade(stopped, after, {}, expected, SPAN, MIGRATIONS)[0] == []


def test_changed_tables_and_differences() -> None:
    now = {**STOPPED, "core_volume": table(2, id="m1", title="other")}
    assert changed_tables(STOPPED, now) == ["core_volume"]
    assert differences(STOPPED["core_volume"], now["core_volume"]) == ["values changed in title"]
    assert differences(table(2), table(1), "expected") == ["2 rows expected, 1 after"]
    assert differences(None, None) == []
