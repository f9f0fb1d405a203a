"""The rehearsal stack itself: production as the runbook finds it, and data that survives."""

from __future__ import annotations

import subprocess

import docker
import pytest

from rehearsal.stack import RUN_LABEL, RehearsalStack

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
