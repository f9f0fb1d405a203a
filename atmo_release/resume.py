"""Where an interrupted release stands, read from the target, so that the next run continues
there instead of repeating what is done (a second backup, a second maintenance record)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atmo_release.commands import git
from atmo_release.containers import image_labels
from atmo_release.deployment import Deployment
from atmo_release.records import facts, read_records


@dataclass(frozen=True)
class Progress:
    maintenance_on: bool
    secrets_on_branch: bool
    backed_up: bool
    stopped: bool
    checkout_current: bool
    release_up: bool

    def describe(self) -> str:
        return ", ".join(
            f"{name.replace('_', ' ')}: {'yes' if value else 'no'}"
            for name, value in vars(self).items()
        )


def newest_record(records_dir: Path, env: str, release: str | None = None) -> dict[str, Any] | None:
    """The newest deployment record of this env (and release, when given) that got as far as
    recording the running deployment."""
    return next(
        (
            data
            for _, data in read_records(records_dir, env)
            if release in (None, data.get("release")) and facts(data).get("previous_images")
        ),
        None,
    )


def unfinished_record(records_dir: Path, env: str, release: str) -> dict[str, Any] | None:
    """The newest record of this env and release, when that run did not finish."""
    newest = newest_record(records_dir, env, release)
    return newest if newest and newest.get("outcome") in ("halted", "running") else None


def survey(deployment: Deployment) -> Progress:
    """Re-read the target: what of this release's sections has already taken effect."""
    target, env = deployment.target, deployment.env
    active = [
        (deployment.title, deployment.message)
        in deployment.db.active_records(
            deployment.service(app).database, deployment.service(app).maintenance_table
        )
        for app in deployment.apps
    ]
    branch = target.run(git.current_branch(env.secrets_dir)).stdout.strip()
    clean = not target.run(git.status(env.secrets_dir)).stdout.strip()
    containers = deployment.containers()
    backups = [
        image_labels(target, deployment.backup_name(service)) is not None for service in containers
    ]
    target.run(git.fetch(env.deploy_dir))
    head = target.run(git.rev_parse(env.deploy_dir, "HEAD")).stdout.strip()
    upstream = target.run(git.rev_parse(env.deploy_dir, "@{u}")).stdout.strip()
    return Progress(
        maintenance_on=all(active),
        secrets_on_branch=branch == env.secrets_branch and clean,
        backed_up=bool(backups) and all(backups),
        stopped=bool(containers) and all(c.status == "exited" for c in containers.values()),
        checkout_current=bool(head) and head == upstream,
        release_up=all(
            app in containers
            and containers[app].status == "running"
            and containers[app].image == deployment.target_image(app)
            for app in deployment.apps
        ),
    )


def adopt(deployment: Deployment, record: dict[str, Any]) -> None:
    """Take over what the interrupted run learnt before it changed anything."""
    facts = record.get("facts") or {}
    deployment.resumed_from = str(record.get("run_id", "?"))
    deployment.previous_images = dict(facts.get("previous_images") or {})
    deployment.versions_before = dict(facts.get("versions_before") or {})
    deployment.snapshot_preflight = dict(facts.get("snapshot_preflight") or {})
    deployment.snapshot_before = dict(facts.get("snapshot_before") or {})
    deployment.rehearsed = dict(facts.get("migration_rehearsal") or {})
    deployment.schema_before = dict(facts.get("schema_before") or {})
    deployment.dumps = dict(facts.get("dumps") or {})
    deployment.record.previous_release = str(record.get("previous_release", ""))
    for key in (
        "previous_images",
        "versions_before",
        "snapshot_preflight",
        "snapshot_before",
        "migration_rehearsal",
        "schema_before",
        "dumps",
    ):
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
    """Let the stack state fields say what the survey found (for the record's closing state)."""
    deployment.maintenance_on = {app: progress.maintenance_on for app in deployment.apps}
    deployment.stopped = progress.stopped or progress.release_up
    deployment.backups = (
        {s: deployment.backup_name(s) for s in deployment.previous_images}
        if progress.backed_up
        else {}
    )
    deployment.new_release_up = progress.release_up
