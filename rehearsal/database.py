"""The stack's PostgreSQL as production's apps see it: its client, its small seed, its measures.

The small seed (about a hundred rows) holds what the data releases change and what the data
checks look for; `rehearsal.growth` makes it production-sized.
"""

from __future__ import annotations

import os
import subprocess
from typing import Protocol

DB_USER, DB_NAMES = "atmo_app", ("atmo_prod", "troposphere")
EXEMPT_USER = "atmo-release-bot"
MIB = 1024 * 1024
# Event kinds as the seeds write them: some in upper or mixed case (release v37-94 lower-cases).
EVENT_KINDS = (
    "instance.launched",
    "instance.stopped",
    "INSTANCE.RESIZED",
    "Allocation.Exceeded",
    "volume.attached",
)
# Event payloads as SQL over the event's number k: short in the small seed (growth has longer).
SEED_PAYLOAD = """format('{"event": %s, "detail": "%s"}', k, md5(k::text))"""
COUNTED_TABLES = {
    "atmo_prod": ("core_atmosphereuser", "core_instance", "core_event", "core_allocation"),
    "troposphere": ("api_userpreferences",),
}


class Psql(Protocol):
    """One statement (or several) on a database of the stack; the output unaligned."""

    def __call__(self, database: str, sql: str, timeout: float = 60) -> str: ...


def psql(port: int, password: str, database: str, sql: str, timeout: float = 60) -> str:
    """Run `sql` with psql on 127.0.0.1:`port` as DB_USER; fail with psql's last words."""
    done = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            DB_USER,
            "-d",
            database,
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PGPASSWORD": password},
        check=False,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql on {database} failed: {done.stderr.strip()[-300:]}")
    return done.stdout


def database_size(psql: Psql, database: str = "atmo_prod") -> int:
    return int(psql(database, f"SELECT pg_database_size('{database}')"))


def counts(psql: Psql) -> dict[str, int]:
    """Rows of the seeded tables, as `database.table`."""
    return {
        f"{db}.{t}": int(psql(db, f"SELECT count(*) FROM {t}"))
        for db, names in COUNTED_TABLES.items()
        for t in names
    }


def seed(psql: Psql, token: str) -> None:
    """The small seed; the exempt bot user gets the smoke checks' API `token`."""
    users = [(EXEMPT_USER, "true", token)] + [(f"user{n:02d}", "false", None) for n in range(12)]
    psql(
        "atmo_prod",
        "INSERT INTO core_atmosphereuser (username, email, is_staff, "
        "api_token) VALUES "
        + ", ".join(
            f"('{name}', '{name}@example.org', {staff}, {repr(key) if key else 'NULL'})"
            for name, staff, key in users
        ),
    )
    statuses = ("active", "suspended", "deleted", "active")
    psql(
        "atmo_prod",
        "INSERT INTO core_instance (name, owner_id, status, created_at) "
        "SELECT 'vm-' || n, (SELECT min(id) FROM core_atmosphereuser) + n % 12, "
        f"(ARRAY{list(statuses)})[1 + n % 4], now() - n * interval '1 day' "
        "FROM generate_series(1, 40) AS n",
    )
    # 30 events: n 26..30 repeat events 4, 8, 12, 16 and 20 exactly (instance, kind,
    # payload, created_at), 12's without an instance; some kinds are not lower case.
    psql(
        "atmo_prod",
        "INSERT INTO core_event (instance_id, kind, payload, created_at) "
        "SELECT CASE WHEN k % 6 = 0 THEN NULL "
        "ELSE (SELECT min(id) FROM core_instance) + k % 40 END, "
        f"(ARRAY{list(EVENT_KINDS)})[1 + k % {len(EVENT_KINDS)}], "
        f"{SEED_PAYLOAD}, "
        "timestamptz '2022-01-03 09:00:00+00' + k * interval '1 hour' "
        "FROM generate_series(1, 30) AS n, "
        "LATERAL (SELECT CASE WHEN n > 25 THEN (n - 25) * 4 ELSE n END AS k) AS d "
        "ORDER BY n",
    )
    # 12 allocations, one per user (not the bot); every third is open-ended (end_date NULL).
    psql(
        "atmo_prod",
        "INSERT INTO core_allocation (owner_id, compute_allowed, start_date, end_date) "
        "SELECT u.id, 168 * (1 + n % 4), s, "
        "CASE WHEN n % 3 = 0 THEN NULL ELSE s + (3 + n) * interval '1 month' END "
        "FROM generate_series(0, 11) AS n "
        "JOIN core_atmosphereuser u ON u.username = 'user' || lpad(n::text, 2, '0'), "
        "LATERAL (SELECT timestamptz '2021-01-01 00:00:00+00' "
        "+ n * interval '1 month' AS s) AS d "
        "ORDER BY n",
    )
    psql(
        "troposphere",
        "INSERT INTO api_userpreferences (username, show_beta_interface, "
        "created_date) SELECT 'user' || lpad(n::text, 2, '0'), n % 3 = 0, now() "
        "FROM generate_series(0, 11) AS n",
    )
