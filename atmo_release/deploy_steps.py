"""features/deploy.feature as plain calls, in order: for callers that need the whole deploy
without pytest-bdd (a benchmark, the rehearsal of a rollback)."""

from __future__ import annotations

from collections.abc import Callable

from atmo_release.deployment import Deployment, last_recorded_secrets_commit

Step = tuple[str, str, Callable[[], object]]


def deploy_steps(d: Deployment) -> list[Step]:
    """(scenario, step, action) for every line of deploy.feature, rollback excluded."""

    def each_app(action: Callable[[str], object]) -> Callable[[], None]:
        def run() -> None:
            for app in d.apps:
                action(app)

        return run

    def secret_changes() -> None:
        d.secrets.list_changes(last_recorded_secrets_commit(d.reports_dir.parent, d.env.name))

    def window_dumps_checked() -> None:
        d.window_dumps.check()
        d.window_copies.load()

    def pulled_and_up() -> None:
        d.window_copies.migrate_beside()
        d.containers.pull_and_up()

    pre, dump, mnt = "Preflight", "Dump the databases", "Start maintenance"
    sec, stop, co = "Check out the secrets", "Stop the containers", "Update the deploy checkout"
    new, use, end = "Start the new images", "Use and test", "End maintenance"
    maintenance, containers, dumps = d.maintenance, d.containers, d.proven_dumps
    return [
        (pre, "Docker answers", d.host.check_docker),
        (pre, "compose file and secrets exist", d.host.check_files),
        (pre, "secrets branch has every key", d.secrets.check_branch),
        (pre, "deploy checkout can fast-forward", d.checkout.check_can_fast_forward),
        (pre, "compose file names only known services", d.compose_edit.check_services_known),
        (pre, "running deployment recorded", lambda: (d.secrets.load(), d.record_running())),
        (pre, "previous release recorded", d.check_running_recorded),
        (pre, "room and clock", d.host.check_room_and_clock),
        (pre, "role can restore", d.restores.check_rights),
        (pre, "release images pulled", containers.pull_release_images),
        (pre, "release images on the host", containers.check_release_images_present),
        (dump, "databases dumped", dumps.dump),
        (dump, "dumps restore", dumps.check_restore),
        (dump, "migrations rehearsed on the copies", d.migration_rehearsal.rehearse),
        (dump, "rehearsed migrations checked", d.migration_rehearsal.check),
        (mnt, "maintenance started on troposphere", lambda: maintenance.start("troposphere")),
        (mnt, "maintenance started on atmosphere", lambda: maintenance.start("atmosphere")),
        (mnt, "one active record each", each_app(maintenance.check_one_active_record)),
        (mnt, "atmosphere answers 503", maintenance.check_atmosphere_503),
        (mnt, "troposphere maintenance page", maintenance.check_troposphere_page),
        (sec, "secrets branch checked out", d.secrets.check_out),
        (sec, "secrets checkout checked", d.secrets.check),
        (sec, "changed keys listed", secret_changes),
        (stop, "containers stopped", containers.stop),
        (stop, "every container exited", containers.check_all_exited),
        (stop, "nothing else connected", d.other_sessions.wait_until_gone),
        (stop, "databases read with nothing writing", d.databases.read_stopped),
        (stop, "tables written since the dump dumped again", d.window_dumps.dump_written_tables),
        (stop, "window dumps hold what was written", window_dumps_checked),
        (stop, "containers committed to backups", containers.back_up),
        (stop, "backups checked", containers.check_backups),
        (co, "checkout saved, reset and pulled", d.checkout.update),
        (co, "checkout at upstream head", d.checkout.check),
        (new, "compose file set to release tags", d.compose_edit.set_release_tags),
        (new, "docker-compose config checked", d.compose_edit.check_release_tags),
        (new, "new images pulled and started", pulled_and_up),
        (new, "containers run the release images", containers.check_running_release_images),
        (new, "apps ready", d.readiness.wait),
        (use, "versions report the new release", d.readiness.check_new_versions),
        (use, "no unapplied migration", d.readiness.check_migrations),
        (use, "no Traceback in logs", d.readiness.check_logs),
        (use, "rows kept or changed as rehearsed", d.databases.check_rows_kept),
        (use, "smoke checks hold in the window", lambda: d.smoke_checks.check("window")),
        (use, "browser journey", d.browser_journey.check),
        (use, "rows recorded row by row", d.way_back.record_release_rows),
        (end, "maintenance ended on troposphere", lambda: maintenance.stop("troposphere")),
        (end, "maintenance ended on atmosphere", lambda: maintenance.stop("atmosphere")),
        (end, "no active record", each_app(maintenance.check_no_active_record)),
        (end, "users let in again", maintenance.check_users_let_in),
        (end, "smoke checks hold after maintenance", lambda: d.smoke_checks.check("after")),
    ]


def deploy(d: Deployment) -> None:
    """Run every step in order, each in the record, halting at the first failure (raised)."""
    try:
        for section, step, action in deploy_steps(d):
            d.record.begin_step(section, step)
            try:
                action()
            except Exception as error:
                d.record.end_step("failed", str(error))
                raise
            d.record.end_step("passed")
    finally:
        d.proven_dumps.close_copies()
        d.window_copies.remove_left()
