"""Time the suite's dump-and-verify against bare pg_dump + restore on the same ~1 GB database.

    python bench/dump_verify.py              # about 1 GB
    python bench/dump_verify.py --rows 200000   # a small smoke run

A throwaway source PostgreSQL (atmo-rehearsal/postgres:15) is filled with generate_series rows
carrying text payload. Then, in one run and in this order:
  suite       row_counts + dumps.dump (plain, host pg_dump) + throwaway_copy.verify_dump
              (throwaway server started, restored with psql, every table counted, removed)
  bare plain  pg_dump (plain) + psql into an already running server
  bare custom pg_dump -Fc + pg_restore into an already running server
The bare restores get a server started beforehand (not timed) with the same settings as the
suite's throwaway, so the ratio is the suite's overhead: container start, counts, checks.
Target: the suite takes at most 2x each bare variant. Writes bench/results/dump_verify-*.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import docker
from _common import table, verdict, write_result
from testcontainers.community.postgres import PostgresContainer

from atmo_release.commands.compose import Compose
from atmo_release.data import dumps, throwaway_copy
from atmo_release.data.client import DatabaseClient
from atmo_release.environment import Database
from atmo_release.labels import RUN_LABEL, owner_labels
from atmo_release.target import open_target
from rehearsal.images import POSTGRES_IMAGE, ensure_images

TARGET_RATIO = 2.0
USER, PASSWORD, DBNAME = "atmo_app", "bench-password", "atmo_prod"
# Payload of 480 hex characters per event row (15 different md5s): below the TOAST threshold, so
# the database really is about 1 GB by default, and a dump compresses only as hex text does.
PAYLOAD = " || ".join(f"md5((n * 15 + {k})::text)" for k in range(15))
GENERATE = """
CREATE TABLE core_atmosphereuser (id serial PRIMARY KEY, username text UNIQUE, email text);
CREATE TABLE core_instance (id serial PRIMARY KEY, owner_id int REFERENCES core_atmosphereuser,
    name text, status text, created_at timestamptz);
CREATE TABLE instance_event (id bigserial PRIMARY KEY, instance_id int REFERENCES core_instance,
    kind text, body text, at timestamptz);
INSERT INTO core_atmosphereuser (username, email)
    SELECT 'user' || n, 'user' || n || '@example.org' FROM generate_series(1, {users}) n;
INSERT INTO core_instance (owner_id, name, status, created_at)
    SELECT 1 + n % {users}, 'vm-' || n, (ARRAY['active','suspended','deleted'])[1 + n % 3],
           now() - n * interval '1 minute' FROM generate_series(1, {instances}) n;
INSERT INTO instance_event (instance_id, kind, body, at)
    SELECT 1 + n % {instances}, 'status', {payload}, now()
    FROM generate_series(1, {rows}) n;
CREATE INDEX ON instance_event (instance_id);
ANALYZE;
"""


def log(line: str) -> None:
    print(line, flush=True)


def start_server(run_id: str, tuned: bool) -> PostgresContainer:
    container = PostgresContainer(
        POSTGRES_IMAGE, username=USER, password=PASSWORD, dbname=DBNAME, driver=None
    )
    container.ports["5432/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
    if tuned:  # the same settings as the suite's throwaway verify server
        settings = [arg for item in throwaway_copy.THROWAWAY_SETTINGS for arg in ("-c", item)]
        container.with_command(["postgres", *settings])
    container.with_kwargs(labels={RUN_LABEL: run_id, **owner_labels()})
    container.start()
    return container


def psql_in(container: PostgresContainer, sql: str, dbname: str = DBNAME) -> str:
    wrapped = container.get_wrapped_container()
    argv = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-U", USER, "-d", dbname, "-c", sql]
    rc, output = wrapped.exec_run(argv)
    if rc != 0:
        raise RuntimeError(output.decode()[-500:])
    return str(output.decode().strip())


def timed(argv: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(
        argv, check=True, env={**os.environ, "PGPASSWORD": PASSWORD}, stdout=subprocess.DEVNULL
    )
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_500_000, help="instance_event rows")
    parser.add_argument("--keep-files", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    ensure_images([POSTGRES_IMAGE], log=lambda line: None)
    run_id = f"bench-dump-{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="atmo-bench-dump-"))
    containers: list[PostgresContainer] = []
    figures: dict[str, Any] = {"rows": args.rows}
    try:
        source = start_server(run_id, tuned=True)
        containers.append(source)
        port = int(source.get_exposed_port(5432))
        started = time.monotonic()
        users, instances = 20_000, max(1, args.rows // 4)
        sql = GENERATE.format(users=users, instances=instances, rows=args.rows, payload=PAYLOAD)
        psql_in(source, sql)
        figures["generate_s"] = round(time.monotonic() - started, 1)
        figures["database_bytes"] = int(psql_in(source, f"SELECT pg_database_size('{DBNAME}')"))
        log(f"generated {figures['database_bytes'] / 1e9:.2f} GB in {figures['generate_s']} s")

        config = Database("host", USER, (DBNAME,), "bench", "127.0.0.1", port)
        target = open_target()
        client = DatabaseClient(target, config, PASSWORD, Compose(("docker-compose",), "-", "-"))

        # The suite: counts, dump, verify.
        started = time.monotonic()
        counts = dumps.row_counts(client, DBNAME)
        counted = time.monotonic() - started
        path = dumps.dump_name("atmo", date.today(), work, Path.exists)
        taken = dumps.dump(target, config, PASSWORD, client.compose, DBNAME, path)
        verified = throwaway_copy.verify_dump(target, path, counts, run_id=run_id)
        suite_s = time.monotonic() - started
        figures["suite"] = {
            "total_s": round(suite_s, 1),
            "source_count_s": round(counted, 1),
            "dump_s": round(taken.seconds, 1),
            "dump_bytes": taken.bytes,
            "verify": verified.as_record(),
        }
        log(f"suite: {suite_s:.1f} s ({figures['suite']})")
        path.unlink()

        # Bare: restore servers started beforehand, not timed.
        restore = start_server(run_id, tuned=True)
        containers.append(restore)
        rport = str(restore.get_exposed_port(5432))
        host = ["-h", "127.0.0.1", "-U", USER, "-w"]
        plain = work / "bare.sql"
        dump_s = timed(["pg_dump", *host, "-p", str(port), "-d", DBNAME, "-f", str(plain)])
        psql_in(restore, "CREATE DATABASE bare_plain")
        restore_s = timed(
            [
                "psql",
                *host,
                "-p",
                rport,
                "-d",
                "bare_plain",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-f",
                str(plain),
            ]
        )
        figures["bare_plain"] = {
            "dump_s": round(dump_s, 1),
            "restore_s": round(restore_s, 1),
            "total_s": round(dump_s + restore_s, 1),
            "dump_bytes": plain.stat().st_size,
        }
        log(f"bare plain: {figures['bare_plain']}")
        plain.unlink()
        custom = work / "bare.dump"
        dump_s = timed(["pg_dump", *host, "-p", str(port), "-d", DBNAME, "-Fc", "-f", str(custom)])
        psql_in(restore, "CREATE DATABASE bare_custom")
        restore_s = timed(
            ["pg_restore", *host, "-p", rport, "-d", "bare_custom", "--exit-on-error", str(custom)]
        )
        figures["bare_custom"] = {
            "dump_s": round(dump_s, 1),
            "restore_s": round(restore_s, 1),
            "total_s": round(dump_s + restore_s, 1),
            "dump_bytes": custom.stat().st_size,
        }
        log(f"bare custom: {figures['bare_custom']}")
        custom.unlink()
    finally:
        for container in containers:
            container.stop()
        client_docker = docker.from_env()
        selector = {"label": f"{RUN_LABEL}={run_id}"}
        for leftover in client_docker.containers.list(all=True, filters=selector):
            leftover.remove(force=True, v=True)
        if not args.keep_files:
            for leftover_file in work.glob("*"):
                leftover_file.unlink()
            work.rmdir()

    ratios = {
        name: round(figures["suite"]["total_s"] / figures[name]["total_s"], 2)
        for name in ("bare_plain", "bare_custom")
    }
    worst = max(ratios.values())
    figures["ratios"] = ratios
    figures["target_ratio"] = TARGET_RATIO
    figures["verdict"] = verdict(worst, TARGET_RATIO)
    rows = [
        ["suite dump + verify", figures["suite"]["total_s"], "-"],
        ["bare pg_dump + psql", figures["bare_plain"]["total_s"], ratios["bare_plain"]],
        ["bare pg_dump -Fc + pg_restore", figures["bare_custom"]["total_s"], ratios["bare_custom"]],
    ]
    print(table(["what", "seconds", "suite / this"], rows))
    print(f"worst ratio {worst} (target <= {TARGET_RATIO}): {figures['verdict']}")
    print(f"written to {write_result('dump_verify', figures)}")
    return 0 if figures["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
