"""Rollback: the old release back, with its data and its files, proven; maintenance stays on.

Inside the deployment's window, before users were let in (the `@always` scenario), nothing was
written since the apps stopped: a database whose schema or rows differ from then is restored
from the proven dump plus the window dump of the tables written after it, in one transaction
that carries over the active maintenance records.

By hand, later (features/rollback.feature), users have written since the release: going back
reverses the release's migrations with its own code (`resources/way_back_window.py`), as
rehearsed on a fresh dump of today's data (`resources/way_back_rehearsal.py`); only a
migration that cannot be reversed leaves the release day's dump, restored once the operator
confirmed what it discards.

Either way the deploy checkout goes back to its commit from before the release with its local
changes, the secrets checkout to its branch, and the old images run (from their backups when
the registry no longer has them).
"""

from __future__ import annotations

from pathlib import Path

from atmo_release import compose_tags
from atmo_release.checks import require
from atmo_release.data import dumps, row_checks
from atmo_release.release_day.deployment import Deployment


def needed(deployment: Deployment) -> bool:
    """Only a run that touched the running release has something to roll back, and only until
    the first app's maintenance end was attempted: from then on users may be in, and what they
    write is production data that restoring the stopped reading would delete."""
    state = deployment.state
    return (
        not deployment.planning
        and (state.compose_edited or state.new_release_up)
        and not state.maintenance_ended
    )


def previous_tags(deployment: Deployment) -> dict[str, str]:
    return {
        app: compose_tags.split_reference(image)[1] or ""
        for app, image in deployment.state.previous_images.items()
    }


def _old_files_and_images(deployment: Deployment, images_ready: bool = False) -> None:
    """The old release's files, or, for a run whose record predates them, its tags only; and
    its images (`images_ready`: made ready before the window, so only checked)."""
    if deployment.state.release_files.get("checkout_head"):
        deployment.old_release.bring_back_files()
    else:
        deployment.note(
            "the record holds no deploy checkout commit from before the release: only the "
            "image tags are set back"
        )
        deployment.compose_edit.set_tags(previous_tags(deployment))
    if images_ready:
        deployment.old_release.check_images()
    else:
        deployment.old_release.make_images_ready()


def roll_back(deployment: Deployment, reason: str) -> None:
    """Inside the window: stop the new containers, restore what changed since the apps
    stopped, bring back the old release's files and images, start it."""
    tags = previous_tags(deployment)
    require(
        all(tags.values()),
        "the previous release's image tags are unknown: roll back by hand "
        f"with python -m atmo_release.compose_file and {deployment.compose.name} up -d",
    )
    state, databases = deployment.state, deployment.databases
    deployment.containers.stop()
    restored = []
    for name, before in state.schema_before.items():
        stopped = row_checks.checked(state.snapshot_before.get(name) or {})
        if databases.schema(name) == before and not (
            stopped and databases.changes_from(stopped, name)
        ):
            continue
        info = state.dumps.get(name) or {}
        require(
            bool(info.get("path")),
            f"the schema or rows of {name} changed and no dump of it is recorded: "
            "restore it by hand before starting the old release",
        )
        restored.append(
            deployment.restores.restore(name, Path(str(info["path"])), info.get("window"))
        )
    _old_files_and_images(deployment)
    deployment.containers.up()
    state.new_release_up = False
    state.rollback = {
        "why": reason,
        "images": tags,
        "restored": restored or "no database (schema unchanged)",
    }
    deployment.record.facts["rollback"] = state.rollback
    deployment.note(
        f"rolled back to {tags} because {reason}; restored: {', '.join(restored) or 'no database'}"
    )


def go_back(deployment: Deployment) -> None:
    """By hand, after the release was in use: stop, then per database the rehearsed way back
    (its migrations reversed, or the confirmed restore of the release day's dump, what it
    discards dumped first), the old release's files and images, start."""
    state, tags = deployment.state, previous_tags(deployment)
    deployment.containers.stop()
    state.stopped_now = {name: deployment.db.fingerprints(name) for name in state.way_back}
    deployment.record.facts["stopped_now"] = state.stopped_now
    ways: dict[str, str] = {}
    for name, info in state.way_back.items():
        if info["irreversible"]:
            kept = _dump_what_is_discarded(deployment, name)
            dump = state.dumps[name]
            restored = deployment.restores.restore(name, Path(dump["path"]), dump.get("window"))
            ways[name] = f"restored {restored}; what it discarded is kept in {kept}"
        elif info["migrations"]:
            deployment.way_back_window.reverse(name)
            ways[name] = "reversed " + ", ".join(info["migrations"])
        else:
            ways[name] = "nothing to reverse"
    _old_files_and_images(deployment, images_ready=True)
    deployment.containers.up()
    state.new_release_up = False
    state.rollback = {"why": "rolled back by hand", "images": tags, "way_back": ways}
    deployment.record.facts["rollback"] = state.rollback
    deployment.note(f"rolled back to {tags}: " + "; ".join(f"{n}: {w}" for n, w in ways.items()))


def _dump_what_is_discarded(deployment: Deployment, name: str) -> str:
    """The stopped database dumped whole before the restore replaces it: nothing is lost."""
    path = dumps.dump_name(
        f"{dumps.kind_for(name)}-discarded",
        deployment.day,
        deployment.env.backup_dir,
        deployment.target.exists,
    )
    env = deployment.env
    dumps.dump(deployment.target, env.database, deployment.password, deployment.compose, name, path)
    return str(path)


def check_old_release_answers(deployment: Deployment) -> None:
    """The rolled-back images run, answer, and serve the versions from before the run."""
    tags = deployment.state.rollback["images"]
    deployment.readiness.wait("rollback_readiness")
    deployment.containers.check_running(
        {app: f"{deployment.service(app).image}:{tags[app]}" for app in deployment.apps}
    )
    deployment.readiness.check_versions_as_before()


def check_rows_as_before(deployment: Deployment) -> None:
    """Every table exactly as the apps left it when they stopped: no write lost, none added."""
    deployment.databases.check_rows_as_stopped()
    deployment.state.rollback["proven"] = True


def check_rows_gone_back(deployment: Deployment) -> None:
    """After going back by hand: every row kept or changed only as the way back changes it."""
    deployment.way_back_window.check_rows()
    deployment.state.rollback["proven"] = True
