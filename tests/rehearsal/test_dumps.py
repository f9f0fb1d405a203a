"""Dumps taken from a real PostgreSQL, restored into a throwaway one, and every bad dump refused.

The source is an atmo-rehearsal/postgres:15 container playing the host database; the dumps are
taken by the host's pg_dump as the owner. Every container carries the rehearsal and pid labels
and is removed at the end, also after a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import docker
import pytest

from atmo_release.checks import CheckFailed
from atmo_release.data import dumps, throwaway_copy
from atmo_release.environment import Database
from atmo_release.labels import RUN_LABEL
from atmo_release.target import LocalTarget
from rehearsal.images import POSTGRES_IMAGE
from tests.rehearsal.host_database import COMPOSE, PASSWORD, db_client, host_database, leftovers

pytestmark = pytest.mark.docker

SEED = {
    "atmo_prod": (
        "CREATE TABLE core_atmosphereuser (id serial PRIMARY KEY, username text UNIQUE, "
        "email text, api_token text);"
        "CREATE TABLE core_instance (id serial PRIMARY KEY, name text, owner_id int "
        "REFERENCES core_atmosphereuser(id), status text);"
        "CREATE TABLE maintenance_record (id serial PRIMARY KEY, title text, end_date date);"
        "INSERT INTO core_atmosphereuser (username, email, api_token) SELECT 'user' || n, "
        "E'tab\\there ''quoted'' \\\\ back', md5(n::text) FROM generate_series(1, 50) n;"
        "INSERT INTO core_instance (name, owner_id, status) SELECT 'vm-' || n, 1 + n % 50, "
        "'active' FROM generate_series(1, 3000) n;"
    ),
    "troposphere": (
        "CREATE TABLE api_userpreferences (id serial PRIMARY KEY, username text, beta boolean);"
        "INSERT INTO api_userpreferences (username, beta) SELECT 'user' || n, n % 2 = 0 "
        "FROM generate_series(1, 40) n;"
    ),
}


@pytest.fixture(scope="module")
def run_id() -> str:
    return f"dumps-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def source(run_id: str) -> Iterator[Database]:
    with host_database(run_id, SEED) as config:
        yield config


@pytest.fixture(scope="module")
def atmo_dump(source: Database, tmp_path_factory: pytest.TempPathFactory) -> dumps.DumpResult:
    folder = tmp_path_factory.mktemp("backups")
    path = dumps.dump_name("atmo", date.today(), folder, Path.exists)
    return dumps.dump(LocalTarget(), source, PASSWORD, COMPOSE, "atmo_prod", path)


def test_row_counts_are_exact(source: Database) -> None:
    assert dumps.row_counts(db_client(source), "atmo_prod") == {
        "core_atmosphereuser": 50,
        "core_instance": 3000,
        "maintenance_record": 0,
    }


@pytest.mark.parametrize("dbname", ["atmo_prod", "troposphere"])
def test_dump_and_verify(source: Database, tmp_path: Path, run_id: str, dbname: str) -> None:
    kind = dumps.kind_for(dbname)
    path = dumps.dump_name(kind, date(2026, 12, 1), tmp_path, Path.exists)
    taken = dumps.dump(LocalTarget(), source, PASSWORD, COMPOSE, dbname, path)
    assert taken.path.name == f"{kind}-2026-12-01.sql" and taken.bytes > 1000
    again = dumps.dump_name(kind, date(2026, 12, 1), tmp_path, Path.exists)
    assert again.name == f"{kind}-2026-12-01.2.sql"
    dumps.dump(LocalTarget(), source, PASSWORD, COMPOSE, dbname, again)
    assert path.stat().st_size == taken.bytes  # the first dump is untouched

    counts = dumps.row_counts(db_client(source), dbname)
    verified = throwaway_copy.verify_dump(LocalTarget(), path, counts, run_id=f"{run_id}-ok")
    assert verified.counts == counts and verified.rows == sum(counts.values())
    assert verified.server_major == 15 and verified.bytes == taken.bytes
    assert {"start", "restore", "count", "total"} <= set(verified.seconds)
    assert leftovers(f"{run_id}-ok") == []  # the throwaway server is gone


def test_differing_counts_are_refused(atmo_dump: dumps.DumpResult, run_id: str) -> None:
    counts = {"core_atmosphereuser": 50, "core_instance": 3001, "maintenance_record": 0}
    with pytest.raises(CheckFailed, match="core_instance: 3001 rows in the source, 3000 restored"):
        throwaway_copy.verify_dump(LocalTarget(), atmo_dump.path, counts, run_id=f"{run_id}-counts")
    assert leftovers(f"{run_id}-counts") == []


def test_empty_dump_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "atmo-2026-12-01.sql"
    empty.touch()
    with pytest.raises(CheckFailed, match="is empty"):
        throwaway_copy.verify_dump(LocalTarget(), empty, {"core_instance": 3000})


def test_truncated_dump_is_refused(atmo_dump: dumps.DumpResult, tmp_path: Path) -> None:
    data = atmo_dump.path.read_bytes()
    cut = tmp_path / "cut.sql"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckFailed, match="truncated"):
        throwaway_copy.verify_dump(LocalTarget(), cut, {"core_instance": 3000})


def test_cut_dump_with_a_forged_trailer_fails_the_restore_or_the_counts(
    atmo_dump: dumps.DumpResult, tmp_path: Path, run_id: str, source: Database
) -> None:
    data = atmo_dump.path.read_bytes()
    forged = tmp_path / "forged.sql"
    forged.write_bytes(data[: len(data) // 2] + b"\n" + dumps.TRAILER + b"\n")
    counts = dumps.row_counts(db_client(source), "atmo_prod")
    with pytest.raises(CheckFailed, match="could not be restored|row counts differ"):
        throwaway_copy.verify_dump(LocalTarget(), forged, counts, run_id=f"{run_id}-forged")
    assert leftovers(f"{run_id}-forged") == []


def test_garbage_is_refused(tmp_path: Path, run_id: str) -> None:
    garbage = tmp_path / "garbage.sql"
    garbage.write_bytes(os.urandom(20000))
    with pytest.raises(CheckFailed, match="truncated or not a plain pg_dump"):
        throwaway_copy.verify_dump(LocalTarget(), garbage, {})
    garbage.write_bytes(b"this is not SQL at all;\n" + dumps.TRAILER + b"\n")
    with pytest.raises(CheckFailed, match="could not be restored into .*syntax error"):
        throwaway_copy.verify_dump(LocalTarget(), garbage, {}, run_id=f"{run_id}-garbage")
    assert leftovers(f"{run_id}-garbage") == []


def test_unreachable_database_fails_at_dump_time(tmp_path: Path, source: Database) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    gone = Database("host", "atmo_app", ("atmo_prod",), "inis", "127.0.0.1", closed_port)
    path = tmp_path / "atmo-2026-12-01.sql"
    with pytest.raises(CheckFailed, match=r"pg_dump of atmo_prod from the host database .*failed"):
        dumps.dump(LocalTarget(), gone, PASSWORD, COMPOSE, "atmo_prod", path)
    assert not path.exists()
    with pytest.raises(CheckFailed, match="password authentication failed"):
        dumps.dump(LocalTarget(), source, "wrong-password", COMPOSE, "atmo_prod", path)
    assert not path.exists()


def labelled(kind: list[str], run_id: str) -> list[str]:
    """What `docker <kind> -q` lists with the run label of `run_id`."""
    argv = ["docker", *kind, "-q", "--filter", f"label={RUN_LABEL}={run_id}"]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()


def test_close_leaves_no_container_and_no_volume(atmo_dump: dumps.DumpResult, run_id: str) -> None:
    """The copy's data volume carries the run label, so listing by it is no empty proof."""
    closing = f"{run_id}-close"
    copy = throwaway_copy.ThrowawayCopy(
        LocalTarget(), atmo_dump.path, POSTGRES_IMAGE, "atmo_app", closing
    )
    try:
        copy.open()
        assert copy.counts["core_instance"] == 3000
        containers = labelled(["ps", "-a", "--no-trunc"], closing)
        volumes = labelled(["volume", "ls"], closing)
        client = docker.from_env()
        mounts = client.containers.get(copy.container_id).attrs["Mounts"]
        client.close()
        assert containers == [copy.container_id]
        assert sorted(volumes) == sorted(m["Name"] for m in mounts if m["Type"] == "volume")
        assert len(volumes) == 1  # PGDATA: the image declares no other volume
    finally:
        copy.close()
    try:
        assert labelled(["ps", "-a"], closing) == [] and labelled(["volume", "ls"], closing) == []
        assert set(copy.seconds) == {"start", "restore", "count", "remove"}
    finally:
        leftovers(closing, remove=True)  # only when close() failed
