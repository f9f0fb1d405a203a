"""PostgreSQL 15's own change markers, read as the stopped reading reads them: every way of
writing a table (or of hiding that it was written) leaves the table out of those proven
untouched, and a session still connected makes the whole reading untrusted."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from atmo_release.data import change_markers
from atmo_release.data.fingerprint import same
from atmo_release.environment import Database
from tests.rehearsal.host_database import PASSWORD, db_client, host_database

pytestmark = pytest.mark.docker

DB = "troposphere"
TABLE = (
    "CREATE TABLE {0} (id serial PRIMARY KEY, name text); "
    "INSERT INTO {0} (name) SELECT 'row ' || n FROM generate_series(1, 20) n"
)


@pytest.fixture(scope="module")
def source() -> Iterator[Database]:
    with host_database(
        f"markers-{uuid.uuid4().hex[:10]}", {DB: TABLE.format("bystander")}
    ) as config:
        yield config


def markers(source: Database) -> change_markers.Markers:
    return db_client(source).markers(DB)


def settled(source: Database) -> change_markers.Markers:
    """A trusted reading: a psql that returned may leave its backend exiting for a moment,
    connected with its counts not yet flushed."""
    deadline = time.monotonic() + 10
    while not (reading := markers(source)).trusted and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reading.trusted, reading.why
    return reading


RESET = "SELECT pg_stat_reset_single_table_counters('{0}'::regclass)"
# (what is done before the first reading, the writes, each in a session of its own); a reset
# before the reading leaves the table's counts at zero, and one after the delete has been
# counted brings them back there: only the server's reset time tells that write.
WRITES = {
    "delete": ("", ["DELETE FROM {0} WHERE id = 1"]),
    "update": ("", ["UPDATE {0} SET name = 'renamed' WHERE id = 2"]),
    "insert": ("", ["INSERT INTO {0} (name) VALUES ('new')"]),
    "delete-and-insert": (
        "",
        ["DELETE FROM {0} WHERE id = 3", "INSERT INTO {0} (name) VALUES ('x')"],
    ),
    "truncate": ("", ["TRUNCATE {0}"]),
    "column-added": ("", ["ALTER TABLE {0} ADD COLUMN flag boolean NOT NULL DEFAULT false"]),
    "column-type-changed-in-place": ("", ["ALTER TABLE {0} ALTER COLUMN name TYPE varchar"]),
    "delete-hidden-by-a-counters-reset": (RESET, ["DELETE FROM {0} WHERE id = 4", RESET]),
}


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_a_written_table_is_never_proven_untouched(source: Database, write: str) -> None:
    table = f"probe_{write.replace('-', '_')}"
    client = db_client(source)
    prepare, changes = WRITES[write]
    client.query(DB, TABLE.format(table))
    if prepare:
        settled(source)
        client.query(DB, prepare.format(table))
    then = settled(source)
    assert {table, "bystander"} <= change_markers.untouched(then, markers(source))
    for change in changes:
        client.query(DB, change.format(table))
        settled(source)
    assert table not in change_markers.untouched(then, settled(source))


def test_all_counters_reset_proves_nothing(source: Database) -> None:
    then = settled(source)
    db_client(source).query(DB, "SELECT pg_stat_reset()")
    assert change_markers.untouched(then, settled(source)) == set()


@contextmanager
def open_session(source: Database, user: str = "") -> Iterator[Callable[[str], None]]:
    """A psql session that stays connected (as `user`, default the database's owner): a
    Celery worker, an admin's psql; each statement given is sent to it as is."""
    argv = ["psql", "-X", "-q", "-h", source.host, "-p", str(source.port)]
    argv += ["-U", user or source.user, "-d", DB]
    session = subprocess.Popen(
        argv, stdin=subprocess.PIPE, text=True, env={**os.environ, "PGPASSWORD": PASSWORD}
    )
    assert session.stdin is not None
    stdin = session.stdin

    def send(sql: str) -> None:
        stdin.write(sql + "\n")
        stdin.flush()

    try:
        yield send
    finally:
        stdin.close()
        session.wait(timeout=30)


def rows_are(source: Database, table: str, count: int) -> None:
    """Wait until `table` holds `count` rows: the session's statements have run."""
    deadline = time.monotonic() + 10
    while db_client(source).scalar(DB, f"SELECT count(*) FROM {table}") != str(count):
        assert time.monotonic() < deadline, f"{table} never held {count} rows"
        time.sleep(0.1)


def test_a_session_still_connected_makes_the_reading_untrusted(source: Database) -> None:
    """It may hold counts it has not flushed; once it has gone, its write is seen."""
    db_client(source).query(DB, TABLE.format("probe_open_session"))
    then = settled(source)
    with open_session(source) as send:
        send("DELETE FROM probe_open_session WHERE id = 1;")
        rows_are(source, "probe_open_session", 19)
        now = markers(source)
        assert not now.trusted and now.why.startswith("1 other session(s) connected")
        assert change_markers.untouched(then, now) == set()
    untouched = change_markers.untouched(then, settled(source))
    assert "probe_open_session" not in untouched and "bystander" in untouched


def test_a_session_idle_long_enough_has_flushed_its_counts(source: Database) -> None:
    """A worker that stays connected: right after its writes their counts are still pending
    in it and the reading is untrusted; idle for IDLE_FLUSHED_S, it has flushed them (10 s
    at the latest) and the reading is trusted and sees the writes. One idle in a transaction
    never counts as flushed."""
    client = db_client(source)
    client.query(DB, TABLE.format("probe_idle_worker"))
    client.query(DB, TABLE.format("probe_in_transaction"))
    then = settled(source)
    with open_session(source) as worker:
        # two transactions in a row: the second's counts wait for the next flush
        worker("INSERT INTO probe_idle_worker (name) VALUES ('a');")
        worker("INSERT INTO probe_idle_worker (name) VALUES ('b');")
        rows_are(source, "probe_idle_worker", 22)
        now = markers(source)
        assert not now.trusted and now.why.endswith(
            f"idle for under {change_markers.IDLE_FLUSHED_S} s"
        ), now.why
        assert now.idle_wait_s is not None and 0 < now.idle_wait_s <= 11
        assert now.tables["probe_idle_worker"][3] < 22, "no count was pending in the worker"
        with open_session(source) as in_transaction:
            in_transaction("BEGIN; INSERT INTO probe_in_transaction (name) VALUES ('c');")
            time.sleep(now.idle_wait_s + 0.5)
            busy = markers(source)
            assert not busy.trusted and busy.why == "1 other session(s) connected"
            assert busy.idle_wait_s is None
            in_transaction("COMMIT;")
            rows_are(source, "probe_in_transaction", 21)
            time.sleep(change_markers.IDLE_FLUSHED_S + 0.5)
            flushed = markers(source)
        assert flushed.trusted, flushed.why
        assert flushed.tables["probe_idle_worker"][3] == 22
        assert flushed.tables["probe_in_transaction"][3] == 21
        untouched = change_markers.untouched(then, flushed)
        assert "bystander" in untouched
        assert not {"probe_idle_worker", "probe_in_transaction"} & untouched


def test_a_session_the_reading_role_may_not_see_counts(source: Database) -> None:
    """Another role's session shows no type and no state to a role without
    pg_read_all_stats: it may hold counts, so the reading is untrusted."""
    client = db_client(source)
    client.query(DB, f"DROP ROLE IF EXISTS reader; CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'")
    reader = db_client(replace(source, user="reader"))
    assert settled(source).trusted
    with open_session(source) as owner:
        owner("SELECT 1;")
        deadline = time.monotonic() + 10
        while (
            client.scalar(
                DB,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                f"'{DB}' AND pid <> pg_backend_pid()",
            )
            == "0"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        hidden = reader.markers(DB)
        assert not hidden.trusted and hidden.why == "1 other session(s) connected", hidden.why


# (inserted between the earlier markers and the earlier reading, inserted after it, whether
# only the rows above its highest id are read)
GROWN = {
    "above": ([], ["INSERT INTO {0} (name) VALUES ('added')"], True),
    "below": ([], ["INSERT INTO {0} (id, name) VALUES (5, 'into the gap')"], False),
    "aborted": (
        [],
        [
            "BEGIN; INSERT INTO {0} (name) VALUES ('gone'); ROLLBACK",
            "INSERT INTO {0} (name) VALUES ('added')",
        ],
        True,
    ),
    "before-the-reading": (
        ["INSERT INTO {0} (name) VALUES ('before')"],
        ["INSERT INTO {0} (name) VALUES ('added')"],
        True,
    ),
}


@pytest.mark.parametrize("case", GROWN)
def test_a_table_that_only_grew_reads_as_a_whole_reading_does(source: Database, case: str) -> None:
    """Rows only added: the earlier reading plus the rows above its highest id. As many rows
    there as inserts counted since the earlier markers proves it alone; more inserts (one
    rolled back, one between the markers and the reading) leave it to a count of the rows up
    to that id, and a row added into a gap below it makes that count differ: read whole."""
    table = f"grown_{case.replace('-', '_')}"
    before, after, only_above = GROWN[case]
    client = db_client(source)
    client.query(DB, TABLE.format(table))
    client.query(DB, f"DELETE FROM {table} WHERE id = 5")  # a gap below the highest id
    then = settled(source)
    for sql in before:
        client.query(DB, sql.format(table))
    earlier = client.fingerprints(DB)
    for sql in after:
        client.query(DB, sql.format(table))
    counted: list[dict[str, int]] = []

    def count_upto(upto: dict[str, int]) -> dict[str, int]:
        counted.append(upto)
        return client.counts_upto(DB, upto)

    since = change_markers.reading_since(
        then,
        earlier,
        settled(source),
        lambda tables, above: client.fingerprints(DB, tables, after=above),
        count_upto,
    )
    assert (table in since.grown) == only_above and table not in since.kept
    assert bool(counted) == (case != "above"), counted
    whole = client.fingerprints(DB)
    assert sorted(since.reading) == sorted(whole)
    assert [t for t in whole if not same(since.reading[t], whole[t])] == []
    assert since.reading[table]["count"] == 20 + len(before)
