"""Each check of the upgrade goes red when its own fault is injected into a real rehearsal.

The tests walk one stack through the runbook in order; at each section a fault is injected,
the check must fail, the fault is undone, and the same check must pass again.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.commands import docker as docker_argv
from atmo_release.commands import manage
from atmo_release.release_day.deployment import Deployment
from atmo_release.web import http_checks, journey
from rehearsal.stack import RehearsalStack
from tests.rehearsal.conftest import deployment_for
from tests.rehearsal.faults import (
    RUN,
    code_committed,
    docker,
    file_replaced_inside,
    renamed_table,
    rewritten,
    rows_deleted,
    unreachable_inside,
)

pytestmark = pytest.mark.docker
APPLICATION_PAGE = "/opt/dev/troposphere/api/templates/application.html"


@pytest.fixture(scope="module")
def deployment(
    fresh_stack: RehearsalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    deployment = deployment_for(fresh_stack, tmp_path_factory.mktemp("reports"))
    deployment.record.begin_step("faults", "injected")
    deployment.host.check_docker()
    deployment.host.check_files()
    deployment.secrets.load()
    deployment.record_running()
    deployment.containers.pull_release_images()
    deployment.proven_dumps.dump()
    deployment.proven_dumps.check_restore()
    try:
        yield deployment
    finally:
        deployment.proven_dumps.close_copies()


@pytest.mark.proves("each dump restores into a throwaway PostgreSQL with the same row counts")
def test_proven_dump_cut_in_half(deployment: Deployment) -> None:
    """The first dump cut in half on disk after it was taken."""
    path = Path(next(iter(deployment.state.dumps.values()))["path"])
    with rewritten(path, path.read_bytes()[: path.stat().st_size // 2]):
        with pytest.raises(CheckFailed, match=f"dump {path} is truncated .* do not end with"):
            deployment.proven_dumps.check_restore()
    assert set(deployment.proven_dumps.copies) == set(deployment.state.dumps)


@pytest.mark.proves("the migrations succeed there and what they change in each table is recorded")
def test_rehearsed_copy_with_an_unapplied_migration(deployment: Deployment) -> None:
    """The last applied migration forgotten by the rehearsed copy's django_migrations."""
    deployment.migration_rehearsal.rehearse()
    assert deployment.state.rehearsed["atmo_prod"]["migrations"]
    deployment.proven_dumps.copies["atmo_prod"].query(
        "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"
    )
    with pytest.raises(CheckFailed, match="still finds unapplied migrations on the rehearsed"):
        deployment.migration_rehearsal.check()
    assert not deployment.proven_dumps.copies


@pytest.mark.proves(
    "each database holds exactly one active maintenance record with the title and message"
)
def test_maintenance_command_that_writes_no_record(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A maintenance start that exits 0 but writes nothing (its --dry-run)."""
    with monkeypatch.context() as patch:
        patch.setattr(
            manage,
            "maintenance_start",
            lambda *a: [
                *manage.maintenance(
                    a[0], a[1], "start", "--dry-run", "--title", a[2], "--message", a[3]
                )
            ],
        )
        deployment.maintenance.start("troposphere")
        with pytest.raises(CheckFailed, match="holds 0 active maintenance records"):
            deployment.maintenance.check_one_active_record("troposphere")
    deployment.maintenance.start("troposphere")
    deployment.maintenance.start("atmosphere")
    deployment.maintenance.check_one_active_record("troposphere")
    deployment.maintenance.check_one_active_record("atmosphere")
    deployment.maintenance.check_atmosphere_503()
    deployment.maintenance.check_troposphere_page()


@pytest.mark.proves(
    "each database holds exactly one active maintenance record with the title and message"
)
def test_second_maintenance_start_is_seen(deployment: Deployment) -> None:
    """A second maintenance record started on atmosphere."""
    deployment.maintenance.start("atmosphere")
    deployment.maintenance.check_one_active_record("atmosphere")
    service = deployment.service("atmosphere")
    argv = deployment.compose.exec_(
        "atmosphere",
        manage.maintenance_start(
            service.venv, service.workdir, deployment.title, deployment.maintenance.message
        ),
    )
    assert deployment.target.run(argv).ok
    with pytest.raises(CheckFailed, match="holds 2 active"):
        deployment.maintenance.check_one_active_record("atmosphere")
    deployment.db.query(
        service.database,
        f"DELETE FROM {service.maintenance_table} WHERE id = "
        f"(SELECT max(id) FROM {service.maintenance_table})",
    )
    deployment.maintenance.check_one_active_record("atmosphere")


def test_hostile_title_lands_literally(deployment: Deployment) -> None:
    title = 'it\'s "v37-3" $(touch /tmp/pwned); rm -rf / `id`\nsecond line'
    service = deployment.service("troposphere")
    argv = deployment.compose.exec_(
        "troposphere", manage.maintenance_start(service.venv, service.workdir, title, "msg; $(id)")
    )
    assert deployment.target.run(argv).ok
    records = deployment.db.active_records(service.database, service.maintenance_table)
    assert (title, "msg; $(id)") in records
    deployment.db.query(
        service.database, f"DELETE FROM {service.maintenance_table} WHERE message = 'msg; $(id)'"
    )
    deployment.maintenance.check_one_active_record("troposphere")


@pytest.mark.proves(
    "the atmosphere API answers 503 with the message",
    "troposphere sends users to the maintenance page with the message",
)
def test_maintenance_message_changed_under_the_apps(deployment: Deployment) -> None:
    """Each app's active maintenance record rewritten with another message."""
    for app, check in (
        ("atmosphere", deployment.maintenance.check_atmosphere_503),
        ("troposphere", deployment.maintenance.check_troposphere_page),
    ):
        service = deployment.service(app)
        table, database = service.maintenance_table, service.database
        deployment.db.execute(
            database, f"UPDATE {table} SET message = 'Back at noon' WHERE end_date IS NULL"
        )
        try:
            with pytest.raises(
                CheckFailed,
                match=f"Back at noon.*expected .*{re.escape(deployment.maintenance.message)}",
            ):
                check()
        finally:
            deployment.db.execute(
                database,
                f"UPDATE {table} SET message = $m${deployment.maintenance.message}$m$ "
                "WHERE end_date IS NULL",
            )
        check()


@pytest.mark.proves("every service container has exited")
def test_service_still_running_after_stop(deployment: Deployment) -> None:
    """The troposphere container started again after the stop."""
    deployment.secrets.check_out()
    deployment.secrets.check()
    deployment.containers.stop()
    deployment.containers.check_all_exited()
    troposphere = deployment.containers.now()["troposphere"]
    docker("start", troposphere.id)
    with pytest.raises(CheckFailed, match="still running after stop"):
        deployment.containers.check_all_exited()
    docker("stop", troposphere.id)
    deployment.containers.check_all_exited()


@pytest.mark.proves("each window dump holds the rows the stopped database has in those tables")
def test_window_dump_that_misses_a_written_row(
    deployment: Deployment, fresh_stack: RehearsalStack
) -> None:
    """A row cut from each kind of window dump: the grown table's rows and a whole table."""
    fresh_stack.psql(  # a user's write after the proven dump, before the apps stopped
        "atmo_prod", "UPDATE core_atmosphereuser SET email = 'late@example.org' WHERE id = 1"
    )
    fresh_stack.psql(  # and a task's
        "atmo_prod",
        "INSERT INTO core_event (instance_id, kind, payload, created_at) "
        "SELECT NULL, 'task.tick', 'late', now() FROM generate_series(1, 3)",
    )
    fresh_stack.psql(  # a user launches an instance: a table the release's core.0002 migrates
        "atmo_prod",
        "INSERT INTO core_instance (name, owner_id, status, created_at) "
        "SELECT 'launched-late', min(id), 'active', now() FROM core_atmosphereuser",
    )
    deployment.databases.read_stopped()
    deployment.window_dumps.dump_written_tables()
    deployment.window_dumps.check()
    window = deployment.state.dumps["atmo_prod"]["window"]
    assert window["tables"] == ["core_atmosphereuser"]
    rows = Path(window["grown"]["core_event"]["path"])
    with rewritten(rows, b"".join(rows.read_bytes().splitlines(keepends=True)[:2])):
        with pytest.raises(CheckFailed, match="core_event: 3 rows in the stopped database, 2 in"):
            deployment.window_dumps.check()
    path = Path(window["path"])
    lines = path.read_bytes().splitlines(keepends=True)
    first_row = next(i for i, line in enumerate(lines) if line.startswith(b"COPY ")) + 1
    with rewritten(path, b"".join(lines[:first_row] + lines[first_row + 1 :])):
        with pytest.raises(CheckFailed, match="core_atmosphereuser: 13 rows in the stopped"):
            deployment.window_dumps.check()
    deployment.window_dumps.check()
    deployment.window_copies.load()  # onto the proven dump, they give the stopped database


@pytest.mark.proves("each backup image exists and records the image its container ran")
def test_backup_image_missing_or_of_another_image(deployment: Deployment) -> None:
    """The troposphere backup image removed, then committed recording another image."""
    deployment.containers.back_up()
    deployment.containers.check_backups()
    missing = deployment.state.backups["troposphere"]
    docker("image", "rm", missing)
    with pytest.raises(CheckFailed, match=f"backup image {missing} of troposphere does not"):
        deployment.containers.check_backups()
    troposphere = deployment.containers.now()["troposphere"]
    label = f"LABEL {docker_argv.BACKUP_FROM_LABEL}=atmo-rehearsal/other:v1"
    docker("commit", "--change", label, troposphere.id, missing)
    with pytest.raises(
        CheckFailed,
        match=f"records 'atmo-rehearsal/other:v1', but troposphere ran '{troposphere.image}'",
    ):
        deployment.containers.check_backups()
    docker("image", "rm", missing)
    deployment.containers.back_up()
    deployment.containers.check_backups()


@pytest.mark.proves(
    "the deploy checkout is at the upstream head and what was local is saved in the record"
)
def test_deploy_checkout_behind_upstream_or_its_saved_copy_changed(deployment: Deployment) -> None:
    """The checkout reset one commit back after the pull; the saved local diff edited."""
    deployment.checkout.update()
    deployment.checkout.check()
    checkout = ["git", "-C", str(deployment.env.deploy_dir)]
    head = subprocess.run([*checkout, "rev-parse", "HEAD"], **RUN).stdout.strip()
    subprocess.run([*checkout, "reset", "-q", "--hard", "HEAD~1"], **RUN)
    try:
        with pytest.raises(CheckFailed, match=f"is not the upstream head {head[:12]}"):
            deployment.checkout.check()
    finally:
        subprocess.run([*checkout, "reset", "-q", "--hard", head], **RUN)
    saved = Path(deployment.state.checkout_copies["local.diff"])
    with rewritten(saved, saved.read_bytes() + b"+edited after the reset\n"):
        with pytest.raises(CheckFailed, match=f"the saved copy {saved} does not hold what was"):
            deployment.checkout.check()
    deployment.checkout.check()


@pytest.mark.proves("docker-compose config shows the release's images and only image lines changed")
def test_compose_edit_that_leaves_an_old_tag(deployment: Deployment) -> None:
    """The compose file edited back to the old atmosphere tag, or a line other than an image."""
    deployment.compose_edit.set_release_tags()
    deployment.compose_edit.check_release_tags()
    path: Path = deployment.env.compose_path
    edited = path.read_text()
    path.write_text(edited.replace("atmosphere:release-v37-3", "atmosphere:release-v37-2"))
    with pytest.raises(CheckFailed, match="docker-compose config shows atmosphere image"):
        deployment.compose_edit.check_release_tags()
    path.write_text(edited.replace("version: '3'", "version: '3.0'"))
    with pytest.raises(CheckFailed, match="not an image line"):
        deployment.compose_edit.check_release_tags()
    path.write_text(edited)
    deployment.compose_edit.check_release_tags()


@pytest.mark.proves(
    "every service container runs the release's image",
    "the version endpoints report the new release",
)
def test_troposphere_started_again_on_the_old_image(deployment: Deployment) -> None:
    """troposphere brought up again from the old release's image after the upgrade."""
    deployment.window_copies.migrate_beside(deployment.containers.pull_and_up)
    deployment.containers.check_running_release_images()
    deployment.readiness.wait()
    deployment.readiness.check_new_versions()
    old, new = (
        deployment.state.previous_images["troposphere"],
        deployment.release_image("troposphere"),
    )
    deployment.compose_edit.set_tags({"troposphere": old.rpartition(":")[2]})
    deployment.containers.up()
    try:
        with pytest.raises(CheckFailed, match=f"troposphere runs {old}, expected {new}"):
            deployment.containers.check_running_release_images()
        deployment.readiness.wait()
        with pytest.raises(
            CheckFailed, match="troposphere still serves .*, the version from before"
        ):
            deployment.readiness.check_new_versions()
    finally:
        deployment.compose_edit.set_release_tags()
        deployment.containers.up()
    deployment.containers.check_running_release_images()
    deployment.readiness.wait()
    deployment.readiness.check_new_versions()


@pytest.mark.proves("the version endpoints report the new release")
def test_code_committed_under_the_running_atmosphere(deployment: Deployment) -> None:
    """A commit in the running atmosphere container's code, under the process that serves it."""
    deployment.readiness.check_new_versions()  # the process reads its version once
    with code_committed(deployment, "atmosphere"):
        with pytest.raises(CheckFailed, match="atmosphere serves [0-9a-f]{12} but its image holds"):
            deployment.readiness.check_new_versions()
    deployment.readiness.check_new_versions()


@pytest.mark.proves("no container logged a Traceback since it started")
def test_atmosphere_answering_500_logs_a_traceback(
    deployment: Deployment, fresh_stack: RehearsalStack
) -> None:
    """One request answered 500 while atmosphere's maintenance table was renamed."""
    deployment.readiness.check_logs()
    with renamed_table(fresh_stack, "atmo_prod", "maintenance_record"):
        version = deployment.service("atmosphere").url + http_checks.ATMOSPHERE_VERSION
        assert http_checks.get(version).status == 500
    with pytest.raises(CheckFailed, match="atmosphere logged a Traceback since it started: Trace"):
        deployment.readiness.check_logs()
    docker("restart", deployment.containers.now()["atmosphere"].id)
    deployment.readiness.wait()
    deployment.readiness.check_logs()


@pytest.mark.proves("the apps are ready within the environment's timeout")
def test_app_answering_500_after_up(
    deployment: Deployment, fresh_stack: RehearsalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """atmosphere's maintenance table renamed: its version endpoint answers 500."""
    monkeypatch.setattr(deployment, "env", replace(deployment.env, readiness_timeout_s=2.0))
    with renamed_table(fresh_stack, "atmo_prod", "maintenance_record"):
        with pytest.raises(CheckFailed, match="not ready within 2 s.*atmosphere"):
            deployment.readiness.wait()
    deployment.readiness.wait()


@pytest.mark.proves("no migration is left unapplied and the apps reach the database")
def test_migration_forgotten_by_the_live_database(
    deployment: Deployment, fresh_stack: RehearsalStack
) -> None:
    """The newest row of atmo_prod's django_migrations deleted under the running release."""
    deployment.readiness.check_migrations()
    newest = "id = (SELECT max(id) FROM django_migrations)"
    with rows_deleted(fresh_stack, "atmo_prod", "django_migrations", newest):
        with pytest.raises(
            CheckFailed, match=r"atmosphere: .* unapplied migration, found \w+\.\d{4}_\w+$"
        ):
            deployment.readiness.check_migrations()
    deployment.readiness.check_migrations()


@pytest.mark.proves("every row is kept, changed only as the rehearsed migrations change it")
def test_value_changed_in_a_migrated_column_of_a_written_table(
    deployment: Deployment, fresh_stack: RehearsalStack
) -> None:
    """The running flag of the instance launched after the proven dump flipped after the
    upgrade: a value in a column the release's core.0002 computes, in a table written since the
    dump (the judgement before the window copies compared only the other columns of it)."""
    deployment.readiness.check_new_versions()
    deployment.readiness.check_migrations()
    deployment.databases.check_rows_kept()
    flip = "UPDATE core_instance SET is_running = NOT is_running WHERE name = 'launched-late'"
    fresh_stack.psql("atmo_prod", flip)
    try:
        with pytest.raises(
            CheckFailed,
            match=r"atmo_prod: table core_instance: values changed in is_running \(compared with "
            r"the stopped rows as core\.0002_instance_is_running_volume change them, on a copy\)",
        ):
            deployment.databases.check_rows_kept()
    finally:
        fresh_stack.psql("atmo_prod", flip)
    deployment.databases.check_rows_kept()


@pytest.mark.proves("every row is kept, changed only as the rehearsed migrations change it")
def test_seeded_row_deleted(deployment: Deployment, fresh_stack: RehearsalStack) -> None:
    """An instance deleted, then a user's preference renamed, after the upgrade."""
    deployment.databases.check_rows_kept()
    oldest = "id = (SELECT min(id) FROM core_instance)"
    with rows_deleted(fresh_stack, "atmo_prod", "core_instance", oldest):
        with pytest.raises(CheckFailed, match="core_instance: 41 rows expected, 40 after"):
            deployment.databases.check_rows_kept()
    fresh_stack.psql(
        "troposphere",
        "UPDATE api_userpreferences SET username = 'renamed' "
        "WHERE id = (SELECT min(id) FROM api_userpreferences)",
    )
    with pytest.raises(CheckFailed, match="values changed in username"):
        deployment.databases.check_rows_kept()


@pytest.mark.proves("the environment's smoke checks hold inside the maintenance window")
def test_instance_list_answering_500(deployment: Deployment, fresh_stack: RehearsalStack) -> None:
    """atmo_prod's core_instance renamed under the new release: the instance list answers 500."""
    deployment.smoke_checks.check("window")
    with renamed_table(fresh_stack, "atmo_prod", "core_instance"):
        with pytest.raises(
            CheckFailed,
            match=r"^smoke checks failed inside the maintenance window: 'instance list' "
            r"\(http://127\.0\.0\.1:\d+/api/v2/instances as exempt\) expected 200 with the text "
            r"'\"results\"', found 500: '<!doctype html>",
        ):
            deployment.smoke_checks.check("window")
    results = deployment.record.facts["smoke_checks"]["inside the maintenance window"]
    assert [(r["name"], r["status"], r["result"]) for r in results] == [
        ("instance list", 500, "failed"),
        ("celery status", 200, "passed"),
    ]
    deployment.smoke_checks.check("window")


@pytest.mark.proves(
    "in a browser, ordinary users meet the maintenance page and the exempt user sees their "
    "instances"
)
def test_application_page_that_renders_without_the_instances(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """troposphere's application page edited in place to ask a wrong API path (a front end
    released against an endpoint that is not there): it renders, its instance list never loads."""
    deployment.browser_journey.check()
    seen = deployment.record.facts["browser_journey"]
    shown = seen["exempt user"]["instances_shown"]
    # At least the seed's three; the module's earlier faults may have launched more.
    assert shown == seen["exempt user"]["instances_from_the_api"] and len(shown) >= 3
    for who in ("ordinary user", "exempt user"):
        assert (deployment.reports_dir / seen[who]["screenshot"]).is_file()
    monkeypatch.setattr(journey, "SEE_TIMEOUT_S", 3.0)
    troposphere = deployment.containers.now()["troposphere"].id
    page = docker("exec", troposphere, "cat", APPLICATION_PAGE)
    wrong = page.replace('"/api/v2/instances"', '"/api/v2/instance"')
    with file_replaced_inside(troposphere, APPLICATION_PAGE, wrong):
        with pytest.raises(
            CheckFailed,
            match=rf"^the application page at http://127\.0\.0\.1:\d+/application shows 0 of "
            rf"the {len(shown)} instances the API lists for atmo-release-bot \(not vm-\d+, "
            r"vm-\d+, vm-\d+.*\); it says '.*Could not load your instances: the API answered "
            r"404\.'$",
        ):
            deployment.browser_journey.check()
    deployment.browser_journey.check()


@pytest.mark.proves(
    "in a browser, ordinary users meet the maintenance page and the exempt user sees their "
    "instances"
)
def test_sign_in_that_fails(deployment: Deployment) -> None:
    """troposphere cannot reach the service that checks passwords (atmosphere's /auth here, an
    identity provider on a real host): the exempt user's sign-in is refused."""
    troposphere = deployment.containers.now()["troposphere"].id
    with unreachable_inside(troposphere, "atmosphere"):
        with pytest.raises(
            CheckFailed,
            match=r"^signing in to troposphere as atmo-release-bot failed: the browser is still "
            r"at http://127\.0\.0\.1:\d+/login, which says '.*Sign-in failed: atmosphere could "
            r"not be asked \(<urlopen error \[Errno 111\] Connection refused>\)\.",
        ):
            deployment.browser_journey.check()
    deployment.browser_journey.check()


@pytest.mark.proves("no maintenance record is active", "users are let in again")
def test_maintenance_not_ended(deployment: Deployment) -> None:
    """Maintenance ended on troposphere only: atmosphere's record still active."""
    deployment.maintenance.stop("troposphere")
    deployment.maintenance.check_no_active_record("troposphere")
    with pytest.raises(CheckFailed, match="maintenance_record still holds 1 active"):
        deployment.maintenance.check_no_active_record("atmosphere")
    with pytest.raises(CheckFailed, match="answered 503"):
        deployment.maintenance.check_users_let_in()
    deployment.maintenance.stop("atmosphere")
    deployment.maintenance.check_no_active_record("atmosphere")
    deployment.maintenance.check_users_let_in()


@pytest.mark.proves("the environment's smoke checks hold again now that maintenance has ended")
def test_application_page_without_its_text_after_maintenance(deployment: Deployment) -> None:
    """troposphere's application page edited in place to an empty shell (a front end whose
    build lost the page): it answers 200 without the text the check looks for."""
    deployment.smoke_checks.check("after")
    troposphere = deployment.containers.now()["troposphere"].id
    shell = '<!DOCTYPE html>\n<html><body><div id="root"></div></body></html>\n'
    with file_replaced_inside(troposphere, APPLICATION_PAGE, shell):
        with pytest.raises(
            CheckFailed,
            match=r"^smoke checks failed after maintenance: 'troposphere application page' "
            r"\(http://127\.0\.0\.1:\d+/application as anonymous\) expected 200 with the text "
            r"'Atmosphere', found 200 without the text; the body begins "
            r"'<!DOCTYPE html> <html><body><div id=\"root\"></div></body></html>'$",
        ):
            deployment.smoke_checks.check("after")
    deployment.smoke_checks.check("after")
