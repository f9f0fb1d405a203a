"""Which tables the change markers prove unwritten: only on a trusted reading of PostgreSQL 15
or newer with the server's markers unchanged, and only tables whose every marker is equal."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from atmo_release.data import change_markers
from atmo_release.data.change_markers import (
    MARKERS_SQL,
    QUIET_SQL,
    SETTLE_POLL_S,
    VERSION_SQL,
    Markers,
    count_upto_sql,
    only_grown,
    read,
    reading_since,
    settled,
    untouched,
)
from atmo_release.data.fingerprint import Fingerprints

SERVER = {"stats_reset": "2026-12-01 10:00:00+00", "started": "2026-12-01 09:00:00+00"}
TABLES = {
    "core_instance": [16400, 16400, "r", 41, 3, 0, "c0"],
    "core_event": [16410, 16410, "r", 900, 0, 0, "c1"],
    "core_partitioned": [16420, 0, "p", None, None, None, "c2"],
}


def reading(
    version: str = "150004",
    quiet: tuple[str, str, str] = ("0", "7000", ""),
    after: tuple[str, str, str] | None = None,
    size: int = 0,
) -> tuple[Markers, list[list[str]]]:
    asked: list[list[str]] = []

    def batch(sqls: list[str]) -> list[list[str]]:
        asked.append(sqls)
        data = {**SERVER, "tables": TABLES, "bytes": size}
        return [list(quiet), [json.dumps(data)], list(after or quiet)]

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
        (("1", "7000", ""), None, "1 other session(s) connected"),
        (("0", "7000", ""), ("2", "7000", ""), "2 other session(s) connected"),
        (("0", "7000", ""), ("0", "7001", ""), "a transaction began while the markers were read"),
        (("1", "7000", "4.5"), None, "1 other session(s) connected, idle for under 11 s"),
        (("1", "7000", "4.5"), ("1", "7000", ""), "1 other session(s) connected"),
    ],
    ids=["session-before", "session-after", "transaction-between", "idle", "idle-then-busy"],
)
def test_a_reading_others_could_write_during_is_not_trusted(
    quiet: tuple[str, str, str], after: tuple[str, str, str] | None, why: str
) -> None:
    markers, _ = reading(quiet=quiet, after=after)
    assert not markers.trusted and markers.why == why
    assert markers.idle_wait_s == (4.5 if why.endswith("idle for under 11 s") else None)
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


def test_a_reading_is_taken_again_until_the_sessions_have_gone() -> None:
    busy = Markers(dict(SERVER), TABLES, trusted=False, why="1 other session(s) connected")
    quiet = Markers(dict(SERVER), TABLES, trusted=True)
    readings = iter([busy, busy, quiet])
    slept: list[float] = []
    assert settled(lambda: next(readings), sleep=slept.append, clock=lambda: 0.0) == quiet
    assert slept == [SETTLE_POLL_S, SETTLE_POLL_S]


def test_a_session_that_stays_is_given_up_on_after_the_settling_time() -> None:
    busy = Markers(dict(SERVER), TABLES, trusted=False, why="1 other session(s) connected")
    times = iter([0.0, 0.5, 1.1])
    calls: list[int] = []

    def read_once() -> Markers:
        calls.append(1)
        return busy

    assert settled(read_once, seconds=1.0, sleep=lambda _: None, clock=lambda: next(times)) == busy
    assert len(calls) == 2


def idle(wait_s: float, size_gib: float) -> Markers:
    why = "1 other session(s) connected, idle for under 11 s"
    return Markers(dict(SERVER), TABLES, why=why, idle_wait_s=wait_s, bytes=int(size_gib * 2**30))


@pytest.mark.parametrize(
    ("wait_s", "size_gib", "waits"),
    [(4.0, 30, True), (4.0, 1, False), (10.9, 5, False)],
    ids=["large-database", "small-database", "longer-than-reading-whole"],
)
def test_idle_sessions_are_waited_for_only_when_reading_whole_would_take_longer(
    wait_s: float, size_gib: float, waits: bool
) -> None:
    """30 GiB read whole takes about a minute; 1 GiB about 2 s, less than a 4 s wait."""
    quiet = Markers(dict(SERVER), TABLES, trusted=True)
    readings = iter([idle(wait_s, size_gib), quiet])
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    result = settled(lambda: next(readings), seconds=0.0, sleep=sleep, clock=lambda: now[0])
    assert result.trusted == waits
    assert slept == ([wait_s + SETTLE_POLL_S] if waits else [])


def test_a_session_busy_again_after_the_wait_is_not_waited_for_again() -> None:
    readings = iter([idle(4.0, 30), idle(10.9, 30)])
    slept: list[float] = []
    result = settled(lambda: next(readings), seconds=0.0, sleep=slept.append, clock=lambda: 0.0)
    assert not result.trusted and slept == [4.0 + SETTLE_POLL_S]


def test_a_server_too_old_to_trust_is_read_once() -> None:
    old = Markers(why="PostgreSQL 140011 keeps its row counts in a collector that may drop them")
    calls: list[int] = []
    assert settled(lambda: calls.append(1) or old, sleep=lambda _: None) == old
    assert calls == [1]


EARLIER = {
    "core_instance": {"count": 41, "columns": {"id": "41:1"}, "max_id": 41},
    "core_event": {"count": 900, "columns": {"id": "900:2"}, "max_id": 950},
    "core_partitioned": {"count": 0, "columns": {}},
}


def reads(
    above_count: int = 0,
) -> tuple[list[object], Callable[[list[str] | None, dict[str, int]], Fingerprints]]:
    """A reading that notes what it was asked; of a table read above an id it finds
    `above_count` rows."""
    asked: list[object] = []

    def read(tables: list[str] | None, above: dict[str, int]) -> Fingerprints:
        asked.append((tables, above) if above else tables)
        names = sorted(EARLIER) if tables is None else tables
        whole = {"count": -1, "columns": {}}
        part = {"count": above_count, "columns": {"id": f"{above_count}:5"}, "max_id": 953}
        return {table: part if table in above else whole for table in names}

    return asked, read


def test_only_the_tables_not_proven_unwritten_are_read_again() -> None:
    asked, read = reads()
    now = changed("core_instance", 4, 4)  # a row updated
    since = reading_since(Markers(dict(SERVER), TABLES), EARLIER, now, read)
    assert since.kept == ["core_event"] and since.grown == []
    assert asked == [["core_instance", "core_partitioned"]]
    assert since.reading["core_event"] == EARLIER["core_event"]
    assert since.reading["core_instance"]["count"] == -1
    assert list(since.reading) == sorted(since.reading)


@pytest.mark.parametrize("trusted", [True, False], ids=["no-baseline", "untrusted"])
def test_without_proof_every_table_is_read(trusted: bool) -> None:
    asked, read = reads()
    now = Markers(dict(SERVER), TABLES, trusted=trusted)
    then = None if trusted else Markers(dict(SERVER), TABLES)
    since = reading_since(then, EARLIER, now, read)
    assert since.kept == [] and asked == [None] and since.reading["core_event"]["count"] == -1


def test_a_table_proven_unwritten_but_never_read_before_is_read() -> None:
    asked, read = reads()
    earlier = {"core_instance": EARLIER["core_instance"]}
    now = Markers(dict(SERVER), TABLES, trusted=True)
    since = reading_since(Markers(dict(SERVER), TABLES), earlier, now, read)
    assert since.kept == ["core_instance"] and asked == [["core_event", "core_partitioned"]]


@pytest.mark.parametrize(
    ("index", "value", "grown"),
    [
        (3, 901, True),
        (3, 900, False),
        (4, 1, False),
        (5, 1, False),
        (1, 99, False),
        (6, "other columns", False),
    ],
    ids=["inserted", "unchanged", "updated", "deleted", "new-file", "columns"],
)
def test_only_a_table_with_rows_inserted_and_nothing_else_only_grew(
    index: int, value: object, grown: bool
) -> None:
    now = changed("core_event", index, value)
    assert only_grown(Markers(dict(SERVER), TABLES), now) == ({"core_event"} if grown else set())
    untrusted = Markers(now.server, now.tables, trusted=False)
    assert only_grown(Markers(dict(SERVER), TABLES), untrusted) == set()


def grown_reading(above: int, below: int) -> tuple[change_markers.Since, list[object]]:
    """core_event had 3 rows inserted; `above` of its rows now have an id above the earlier
    highest one, `below` up to it."""
    asked, read = reads(above)

    def count_upto(upto: dict[str, int]) -> dict[str, int]:
        asked.append(("count", upto))
        return dict.fromkeys(upto, below)

    now = changed("core_event", 3, 903)
    since = reading_since(Markers(dict(SERVER), TABLES), EARLIER, now, read, count_upto)
    return since, asked


ONE_PASS = (["core_event", "core_partitioned"], {"core_event": 950})


def test_of_a_table_whose_every_insert_is_above_its_highest_id_only_those_rows_are_read() -> None:
    since, asked = grown_reading(above=3, below=-1)
    assert since.grown == ["core_event"] and since.kept == ["core_instance"]
    assert asked == [ONE_PASS], "one pass with the rest, no count of the rows below"
    assert since.reading["core_event"] == {
        "count": 903,
        "bytes": 0,
        "columns": {"id": "903:7"},
        "max_id": 953,
    }


def test_with_fewer_rows_above_than_inserts_a_count_of_the_rows_below_decides() -> None:
    since, asked = grown_reading(above=2, below=900)
    assert since.grown == ["core_event"]
    assert asked == [ONE_PASS, ("count", {"core_event": 950})]
    assert since.reading["core_event"]["count"] == 902


def test_a_row_added_at_or_below_the_highest_id_makes_the_table_read_whole() -> None:
    since, asked = grown_reading(above=2, below=901)
    assert since.grown == []
    assert asked == [ONE_PASS, ("count", {"core_event": 950}), ["core_event"]]
    assert since.reading["core_event"]["count"] == -1


def test_a_row_without_an_id_counts_as_added_below() -> None:
    assert count_upto_sql("core_event", 950) == (
        'SELECT count(*) FROM public."core_event" WHERE "id" <= 950 OR "id" IS NULL'
    )
