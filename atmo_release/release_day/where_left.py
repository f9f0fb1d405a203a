"""Where a run left the stack, and the one command that safely goes on from there: what the
record ends with, whatever the outcome."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from atmo_release import compose_tags
from atmo_release.checks import CheckFailed
from atmo_release.resources.containers import Containers
from atmo_release.resources.maintenance import Maintenance

if TYPE_CHECKING:
    from atmo_release.resources.run import Run


def maintenance_now(deployment: Run) -> tuple[dict[str, bool], str]:
    """Each app's maintenance as its database says now; when a database cannot be read (down,
    or its password not learnt yet), what this run's own steps did, with the reason."""
    try:
        return {
            app: deployment.resource(Maintenance).active(app) > 0 for app in deployment.apps
        }, ""
    except CheckFailed as error:
        return dict(deployment.state.maintenance_on), str(error)


def _maintenance_described(deployment: Run) -> Any:
    on, unread = maintenance_now(deployment)
    if unread and any(on.values()):
        return f"unknown: {unread}; this run started it on {', '.join(a for a in on if on[a])}"
    return on if any(on.values()) else "no"


def stack_state(deployment: Run) -> dict[str, Any]:
    state = deployment.state
    described: dict[str, Any] = {
        "maintenance on": _maintenance_described(deployment),
        "containers stopped by this run": state.stopped,
        "backups": state.backups or "none taken",
        "compose file edited": state.compose_edited,
        "new release started": state.new_release_up,
        "maintenance end attempted (users may be in)": state.maintenance_ended or "no",
    }
    try:
        described["containers now"] = {
            s: f"{c.status} {c.image}" for s, c in deployment.resource(Containers).now().items()
        }
    except CheckFailed as error:
        described["containers now"] = f"unknown ({error})"
    return described


def next_safe_command(deployment: Run) -> str:
    state, env = deployment.state, deployment.env
    compose = shlex.join(deployment.compose.up()[:-2])
    rolls_back = bool(deployment.record.facts.get("rolls_back"))
    feature = "rollback" if rolls_back else "deploy"
    rerun = f"pytest features/{feature}.feature --env={env.name} --release={deployment.release}"
    if state.maintenance_ended and not state.rollback and not rolls_back:
        return _users_may_be_in(deployment)
    if not any(maintenance_now(deployment)[0].values()):
        return f"nothing was changed; fix the cause above, then: {rerun}"
    stop = (
        deployment.resource(Maintenance).stop_command("troposphere")
        + " (then the same for atmosphere)"
    )
    jobs = deployment.record.facts.get("restore_jobs") or {}
    unseen = [job["status"] for job in jobs.values() if job.get("verdict") != "committed"]
    if unseen:
        return (
            f"a restore was started on the host and not seen to commit ({', '.join(unseen)}); "
            f"maintenance is on: run pytest features/rollback.feature --env={env.name} "
            '(with --break-lock "<reason>" if this run\'s lock is left), which reads how it '
            "ended and goes back from there"
        )
    if state.rollback:
        if state.rollback.get("proven"):
            return (
                f"rolled back to {state.rollback['images']} and proven; maintenance is still "
                f"on: look at the old release, then end maintenance with: {stop}"
            )
        return (
            "a rollback ran but did not prove itself (see the failed step); maintenance "
            "is on: restore by hand from the dumps in the record, then check again"
        )
    if not state.stopped:
        return (
            "the old release still serves under maintenance; fix the cause, or end "
            f"maintenance with: {stop}"
        )
    if not state.new_release_up:
        back = shlex.join(
            arg
            for app, image in state.previous_images.items()
            for arg in ("--set", f"{app}={compose_tags.split_reference(image)[1]}")
        )
        backed_up = "and backed up" if state.backups else "(not backed up: no backup image)"
        return (
            f"the old release is stopped {backed_up}; to bring it back: "
            f"python -m atmo_release.compose_file {shlex.quote(str(env.compose_path))} {back} && "
            f"{compose} up -d"
        )
    return (
        f"the new release is up under maintenance; inspect with `{compose} logs`; to roll "
        f"back restore the database dumps, set the old tags and run `{compose} up -d`"
    )


def _users_may_be_in(deployment: Run) -> str:
    """Once maintenance ending was attempted: the release stays (it passed Use and test), and
    what is left is ending maintenance where the databases say it is still on, with the
    commands that do it (the app's container started first when it is not running)."""
    compose = deployment.compose.up()[:-2]
    on, unread = maintenance_now(deployment)
    still = [app for app in deployment.apps if on.get(app)]
    try:
        running = {
            s for s, c in deployment.resource(Containers).now().items() if c.status == "running"
        }
        down = sorted(set(deployment.apps) - running)
    except CheckFailed:
        running, down = set(deployment.apps), []
    head = (
        "the new release is up and passed Use and test, and ending maintenance was attempted "
        f"on {', '.join(deployment.state.maintenance_ended)}, so users may be back in: nothing "
        "was rolled back (restoring the dumps now would delete what they wrote)"
    )
    if unread:
        head += f"; whether maintenance is still on is unknown ({unread})"
    if still:
        commands = [
            *(shlex.join([*compose, "start", app]) for app in still if app not in running),
            *(deployment.resource(Maintenance).stop_command(app) for app in still),
        ]
        return (
            f"{head}; maintenance is still on for {', '.join(still)}: end it with: "
            + " && ".join(commands)
        )
    if down:
        return (
            f"{head}; maintenance is off, but {' and '.join(down)} "
            f"{'is' if len(down) == 1 else 'are'} not running: start with: "
            f"{shlex.join([*compose, 'up', '-d'])}"
        )
    return f"{head}; maintenance is off: fix the cause above, then check by hand that users get in"
