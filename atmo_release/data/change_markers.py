"""Per-table change markers: which tables cannot have been written between two readings, so
the stopped reading fingerprints only the others and takes the rest from the proven dump.

A table's markers are its oid, its file (`relfilenode`: TRUNCATE, VACUUM FULL and rewriting
ALTERs give a new one), a signature of its columns (an ALTER that adds a column rewrites
nothing), and PostgreSQL's own counts of rows inserted, updated and deleted in it, which only
grow. The server's markers are when its statistics were last reset (a reset of one table's
counters resets it too) and when the server started (a crash-restart discards them).

The counts are trusted only on PostgreSQL 15 or newer, where they live in shared memory (older
servers send them over UDP to a collector that may drop them), and only when no other session
can still hold counts it has not yet flushed. A backend flushes its own counts when it exits,
before it leaves `pg_stat_activity`; one that stays connected (a Celery worker, a pool) flushes
them at the latest 10 s after it went idle (`PGSTAT_IDLE_INTERVAL`: going idle with counts
pending arms a timeout that forces them out, and `state_change` is stamped after it is armed).
So a reading is trusted when, in one session, before and after the markers are read, every
other client has been idle (not in a transaction) for over `IDLE_FLUSHED_S`, and no transaction
id was handed out in between (every write takes one). A session the reading role may not see
(another role's, without pg_read_all_stats: its type and state read as null) always counts. A
table whose markers are all equal was not written; anything else, unknown or untrusted, is read
in full.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from atmo_release.data.fingerprint import Fingerprints, combine, quote

MIN_SERVER = 150000

VERSION_SQL = "SELECT current_setting('server_version_num')"
# Backends that never write a table's rows; anything else connected makes the counts untrusted.
_QUIET_KINDS = (
    "autovacuum launcher",
    "autovacuum worker",
    "background writer",
    "checkpointer",
    "walwriter",
    "archiver",
    "startup",
    "walreceiver",
    "logical replication launcher",
)
# PostgreSQL's 10 s, and a second for the timer and the flush itself.
IDLE_FLUSHED_S = 11
_FLUSHED = (
    "backend_type = 'client backend' AND state = 'idle' AND "
    f"state_change < clock_timestamp() - interval '{IDLE_FLUSHED_S} seconds'"
)
# Every session that may hold counts not yet flushed: a hidden one (null type) on a database too.
_UNFLUSHED = (
    "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (backend_type NOT IN ("
    + ", ".join(f"'{kind}'" for kind in _QUIET_KINDS)
    + f") OR (backend_type IS NULL AND datname IS NOT NULL)) AND ({_FLUSHED}) IS NOT TRUE"
)
# Those sessions; the transaction ids handed out so far; when every one of them is idle, the
# seconds until the last has been idle long enough ("" otherwise).
QUIET_SQL = (
    f"SELECT (SELECT count(*) {_UNFLUSHED}), pg_snapshot_xmax(pg_current_snapshot()), "
    "(SELECT CASE WHEN bool_and(coalesce(backend_type = 'client backend' AND state = 'idle', "
    f"false)) THEN round(extract(epoch FROM max(state_change) + interval '{IDLE_FLUSHED_S} "
    f"seconds' - clock_timestamp()), 2) END {_UNFLUSHED})"
)
MARKERS_SQL = (
    "SELECT json_build_object("
    "'bytes', pg_database_size(current_database()), "
    "'stats_reset', (SELECT coalesce(stats_reset::text, '') FROM pg_stat_database "
    "WHERE datname = current_database()), "
    "'started', pg_postmaster_start_time()::text, "
    "'tables', (SELECT coalesce(json_object_agg(c.relname, json_build_array(c.oid::bigint, "
    "c.relfilenode::bigint, c.relkind, s.n_tup_ins, s.n_tup_upd, s.n_tup_del, "
    "(SELECT md5(coalesce(string_agg(a.attname || ':' || a.atttypid || ':' || a.attnum, ',' "
    "ORDER BY a.attnum), '')) FROM pg_attribute a "
    "WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))), '{}') "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')))"
)

# A client that has just returned (the run's own too) leaves its backend exiting for a moment,
# connected with its counts not yet flushed: a reading is taken again for up to this long.
SETTLE_S = 1.0
SETTLE_POLL_S = 0.1
# About how fast a reading of every table goes (1 GiB in about 2 s on the 2-core rehearsal
# machine): waiting for idle sessions to flush pays when it is shorter than reading whole.
WHOLE_READ_BYTES_PER_S = 512 * 1024 * 1024

# scalar(sql) -> the first field; batch(statements) -> the one row of each, in one session
Scalar = Callable[[str], str]
Batch = Callable[[list[str]], list[list[str]]]
# read(tables) -> their fingerprints (every table's for None)
# read(tables, above) -> their fingerprints (every table's for None), of each table in `above`
# only its rows with a higher id than the one given there: one pass of the server
Read = Callable[[list[str] | None, dict[str, int]], Fingerprints]
# count_upto({table: id}) -> per table, its rows with an id up to that one or none at all
CountUpto = Callable[[dict[str, int]], dict[str, int]]


def count_upto_sql(table: str, upto: int) -> str:
    """Rows with an id up to `upto`, and rows with none (so they cannot hide)."""
    return f'SELECT count(*) FROM public.{quote(table)} WHERE "id" <= {int(upto)} OR "id" IS NULL'


@dataclass
class Markers:
    """A reading of the markers; `trusted` says whether its counts prove anything, `why` why
    not."""

    server: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[Any]] = field(default_factory=dict)
    trusted: bool = False
    why: str = ""
    # untrusted for idle sessions only: the seconds until they will have flushed their counts
    idle_wait_s: float | None = None
    bytes: int = 0  # the database's size, what reading every table costs

    @property
    def whole_read_s(self) -> float:
        return self.bytes / WHOLE_READ_BYTES_PER_S

    def as_record(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "tables": self.tables,
            "trusted": self.trusted,
            "why": self.why,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any] | None) -> Markers | None:
        if not data:
            return None
        return cls(dict(data["server"]), dict(data["tables"]), bool(data["trusted"]), data["why"])


def read(scalar: Scalar, batch: Batch) -> Markers:
    """The markers now, and whether nothing else could have written while they were read."""
    version = int(scalar(VERSION_SQL) or 0)
    if version < MIN_SERVER:
        return Markers(
            why=f"PostgreSQL {version} keeps its row counts in a collector that may drop them"
        )
    before, markers, after = batch([QUIET_SQL, MARKERS_SQL, QUIET_SQL])
    data = json.loads(markers[0])
    reading = Markers(
        {"stats_reset": data["stats_reset"], "started": data["started"]},
        data["tables"],
        bytes=int(data.get("bytes") or 0),
    )
    if before[0] != "0" or after[0] != "0":
        reading.why = f"{max(int(before[0]), int(after[0]))} other session(s) connected"
        idle = [float(quiet[2]) for quiet in (before, after) if quiet[0] != "0" and quiet[2]]
        if len(idle) == sum(quiet[0] != "0" for quiet in (before, after)):
            reading.idle_wait_s = max(0.0, *idle)
            reading.why += f", idle for under {IDLE_FLUSHED_S} s"
    elif before[1] != after[1]:
        reading.why = "a transaction began while the markers were read"
    else:
        reading.trusted = True
    return reading


def untouched(then: Markers | None, now: Markers) -> set[str]:
    """The tables `now` proves unwritten since `then` (read before that reading's rows were):
    none unless `now` is trusted and the server's markers are the same; a partitioned table's
    rows live in its partitions, so it is never among them."""
    if then is None or not now.trusted or then.server != now.server:
        return set()
    return {
        table
        for table, markers in now.tables.items()
        if markers[2] == "r" and None not in markers and then.tables.get(table) == markers
    }


def settled(
    read_once: Callable[[], Markers],
    seconds: float = SETTLE_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Markers:
    """A reading taken again while sessions may still be ending, until it is trusted or
    `seconds` have passed; then, if only idle sessions keep it untrusted, once more when they
    will have flushed, if that comes sooner than a reading of every table would end (once: a
    worker busy every few seconds is not waited for again). A server too old to trust is read
    once."""
    started = clock()
    reading = read_once()
    while reading.tables and not reading.trusted and clock() - started < seconds:
        sleep(SETTLE_POLL_S)
        reading = read_once()
    idle = reading.idle_wait_s
    if not reading.trusted and idle is not None and idle < reading.whole_read_s:
        sleep(idle + SETTLE_POLL_S)
        reading = read_once()
    return reading


def only_grown(then: Markers | None, now: Markers) -> set[str]:
    """The tables `now` proves only had rows inserted since `then`: the same file and columns,
    no row updated or deleted, more inserted; every row they had then is there unchanged."""
    if then is None or not now.trusted or then.server != now.server:
        return set()
    grown = set()
    for table, markers in now.tables.items():
        old = then.tables.get(table)
        if markers[2] != "r" or None in markers or old is None or None in old:
            continue
        if [*markers[:3], *markers[4:]] == [*old[:3], *old[4:]] and markers[3] > old[3]:
            grown.add(table)
    return grown


@dataclass
class Since:
    """A reading that reads again only what changed since an earlier one: the tables taken
    from it (`kept`), those of which only the rows above its highest id were read (`grown`)."""

    reading: Fingerprints
    kept: list[str] = field(default_factory=list)
    grown: list[str] = field(default_factory=list)


def reading_since(
    then: Markers | None,
    earlier: Fingerprints,
    now: Markers,
    read: Read,
    count_upto: CountUpto | None = None,
) -> Since:
    """The tables as they are now: `earlier`'s reading of each table `now` proves unwritten
    since `then` (read before `earlier` was); of a table that only had rows inserted, the
    earlier reading and a fresh reading of the rows above its highest id, once the rows
    inserted since `then` are all there above it, or else a count shows that no row at or
    below it was added; a fresh reading of the others (of every table when none is proven).
    The fresh readings and those above an id are one pass; a table that then proves more than
    grown is read whole after it."""
    kept = sorted(table for table in untouched(then, now) if table in earlier)
    candidates = {
        table: earlier[table]["max_id"]
        for table in sorted(only_grown(then, now))
        if table in earlier and earlier[table].get("max_id") is not None
    }
    if not kept and not candidates:
        return Since(read(None, {}))
    rest = sorted(set(now.tables) - set(kept) - set(candidates))
    first = read(sorted([*rest, *candidates]), candidates)
    fresh = {t: v for t, v in first.items() if t not in candidates}
    above = {t: v for t, v in first.items() if t in candidates}
    grown = {t: i for t, i in candidates.items() if t in above and _all_above(then, now, t, above)}
    doubt = {t: i for t, i in candidates.items() if t in above and t not in grown}
    if doubt and count_upto is not None:
        counts = count_upto(doubt)
        grown |= {t: i for t, i in doubt.items() if counts.get(t) == earlier[t]["count"]}
    again = sorted(t for t in above if t not in grown)
    fresh |= read(again, {}) if again else {}
    reading = {
        **{t: earlier[t] for t in kept},
        **{t: combine(earlier[t], above[t]) for t in grown},
        **fresh,
    }
    return Since(dict(sorted(reading.items())), kept, sorted(grown))


def _all_above(then: Markers | None, now: Markers, table: str, above: Fingerprints) -> bool:
    """Whether every row inserted since `then` is one of the rows now above the earlier
    highest id: each insert is counted (aborted ones too) and a row above that id was inserted
    after `then` was read, so as many of them as inserts leaves none at or below it, nor any
    without an id. An insert between `then` and the earlier reading makes more inserts than
    rows above: the count decides then."""
    assert then is not None
    inserted = now.tables[table][3] - then.tables[table][3]
    return above[table]["count"] == inserted
