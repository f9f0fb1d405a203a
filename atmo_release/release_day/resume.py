"""Where an interrupted release stands, read from the target, so that the next run continues
there instead of repeating what is done (a second backup, a second maintenance record)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atmo_release.commands import git
from atmo_release.record.history import facts, read_records
from atmo_release.release_day.deployment import Deployment
from atmo_release.resources.containers import image_labels
from atmo_release.resources.run_state import ADOPTED


@dataclass(frozen=True)
class Progress:
    maintenance_on: bool
    secrets_on_branch: bool
    backed_up: bool
    stopped: bool
    checkout_current: bool
    release_up: bool
    # From the interrupted run's record: it attempted to end maintenance, so users may be in.
    users_let_in: bool = False

    def describe(self) -> str:
        return ", ".join(
            f"{name.replace('_', ' ')}: {'yes' if value else 'no'}"
            for name, value in vars(self).items()
        )


def newest_record(
    records_dir: Path,
    env: str,
    release: str | None = None,
    where: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """The newest deployment record of this env (and release, when given) that got as far as
    recording the running deployment, and ran where `where` says (`Deployment.where`): a record
    of another compose project or file, such as another rehearsal stack's, is never adopted.
    A record from before runs said where they ran is taken as this deployment's."""
    return next(
        (
            data
            for _, data in read_records(records_dir, env)
            if release in (None, data.get("release"))
            and facts(data).get("previous_images")
            and facts(data).get("deployment", where) == where
        ),
        None,
    )


def deployment_of(
    records_dir: Path, env: str, release: str, where: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """The newest deploy record of `release` on this deployment, a rollback's own aside: what a
    rollback by hand goes back from."""
    return next(
        (
            data
            for _, data in read_records(records_dir, env)
            if data.get("release") == release
            and facts(data).get("previous_images")
            and not facts(data).get("rolls_back")
            and facts(data).get("deployment", where) == where
        ),
        None,
    )


def unfinished_record(
    records_dir: Path, env: str, release: str, where: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """The newest record of this env and release, when that run did not finish."""
    newest = newest_record(records_dir, env, release, where)
    return newest if newest and newest.get("outcome") in ("halted", "running") else None


def survey(deployment: Deployment) -> Progress:
    """Re-read the target: what of this release's sections has already taken effect."""
    target, env, containers = deployment.target, deployment.env, deployment.containers
    running = containers.now()
    backups = [
        image_labels(target, containers.backup_name(service)) is not None for service in running
    ]
    target.run(git.fetch(env.deploy_dir))
    head = target.run(git.rev_parse(env.deploy_dir, "HEAD")).stdout.strip()
    upstream = target.run(git.rev_parse(env.deploy_dir, "@{u}")).stdout.strip()
    return Progress(
        maintenance_on=all(deployment.maintenance.is_on(app) for app in deployment.apps),
        secrets_on_branch=deployment.secrets.is_on_branch(),
        backed_up=bool(backups) and all(backups),
        stopped=bool(running) and all(c.status == "exited" for c in running.values()),
        checkout_current=bool(head) and head == upstream,
        release_up=all(
            app in running
            and running[app].status == "running"
            and running[app].image == deployment.release_image(app)
            for app in deployment.apps
        ),
        users_let_in=bool(deployment.state.maintenance_ended),
    )


def adopt(deployment: Deployment, record: dict[str, Any]) -> None:
    """Take over what the interrupted run learnt before it changed anything."""
    facts = record.get("facts") or {}
    deployment.state.resumed_from = str(record.get("run_id", "?"))
    deployment.state.adopt(facts)
    deployment.record.previous_release = str(record.get("previous_release", ""))
    for key in ADOPTED.values():
        deployment.record.facts[key] = facts.get(key)
    started = (record.get("maintenance_window") or {}).get("started")
    if started:
        deployment.record.maintenance_window["started"] = started
    deployment.record.facts["resumed_from"] = {
        "run_id": record.get("run_id"),
        "outcome": record.get("outcome"),
        "halted_at": record.get("halted_at", ""),
        "driver": record.get("driver"),
    }


def apply(deployment: Deployment, progress: Progress) -> None:
    """Let the run's state say what the survey found (for the record's closing state)."""
    state = deployment.state
    state.maintenance_on = {app: progress.maintenance_on for app in deployment.apps}
    state.stopped = progress.stopped or progress.release_up
    state.backups = (
        {s: deployment.containers.backup_name(s) for s in state.previous_images}
        if progress.backed_up
        else {}
    )
    state.new_release_up = progress.release_up
