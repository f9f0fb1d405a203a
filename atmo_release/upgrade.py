"""features/deploy.feature as plain calls, in order: for callers that need the whole upgrade
without pytest-bdd (a benchmark, the rehearsal of a rollback)."""

from __future__ import annotations

from collections.abc import Callable

from atmo_release.deployment import Deployment, last_recorded_secrets_commit

Step = tuple[str, str, Callable[[], object]]


def upgrade_steps(d: Deployment) -> list[Step]:
    """(scenario, step, action) for every line of deploy.feature, rollback excluded."""

    def each_app(action: Callable[[str], object]) -> Callable[[], None]:
        def run() -> None:
            for app in d.apps:
                action(app)

        return run

    def secret_changes() -> None:
        d.list_secret_changes(last_recorded_secrets_commit(d.reports_dir.parent, d.env.name))

    pre, dump, mnt = "Preflight", "Dump the databases", "Start maintenance"
    sec, stop, co = "Check out the secrets", "Stop the containers", "Update the deploy checkout"
    new, use, end = "Start the new images", "Use and test", "End maintenance"
    return [
        (pre, "Docker answers", d.check_docker),
        (pre, "compose file and secrets exist", d.check_files),
        (pre, "running deployment recorded", lambda: (d.load_secrets(), d.inspect_running())),
        (pre, "room and clock", d.check_room_and_clock),
        (pre, "release images pulled", d.pull_target_images),
        (pre, "release images on the host", d.check_target_images_present),
        (dump, "databases dumped", d.dump_databases),
        (dump, "dumps restore", d.check_dumps_restore),
        (dump, "migrations rehearsed on the copies", d.rehearse_migrations),
        (dump, "rehearsed migrations checked", d.check_migration_rehearsal),
        (mnt, "maintenance started on troposphere", lambda: d.start_maintenance("troposphere")),
        (mnt, "maintenance started on atmosphere", lambda: d.start_maintenance("atmosphere")),
        (mnt, "one active record each", each_app(d.check_one_active_record)),
        (mnt, "atmosphere answers 503", d.check_atmosphere_503),
        (mnt, "troposphere maintenance page", d.check_troposphere_maintenance_page),
        (sec, "secrets branch checked out", d.checkout_secrets),
        (sec, "secrets checkout checked", d.check_secrets),
        (sec, "changed keys listed", secret_changes),
        (stop, "containers stopped", d.stop),
        (stop, "every container exited", d.check_all_exited),
        (stop, "databases read with nothing writing", d.read_stopped_databases),
        (stop, "tables written since the dump dumped again", d.dump_written_tables),
        (stop, "window dumps hold what was written", d.check_window_dumps),
        (stop, "containers committed to backups", d.back_up),
        (stop, "backups checked", d.check_backups),
        (co, "checkout saved, reset and pulled", d.update_checkout),
        (co, "checkout at upstream head", d.check_checkout),
        (new, "compose file set to release tags", d.edit_compose_file),
        (new, "docker-compose config checked", d.check_compose_file),
        (new, "new images pulled and started", d.pull_and_up),
        (new, "containers run the release images", d.check_running_target_images),
        (new, "apps ready", d.wait_until_ready),
        (use, "versions report the new release", d.check_versions),
        (use, "no unapplied migration", d.check_migrations),
        (use, "no Traceback in logs", d.check_logs),
        (use, "rows kept or changed as rehearsed", d.check_rows_kept),
        (end, "maintenance ended on troposphere", lambda: d.stop_maintenance("troposphere")),
        (end, "maintenance ended on atmosphere", lambda: d.stop_maintenance("atmosphere")),
        (end, "no active record", each_app(d.check_no_active_record)),
        (end, "users let in again", d.check_users_let_in),
    ]


def upgrade(d: Deployment) -> None:
    """Run every step in order, each in the record, halting at the first failure (raised)."""
    try:
        for section, step, action in upgrade_steps(d):
            d.record.begin_step(section, step)
            try:
                action()
            except Exception as error:
                d.record.end_step("failed", str(error))
                raise
            d.record.end_step("passed")
    finally:
        d.close_copies()
