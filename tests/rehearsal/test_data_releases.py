"""The data releases change data exactly as rehearsal/README.md ("Data releases") says: v37-94 by
an atomic in-place data migration, v37-95 by a start-up "cleanup" outside any migration (v37-96
and v37-97, whose migrations stamp the clock and chance, in tests/rehearsal/test_exact_rows.py).

Real containers, labelled with this module's run id and pid (the helpers of
tests/test_standin_apps.py), removed at the end, also after a failure.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from rehearsal.images import DATA_RELEASES
from tests.rehearsal.test_standin_apps import Rehearsal, image, manage, rehearsal_of

pytestmark = pytest.mark.docker

CLEANUP_LINE = "atmosphere: start-up cleanup done"
# Rows as the v37-2 schema holds them: events 5 and 6 repeat 1 and 3 exactly (6 without an
# instance, as 3), event 7 differs from 1 only by its kind's case; allocation 2 is open-ended.
USERS_INSTANCES = (
    "INSERT INTO core_atmosphereuser (id, username, email, is_staff) VALUES "
    "(1, 'alice', 'alice@example.org', false), (2, 'bob', 'bob@example.org', false);"
    "INSERT INTO core_instance (id, name, owner_id, status, created_at) VALUES "
    "(1, 'web', 1, 'active', '2022-01-01 00:00+00'),"
    "(2, 'db', 2, 'suspended', '2022-01-02 00:00+00');"
)
EVENTS = (
    "INSERT INTO core_event (id, instance_id, kind, payload, created_at) VALUES "
    "(1, 1, 'INSTANCE.LAUNCHED', 'p1', '2022-01-05 10:00+00'),"
    "(2, 2, 'instance.stopped', 'p2', '2022-01-05 11:00+00'),"
    "(3, NULL, 'Allocation.Exceeded', 'p3', '2022-01-05 12:00+00'),"
    "(4, 1, 'instance.stopped', 'p4', '2022-01-05 13:00+00'),"
    "(5, 1, 'INSTANCE.LAUNCHED', 'p1', '2022-01-05 10:00+00'),"
    "(6, NULL, 'Allocation.Exceeded', 'p3', '2022-01-05 12:00+00'),"
    "(7, 1, 'instance.launched', 'p1', '2022-01-05 10:00+00');"
)
ALLOCATIONS = (
    "INSERT INTO core_allocation (id, owner_id, compute_allowed, start_date, end_date) VALUES "
    "(1, 1, 168, '2021-01-01 00:00+00', '2021-07-01 00:00+00'),"
    "(2, 2, 336, '2021-03-15 00:00+00', NULL),"
    "(3, 2, 504, '2022-01-01 00:00+00', '2023-01-01 00:00+00');"
)
EVENT_ROWS = (
    "SELECT id, coalesce(instance_id::text, '-'), kind, payload FROM core_event ORDER BY id"
)
ALLOCATION_ROWS = (
    "SELECT id, to_char(start_date AT TIME ZONE 'UTC', 'YYYY-MM-DD'), "
    "coalesce(to_char(end_date AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '-') "
    "FROM core_allocation ORDER BY id"
)
APPLIED = "SELECT string_agg(name, ',' ORDER BY id) FROM django_migrations WHERE app = 'core'"


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    yield from rehearsal_of(("v37-2", "v37-3", *DATA_RELEASES), tmp_path_factory)


def seeded_at_v37_2(rehearsal: Rehearsal, db: str, *inserts: str) -> Path:
    """A database migrated by v37-2 (core_event and core_allocation exist from 0001) holding
    the rows given; returns the secrets that point atmosphere at it."""
    rehearsal.create_database(db)
    secrets = rehearsal.secrets(db, atmosphere_db=db)
    old = rehearsal.run_app("atmosphere", "v37-2", secrets)
    rehearsal.psql(db, USERS_INSTANCES + "".join(inserts))
    old.remove(force=True)
    return secrets


def git_sha(rehearsal: Rehearsal, release: str) -> str:
    output = rehearsal.client.containers.run(
        image("atmosphere", release),
        entrypoint=["git", "rev-parse", "HEAD"],
        labels=rehearsal.labels,
        remove=True,
    )
    return output.decode().strip()


def restart(app: Any) -> None:
    """`docker restart` the app (its entrypoint runs again) and wait until it serves."""
    app.restart(timeout=5)
    deadline = time.monotonic() + 60
    while True:
        app.reload()
        assert app.status in ("created", "running", "restarting"), app.logs().decode()
        published = app.ports.get("8000/tcp")
        if published:
            app.url = f"http://127.0.0.1:{published[0]['HostPort']}"
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{app.url}/api/status/celery", timeout=2).ok:
                    return
        assert time.monotonic() < deadline, app.logs().decode()
        time.sleep(0.3)


def assert_serves_as_its_own_release(app: Any, rehearsal: Rehearsal, release: str) -> None:
    version = requests.get(f"{app.url}/api/v2/version", timeout=5)
    assert version.status_code == 200
    assert version.json()["git_branch"] == release
    assert version.json()["git_sha"] == git_sha(rehearsal, release) != git_sha(rehearsal, "v37-3")
    instances = requests.get(f"{app.url}/api/v2/instances", timeout=5)
    assert instances.status_code == 200 and len(instances.json()["results"]) == 2
    assert manage(app, "migrate", "--check")[0] == 0


def test_v37_94_cleans_data_in_place_atomically(rehearsal: Rehearsal) -> None:
    secrets = seeded_at_v37_2(rehearsal, "data94", EVENTS, ALLOCATIONS)
    events, allocations = (
        rehearsal.psql("data94", EVENT_ROWS),
        rehearsal.psql("data94", ALLOCATION_ROWS),
    )

    # Atomic: a failure at its last statement (lower-casing the kinds) leaves nothing changed.
    rehearsal.psql(
        "data94",
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;"
        "CREATE TRIGGER refuse BEFORE UPDATE ON core_event FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    failed = rehearsal.client.containers.run(
        image("atmosphere", "v37-94"),
        detach=True,
        labels=rehearsal.labels,
        network=rehearsal.network.name,
        volumes={str(secrets): {"bind": "/opt/dev/atmosphere-docker-secrets", "mode": "ro"}},
    )
    assert rehearsal.wait_exit(failed) != 0
    assert "refused by the test" in failed.logs().decode()
    assert rehearsal.psql("data94", EVENT_ROWS) == events
    assert rehearsal.psql("data94", ALLOCATION_ROWS) == allocations
    assert rehearsal.psql("data94", APPLIED) == "0001_initial,0002_instance_is_running_volume"
    rehearsal.psql("data94", "DROP TRIGGER refuse ON core_event; DROP FUNCTION refuse()")

    app = rehearsal.run_app("atmosphere", "v37-94", secrets)
    assert_serves_as_its_own_release(app, rehearsal, "v37-94")
    assert rehearsal.psql("data94", APPLIED).endswith(",0003_data_cleanup")
    # 5 and 6 were exact copies of 1 and 3: gone; 7 (another case) stays, lower-cased like all.
    assert rehearsal.psql("data94", EVENT_ROWS).splitlines() == [
        "1|1|instance.launched|p1",
        "2|2|instance.stopped|p2",
        "3|-|allocation.exceeded|p3",
        "4|1|instance.stopped|p4",
        "7|1|instance.launched|p1",
    ]
    assert rehearsal.psql("data94", ALLOCATION_ROWS).splitlines() == [
        "1|2021-01-01|2021-07-01",
        "2|2021-03-15|2022-03-15",
        "3|2022-01-01|2023-01-01",
    ]
    assert "Traceback" not in app.logs().decode()

    # Applied once: a restart changes nothing more.
    rehearsal.psql(
        "data94",
        "INSERT INTO core_event (id, instance_id, kind, payload, created_at) "
        "VALUES (8, 1, 'instance.stopped', 'p4', '2022-01-05 13:00+00')",
    )
    restart(app)
    assert int(rehearsal.psql("data94", "SELECT count(*) FROM core_event")) == 6


def test_v37_95_deletes_ended_allocations_on_every_start(rehearsal: Rehearsal) -> None:
    secrets = seeded_at_v37_2(rehearsal, "data95", EVENTS, ALLOCATIONS)
    everything = {
        table: rehearsal.psql(
            "data95",
            f"SELECT count(*) || ':' || md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} t",
        )
        for table in ("core_atmosphereuser", "core_event")
    }

    # v37-3 keeps every allocation: the loss is v37-95's.
    previous = rehearsal.run_app("atmosphere", "v37-3", secrets)
    assert rehearsal.psql("data95", "SELECT count(*) FROM core_allocation") == "3"
    previous.remove(force=True)

    app = rehearsal.run_app("atmosphere", "v37-95", secrets)
    assert_serves_as_its_own_release(app, rehearsal, "v37-95")
    assert rehearsal.psql("data95", ALLOCATION_ROWS).splitlines() == ["2|2021-03-15|-"]
    for table, rows in everything.items():
        assert (
            rehearsal.psql(
                "data95",
                f"SELECT count(*) || ':' || md5(string_agg(t::text, '|' "
                f"ORDER BY t.id)) FROM {table} t",
            )
            == rows
        )
    # Not a migration: nothing pending, nothing extra recorded.
    assert rehearsal.psql("data95", APPLIED) == "0001_initial,0002_instance_is_running_volume"
    stdout, stderr = app.logs(stderr=False).decode(), app.logs(stdout=False).decode()
    assert stdout.count(CLEANUP_LINE) == 1
    assert "Traceback" not in stderr
    assert not any(word in stderr.lower() for word in ("allocation", "cleanup", "delet"))

    # Every start: an allocation ended since then is gone after the next restart.
    rehearsal.psql(
        "data95",
        "UPDATE core_allocation SET end_date = '2022-03-15 00:00+00' WHERE id = 2;"
        "INSERT INTO core_allocation (id, owner_id, compute_allowed, start_date, end_date) "
        "VALUES (4, 1, 168, '2022-06-01 00:00+00', NULL)",
    )
    restart(app)
    assert rehearsal.psql("data95", "SELECT id FROM core_allocation") == "4"
    assert app.logs(stderr=False).decode().count(CLEANUP_LINE) == 2


@pytest.mark.parametrize("release", DATA_RELEASES)
def test_troposphere_data_releases_are_v37_3(rehearsal: Rehearsal, release: str) -> None:
    db = f"tropo{release[-2:]}"
    rehearsal.create_database(db)
    app = rehearsal.run_app(
        "troposphere", release, rehearsal.secrets(f"t{release}", troposphere_db=db)
    )
    assert requests.get(f"{app.url}/tropo-api/version", timeout=5).json()["git_branch"] == release
    columns = rehearsal.psql(
        db,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'api_userpreferences' AND column_name LIKE '%beta%'",
    )
    assert columns == "hide_beta_interface"
    app.remove(force=True)
