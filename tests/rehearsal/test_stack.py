"""The rehearsal stack itself: production as the runbook finds it, and data that survives."""

from __future__ import annotations

import subprocess

import docker
import pytest

from rehearsal.stack import RehearsalStack
from rehearsal.sweep import RUN_LABEL

pytestmark = pytest.mark.docker


def test_production_runs_the_older_release_from_the_registry(fresh_stack: RehearsalStack) -> None:
    client = docker.from_env()
    containers = client.containers.list(
        filters={"label": f"com.docker.compose.project={fresh_stack.project}"}
    )
    assert sorted(c.attrs["Config"]["Image"] for c in containers) == [
        f"{fresh_stack.image('atmosphere')}:release-v37-2",
        f"{fresh_stack.image('troposphere')}:release-v37-2",
    ]
    assert all(c.labels[RUN_LABEL] == fresh_stack.run_id for c in containers)
    git = ["git", "-C", str(fresh_stack.deploy_dir)]
    assert (
        subprocess.run(
            [*git, "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "M docker-compose.prod.yml"
    )
    subprocess.run([*git, "fetch", "-q"], check=True)
    behind = subprocess.run(
        [*git, "rev-list", "--count", "HEAD..@{u}"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert behind == "1", "one upstream commit waits to be pulled"


def test_seeded_rows_survive_stop_and_up(fresh_stack: RehearsalStack) -> None:
    before = fresh_stack.counts()
    assert before == {
        "atmo_prod.core_atmosphereuser": 13,
        "atmo_prod.core_instance": 40,
        "atmo_prod.core_event": 30,
        "atmo_prod.core_allocation": 12,
        "troposphere.api_userpreferences": 12,
    }
    subprocess.run(fresh_stack.compose("stop"), check=True, capture_output=True)
    subprocess.run(fresh_stack.compose("up", "-d"), check=True, capture_output=True)
    fresh_stack.wait_ready()
    assert fresh_stack.counts() == before


def test_the_secrets_hold_this_rehearsals_random_password(fresh_stack: RehearsalStack) -> None:
    assert len(fresh_stack.password) >= 20
    ini = (fresh_stack.secrets_dir / "inis" / "atmosphere.ini").read_text()
    assert f"DATABASE_PASSWORD = {fresh_stack.password}" in ini


def test_the_small_seed_holds_what_the_data_releases_change(fresh_stack: RehearsalStack) -> None:
    duplicates = fresh_stack.psql(
        "atmo_prod",
        "SELECT count(*) - count(DISTINCT (instance_id, kind, payload, created_at)) "
        "FROM core_event",
    )
    assert duplicates.strip() == "5"  # v37-94 deletes them
    assert (
        fresh_stack.psql(
            "atmo_prod", "SELECT count(*) FROM core_event WHERE kind <> lower(kind)"
        ).strip()
        == "12"
    )  # v37-94 lower-cases them
    assert (
        fresh_stack.psql(
            "atmo_prod", "SELECT count(*) FILTER (WHERE end_date IS NULL) FROM core_allocation"
        ).strip()
        == "4"
    )  # v37-94 gives them an end date; v37-95 deletes the other 8
    assert 5 < fresh_stack.timings["seed_mb"] < 20


def test_grow_to_a_size_with_realistic_rows(fresh_stack: RehearsalStack) -> None:
    """Last in this module: it changes the module's stack for good."""
    before = fresh_stack.counts()
    fresh_stack.grow(40)
    assert fresh_stack.database_size() >= 40 * 1024 * 1024
    assert fresh_stack.timings["seed_mb"] >= 40 and fresh_stack.timings["grow"] > 0
    after = fresh_stack.counts()
    added = {table: after[table] - before[table] for table in after}
    assert added["atmo_prod.core_event"] > 50_000
    assert 0 < added["atmo_prod.core_atmosphereuser"] < added["atmo_prod.core_allocation"]
    assert added["atmo_prod.core_allocation"] < added["atmo_prod.core_instance"]
    assert added["troposphere.api_userpreferences"] == 0
    lengths = fresh_stack.psql(
        "atmo_prod",
        "SELECT min(length(payload)), round(avg(length(payload))), count(DISTINCT payload) "
        "FROM core_event WHERE id > 30",
    ).strip()
    shortest, average, distinct = (int(value) for value in lengths.split("|"))
    assert shortest >= 430 and 470 <= average <= 490
    assert added["atmo_prod.core_event"] * 0.99 < distinct < added["atmo_prod.core_event"]
    # core_event's foreign key index is back, and the apps still serve.
    indexes = fresh_stack.psql(
        "atmo_prod", "SELECT indexdef FROM pg_indexes WHERE tablename = 'core_event'"
    )
    assert "(instance_id)" in indexes
    fresh_stack.wait_ready()
    # Growing again continues the numbering: no new copies beyond one in a thousand.
    fresh_stack.grow(56)
    copies = fresh_stack.psql(
        "atmo_prod",
        "SELECT count(*) - count(DISTINCT (instance_id, kind, payload, created_at)) "
        "FROM core_event",
    )
    assert int(copies) < fresh_stack.counts()["atmo_prod.core_event"] // 900
