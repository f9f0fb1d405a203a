"""The faults that turn each later check of first_deploy.feature red (see prove_probe)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from atmo_release.release_day.first_deploy import FirstDeployment
from tests.rehearsal.faults import code_committed

CHECKOUTS = (
    "both checkouts are at their upstream heads, the secrets on the environment's branch, "
    "and the compose file is there"
)
ANSWERING = "every app runs the release's image and answers with the release's version"
MIGRATED = "no migration is left unapplied and the old production's database is untouched"
ROWS_KEPT = "the new deployment holds every row of the old production, by count and by checksum"


@contextmanager
def local_commit(first_deploy_run: FirstDeployment) -> Iterator[None]:
    """A commit made in the fresh deploy checkout, not upstream."""
    git = ["git", "-C", str(first_deploy_run.env.deploy_dir)]
    author = ["-c", "user.name=fault", "-c", "user.email=fault@example.org"]
    first_deploy_run.new.run(
        [*git, *author, "commit", "-q", "--allow-empty", "-m", "local"], "fault"
    )
    try:
        yield
    finally:
        first_deploy_run.new.run([*git, "reset", "-q", "--soft", "HEAD~1"], "undo the fault")


@contextmanager
def hot_fixed_atmosphere(first_deploy_run: FirstDeployment) -> Iterator[None]:
    """A commit in the running atmosphere container's code, after it served its version."""
    first_deploy_run.new.readiness.wait()
    with code_committed(first_deploy_run.new, "atmosphere"):
        yield


@contextmanager
def old_production_written(first_deploy_run: FirstDeployment) -> Iterator[None]:
    """An event written into the old production after its dump."""
    first_deploy_run.old_db.execute(
        "atmo_prod",
        "INSERT INTO core_event (instance_id, kind, payload, created_at) "
        "VALUES (NULL, 'fault', 'written after the dump', now())",
    )
    try:
        yield
    finally:
        first_deploy_run.old_db.execute("atmo_prod", "DELETE FROM core_event WHERE kind = 'fault'")


@contextmanager
def email_changed(first_deploy_run: FirstDeployment) -> Iterator[None]:
    """A user's email changed in the new database: same count, other values."""
    where = "WHERE id = (SELECT min(id) FROM core_atmosphereuser)"
    email = first_deploy_run.new.db.scalar(
        "atmo_prod", f"SELECT email FROM core_atmosphereuser {where}"
    )
    first_deploy_run.new.db.execute(
        "atmo_prod", f"UPDATE core_atmosphereuser SET email = 'x@y.org' {where}"
    )
    try:
        yield
    finally:
        first_deploy_run.new.db.execute(
            "atmo_prod", f"UPDATE core_atmosphereuser SET email = $e${email}$e$ {where}"
        )


FAULTS = {
    CHECKOUTS: local_commit,
    ANSWERING: hot_fixed_atmosphere,
    MIGRATED: old_production_written,
    ROWS_KEPT: email_changed,
}
