"""Which tables the change markers prove unwritten: only on a trusted reading of PostgreSQL 15
or newer with the server's markers unchanged, and only tables whose every marker is equal."""

from __future__ import annotations

import json

import pytest

from atmo_release.data.change_markers import (
    MARKERS_SQL,
    QUIET_SQL,
    VERSION_SQL,
    Markers,
    read,
    untouched,
)

SERVER = {"stats_reset": "2026-12-01 10:00:00+00", "started": "2026-12-01 09:00:00+00"}
TABLES = {
    "core_instance": [16400, 16400, "r", 41, 3, 0, "c0"],
    "core_event": [16410, 16410, "r", 900, 0, 0, "c1"],
    "core_partitioned": [16420, 0, "p", None, None, None, "c2"],
}


def reading(
    version: str = "150004",
    quiet: tuple[str, str] = ("0", "7000"),
    after: tuple[str, str] | None = None,
) -> tuple[Markers, list[list[str]]]:
    asked: list[list[str]] = []

    def batch(sqls: list[str]) -> list[list[str]]:
        asked.append(sqls)
        return [list(quiet), [json.dumps({**SERVER, "tables": TABLES})], list(after or quiet)]

    def scalar(sql: str) -> str:
        assert sql == VERSION_SQL
        return version

    return read(scalar, batch), asked


def test_a_quiet_reading_is_trusted_and_read_between_two_looks_at_the_sessions() -> None:
    markers, asked = reading()
    assert asked == [[QUIET_SQL, MARKERS_SQL, QUIET_SQL]]
    assert markers.trusted and markers.why == ""
    assert markers.server == SERVER and markers.tables == TABLES


@pytest.mark.parametrize(
    ("quiet", "after", "why"),
    [
        (("1", "7000"), None, "1 other session(s) connected"),
        (("0", "7000"), ("2", "7000"), "2 other session(s) connected"),
        (("0", "7000"), ("0", "7001"), "a transaction began while the markers were read"),
    ],
    ids=["session-before", "session-after", "transaction-between"],
)
def test_a_reading_others_could_write_during_is_not_trusted(
    quiet: tuple[str, str], after: tuple[str, str] | None, why: str
) -> None:
    markers, _ = reading(quiet=quiet, after=after)
    assert not markers.trusted and markers.why == why
    assert untouched(reading()[0], markers) == set()


def test_before_postgresql_15_nothing_is_read_and_nothing_trusted() -> None:
    markers, asked = reading(version="140011")
    assert asked == [] and not markers.trusted and "140011" in markers.why
    assert untouched(reading()[0], markers) == set()


def changed(table: str, index: int, value: object) -> Markers:
    tables = {name: list(markers) for name, markers in TABLES.items()}
    tables[table][index] = value
    return Markers(dict(SERVER), tables, trusted=True)


@pytest.mark.parametrize(
    ("index", "value"),
    [(0, 99), (1, 99), (3, 42), (4, 4), (5, 1), (6, "other columns")],
    ids=["oid", "relfilenode", "inserted", "updated", "deleted", "columns"],
)
def test_a_table_with_any_marker_changed_is_read(index: int, value: object) -> None:
    then = Markers(dict(SERVER), TABLES, trusted=False)  # the baseline need not be trusted
    assert untouched(then, changed("core_instance", index, value)) == {"core_event"}


@pytest.mark.parametrize("key", ["stats_reset", "started"])
def test_a_reset_or_restarted_server_proves_nothing(key: str) -> None:
    now = Markers({**SERVER, key: "2026-12-02 11:00:00+00"}, TABLES, trusted=True)
    assert untouched(Markers(dict(SERVER), TABLES), now) == set()


def test_no_baseline_a_new_table_and_a_partitioned_one_are_read() -> None:
    now = Markers(dict(SERVER), {**TABLES, "core_new": [16500, 16500, "r", 1, 0, 0, "c3"]}, True)
    assert untouched(None, now) == set()
    assert untouched(Markers(dict(SERVER), TABLES), now) == {"core_instance", "core_event"}


def test_the_record_gives_back_the_reading() -> None:
    markers, _ = reading()
    assert Markers.from_record(json.loads(json.dumps(markers.as_record()))) == markers
    assert Markers.from_record(None) is None and Markers.from_record({}) is None
