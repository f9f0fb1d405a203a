"""features/deploy.feature as plain calls, in order: for callers that need the whole deploy
without pytest-bdd (a benchmark, the rehearsal of a rollback). The feature file states the order;
a unit test fails when this list drifts from it."""

from __future__ import annotations

from collections.abc import Callable

from atmo_release.release_day import use_and_test
from atmo_release.release_day.deployment import Deployment, last_recorded_secrets_commit

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
        d.window_copies.migrate_beside(d.containers.pull_and_up)

    pre, dump = (
        "Preflight, before anything changes",
        "Dump the databases and prove the dumps restore",
    )
    mnt, sec = "Start maintenance", "Check out the secrets"
    stop, co = "Stop the containers and back them up", "Update the deploy checkout"
    new, use, end = "Start the new images", "Use and test", "End maintenance"
    maintenance, containers, dumps = d.maintenance, d.containers, d.proven_dumps

    def take(key: str) -> Callable[[], None]:
        return lambda: use_and_test.take(d, key)

    def environment_file_valid() -> None:
        d.host.check_environment_file()
        d.smoke_checks.check_runner()

    # Each line as deploy.feature words it: tests/unit/test_unit_runbook_order.py holds the two
    # to the same order.
    return [
        (pre, "the environment file is valid", environment_file_valid),
        (pre, "the crew chief and the driver are named", d.check_roles),
        (pre, "Docker answers", d.host.check_docker),
        (pre, "the compose file and the secrets checkout exist", d.host.check_files),
        (pre, "the secrets branch has every key the apps need", d.secrets.check_branch),
        (
            pre,
            "the deploy checkout can fast-forward to upstream",
            d.checkout.check_can_fast_forward,
        ),
        (
            pre,
            "the compose file names only services the environment knows",
            d.compose_edit.check_services_known,
        ),
        (
            pre,
            "upstream's compose file with the release's tags shows the release's images in "
            "docker-compose config",
            d.compose_edit.check_upstream_release_tags,
        ),
        (
            pre,
            "the running deployment is recorded",
            lambda: (d.secrets.load(), d.record_running()),
        ),
        (
            pre,
            "the previous release, its versions and its rows are in the record",
            d.check_running_recorded,
        ),
        (
            pre,
            "there is room for the backups and dumps and the clock is right",
            d.host.check_room_and_clock,
        ),
        (pre, "the database's role can do what a rollback's restore does", d.restores.check_rights),
        (pre, "the release images are pulled", containers.pull_release_images),
        (pre, "the release images are on the deploy host", containers.check_release_images_present),
        (dump, "each database is dumped into the backup directory", dumps.dump),
        (
            dump,
            "each dump restores into a throwaway PostgreSQL with the same row counts",
            dumps.check_restore,
        ),
        (
            dump,
            "the release's migrations are run on the restored copies",
            d.migration_rehearsal.rehearse,
        ),
        (
            dump,
            "the migrations succeed there and what they change in each table is recorded",
            d.migration_rehearsal.check,
        ),
        (mnt, "maintenance is started on troposphere", lambda: maintenance.start("troposphere")),
        (mnt, "maintenance is started on atmosphere", lambda: maintenance.start("atmosphere")),
        (
            mnt,
            "each database holds exactly one active maintenance record with the title and message",
            each_app(maintenance.check_one_active_record),
        ),
        (mnt, "the atmosphere API answers 503 with the message", maintenance.check_atmosphere_503),
        (
            mnt,
            "troposphere sends users to the maintenance page with the message",
            maintenance.check_troposphere_page,
        ),
        (sec, "the environment's branch of the secrets is checked out", d.secrets.check_out),
        (
            sec,
            "the secrets checkout is on that branch with a clean tree and every key the apps need",
            d.secrets.check,
        ),
        (
            sec,
            "the keys changed since the last deployment are listed with their values masked",
            secret_changes,
        ),
        (stop, "the containers are stopped", containers.stop),
        (stop, "every service container has exited", containers.check_all_exited),
        (stop, "nothing else is connected to the databases", d.other_sessions.wait_until_gone),
        (
            stop,
            "the databases are read now that nothing writes to them",
            d.databases.read_stopped,
        ),
        (
            stop,
            "every table written since the proven dumps is dumped again",
            d.window_dumps.dump_written_tables,
        ),
        (
            stop,
            "each window dump holds the rows the stopped database has in those tables",
            window_dumps_checked,
        ),
        (stop, "each service container is committed to a backup image", containers.back_up),
        (
            stop,
            "each backup image exists and records the image its container ran",
            containers.check_backups,
        ),
        (
            co,
            "the local changes and incoming commits are saved and the checkout is reset and pulled",
            d.checkout.update,
        ),
        (
            co,
            "the deploy checkout is at the upstream head and what was local is saved in the record",
            d.checkout.check,
        ),
        (
            new,
            "the compose file is set to the release's image tags",
            d.compose_edit.set_release_tags,
        ),
        (
            new,
            "docker-compose config shows the release's images and only image lines changed",
            d.compose_edit.check_release_tags,
        ),
        (new, "the new images are pulled and started", pulled_and_up),
        (
            new,
            "every service container runs the release's image",
            containers.check_running_release_images,
        ),
        (new, "the apps are ready within the environment's timeout", d.readiness.wait),
        (use, "the version endpoints report the new release", take("versions")),
        (
            use,
            "no migration is left unapplied and the apps reach the database",
            take("migrations"),
        ),
        (use, "no container logged a Traceback since it started", take("logs")),
        (
            use,
            "every row is kept, changed only as the rehearsed migrations change it",
            take("rows"),
        ),
        (
            use,
            "the environment's smoke checks hold inside the maintenance window",
            take("smoke"),
        ),
        (
            use,
            "in a browser, ordinary users meet the maintenance page and the exempt user sees "
            "their instances",
            take("browser"),
        ),
        (
            use,
            "the rows of each table the migrations stamp are recorded row by row as the "
            "upgrade left them",
            d.release_rows.save_stamped,
        ),
        (end, "maintenance is ended on troposphere", lambda: maintenance.stop("troposphere")),
        (end, "maintenance is ended on atmosphere", lambda: maintenance.stop("atmosphere")),
        (end, "no maintenance record is active", each_app(maintenance.check_no_active_record)),
        (end, "users are let in again", maintenance.check_users_let_in),
        (
            end,
            "the environment's smoke checks hold again now that maintenance has ended",
            lambda: d.smoke_checks.check("after"),
        ),
        (
            end,
            "the rows of every other table are recorded row by row from the copies migrated "
            "beside the upgrade",
            d.release_rows.save_from_copies,
        ),
    ]


def deploy(d: Deployment) -> None:
    """Run every step in order, each in the record, halting at the first failure (raised)."""
    d.browser_journey.warm()
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
        d.reads_ahead.settle()
        d.proven_dumps.close_copies()
        d.window_copies.remove_left()
        d.browser_journey.close()
