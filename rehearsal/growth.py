"""Grow the stack's atmo_prod to a production size (`RehearsalStack(size_mb=...)`), fast.

Each round is one transaction of set-based INSERT ... SELECT generate_series, about
GROW_CHUNK_BYTES, then the size is read again and the next round sized from the bytes per event
the last one took. For speed, as a bulk load does: core_event's secondary indexes are dropped and
built again at the end, and the rounds run with session_replication_role = replica (no per-row
foreign key triggers; the rows are valid by construction, and every foreign key is checked once
at the end). Then VACUUM ANALYZE, as a long-lived production database is.
"""

from __future__ import annotations

import time

from rehearsal.database import MIB, Psql, database_size
from rehearsal.shell import Log

# About this much per INSERT ... SELECT, then the size is read again; per 1000 events, this many
# users, instances and allocations come with them.
GROW_CHUNK_BYTES = 256 * MIB
GROW_FIRST_GUESS_BYTES_PER_EVENT = 640
GROW_PER_1000_EVENTS = {"users": 1, "instances": 20, "allocations": 4}
GROW_TIMEOUT_S = 900
# Checked once after growing, since the growth inserts without the per-row foreign key triggers.
GROW_FOREIGN_KEYS = (
    ("core_instance", "owner_id", "core_atmosphereuser"),
    ("core_allocation", "owner_id", "core_atmosphereuser"),
    ("core_event", "instance_id", "core_instance"),
)
# Event payloads as SQL over the event's number k: 440 to 520 characters (about 480, all
# different, too short for TOAST to compress).
SCALE_PAYLOAD = (
    """format('{"event": %s, "detail": "%s"}', k, """
    "substr(repeat(md5(k::text) || md5((k * 7)::text), 8), 1, 410 + (k % 80)::int))"
)
SCALE_EVENT_KINDS = (
    "instance.launched",
    "instance.started",
    "instance.stopped",
    "instance.suspended",
    "instance.resized",
    "INSTANCE.DELETED",
    "allocation.exceeded",
    "Volume.Attached",
)


def grow(
    psql: Psql, size_mb: int, grown: dict[str, int], timings: dict[str, float], log: Log
) -> None:
    """Grow atmo_prod until pg_database_size is at least `size_mb` MiB: mostly events with
    ~480-character payloads, and users, instances and allocations in proportion. Called again,
    it grows further: `grown` counts the rows added so far per kind, and the numbering goes on
    from there (the rows are of the v37-2 schema, and the ids of each table contiguous; rows
    that would break a foreign key fail the growth).
    Records the seconds (`timings["grow"]`) and the size reached (`timings["seed_mb"]`).
    """
    target = size_mb * MIB
    started = time.monotonic()
    size = database_size(psql)
    per_event = GROW_FIRST_GUESS_BYTES_PER_EVENT
    before = dict(grown)
    log(f"rehearsal grow: atmo_prod {size / MIB:.0f} MiB, growing to {size_mb} MiB")
    if size >= target:
        timings["grow"], timings["seed_mb"] = 0.0, round(size / MIB, 1)
        return
    indexes = psql(
        "atmo_prod",
        "SELECT indexname || '|' || indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = 'core_event' AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = 'core_event'::regclass)",
    ).splitlines()
    for line in indexes:
        psql("atmo_prod", f'DROP INDEX "{line.split("|", 1)[0]}"')
    while size < target:
        events = max(10_000, min(GROW_CHUNK_BYTES, int((target - size) * 1.02)) // per_event)
        psql(
            "atmo_prod",
            "SET session_replication_role = replica;\n" + _grow_sql(grown, events),
            timeout=GROW_TIMEOUT_S,
        )
        larger = database_size(psql)
        per_event = max(200, (larger - size) // events)
        size = larger
        log(
            f"rehearsal grow: atmo_prod {size / MIB:.0f} of {size_mb} MiB, "
            f"{grown['events']:,} events, {time.monotonic() - started:.1f} s"
        )
    for line in indexes:
        psql("atmo_prod", line.split("|", 1)[1], timeout=GROW_TIMEOUT_S)
    _check_foreign_keys(psql)
    psql("atmo_prod", "VACUUM ANALYZE", timeout=GROW_TIMEOUT_S)
    timings["grow"] = round(time.monotonic() - started, 2)
    timings["seed_mb"] = round(database_size(psql) / MIB, 1)
    added = ", ".join(f"{grown[what] - before[what]:,} {what}" for what in grown)
    log(
        f"rehearsal grow: atmo_prod holds {timings['seed_mb']:.0f} MiB ({added} added) "
        f"in {timings['grow']} s"
    )


def _check_foreign_keys(psql: Psql) -> None:
    broken = [
        f"{table}.{column}"
        for table, column, parent in GROW_FOREIGN_KEYS
        if psql(
            "atmo_prod",
            f"SELECT count(*) FROM {table} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} p WHERE p.id = c.{column})",
            timeout=GROW_TIMEOUT_S,
        ).strip()
        != "0"
    ]
    if broken:
        raise RuntimeError(f"rehearsal grow: rows without a parent in {', '.join(broken)}")


def _grow_sql(done: dict[str, int], events: int) -> str:
    """One round of growth as one transaction; `done` counts what earlier rounds added, so
    every generated row differs (names stay unique) and the rounds continue one sequence.
    Ids come from each table's serial and are contiguous (nothing else inserts while the
    stack is brought up), so `lo + x % count` always names an existing row."""
    amounts = {"events": events}
    for what, per_1000 in GROW_PER_1000_EVENTS.items():
        amounts[what] = max(1, events * per_1000 // 1000)
    first = {what: done[what] + 1 for what in amounts}
    last = {what: done[what] + amounts[what] for what in amounts}
    for what in amounts:
        done[what] += amounts[what]
    # bigint: the products below outgrow 32 bits past a few GB
    series = {w: f"generate_series({first[w]}::bigint, {last[w]})" for w in amounts}
    users = "(SELECT min(id) AS lo, count(*) AS cnt FROM core_atmosphereuser) AS u"
    instances = "(SELECT min(id) AS lo, count(*) AS cnt FROM core_instance) AS i"
    kinds = f"(ARRAY{list(SCALE_EVENT_KINDS)})[1 + k % {len(SCALE_EVENT_KINDS)}]"
    return (
        "INSERT INTO core_atmosphereuser (username, email, is_staff, api_token) "
        "SELECT 'member' || lpad(n::text, 7, '0'), 'member' || n || '@example.org', "
        "n % 500 = 0, NULL "
        f"FROM {series['users']} AS n;\n"
        "INSERT INTO core_instance (name, owner_id, status, created_at) "
        "SELECT 'vm-' || lpad(n::text, 8, '0'), u.lo + (n * 7919) % u.cnt, "
        "(ARRAY['active', 'suspended', 'deleted', 'shutoff', 'deleted'])[1 + n % 5], "
        "timestamptz '2015-01-01 00:00:00+00' + (n * 3217 % 220000000) * interval '1 second' "
        f"FROM {users}, {series['instances']} AS n;\n"
        "INSERT INTO core_allocation (owner_id, compute_allowed, start_date, end_date) "
        "SELECT u.lo + (n * 104729) % u.cnt, 168 * (1 + n % 8), s, "
        "CASE WHEN n % 4 = 0 THEN NULL ELSE s + (1 + n % 12) * interval '1 month' END "
        f"FROM {users}, {series['allocations']} AS n, "
        "LATERAL (SELECT timestamptz '2016-01-01 00:00:00+00' "
        "+ (n % 2200) * interval '1 day' AS s) AS d;\n"
        # 1 event in 1000 repeats the one before it exactly (v37-94 deletes such duplicates).
        "INSERT INTO core_event (instance_id, kind, payload, created_at) "
        "SELECT CASE WHEN k % 10 = 0 THEN NULL ELSE i.lo + (k * 31) % i.cnt END, "
        f"{kinds}, "
        f"{SCALE_PAYLOAD}, "
        "timestamptz '2015-01-01 00:00:00+00' + k * interval '37 seconds' "
        f"FROM {instances}, {series['events']} AS n, "
        "LATERAL (SELECT CASE WHEN n % 1000 = 0 THEN n - 1 ELSE n END AS k) AS d;"
    )
