"""Each check of the upgrade goes red when its own fault is injected into a real rehearsal.

The tests walk one stack through the runbook in order; at each section a fault is injected,
the check must fail, the fault is undone, and the same check must pass again.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.commands import manage
from atmo_release.deployment import Deployment
from rehearsal.stack import RehearsalStack
from tests.rehearsal.conftest import deployment_for

pytestmark = pytest.mark.docker


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


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_rehearsed_copy_with_an_unapplied_migration(deployment: Deployment) -> None:
    deployment.migration_rehearsal.rehearse()
    assert deployment.state.rehearsed["atmo_prod"]["migrations"]
    deployment.proven_dumps.copies["atmo_prod"].query(
        "DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations)"
    )
    with pytest.raises(CheckFailed, match="still finds unapplied migrations on the rehearsed"):
        deployment.migration_rehearsal.check()
    assert not deployment.proven_dumps.copies


def test_maintenance_command_that_writes_no_record(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_second_maintenance_start_is_seen(deployment: Deployment) -> None:
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


def test_service_still_running_after_stop(deployment: Deployment) -> None:
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


def test_window_dump_that_misses_a_written_row(
    deployment: Deployment, fresh_stack: RehearsalStack
) -> None:
    fresh_stack.psql(  # a user's write after the proven dump, before the apps stopped
        "atmo_prod", "UPDATE core_atmosphereuser SET email = 'late@example.org' WHERE id = 1"
    )
    fresh_stack.psql(  # and a task's
        "atmo_prod",
        "INSERT INTO core_event (instance_id, kind, payload, created_at) "
        "SELECT NULL, 'task.tick', 'late', now() FROM generate_series(1, 3)",
    )
    deployment.databases.read_stopped()
    deployment.window_dumps.dump_written_tables()
    deployment.window_dumps.check()
    window = deployment.state.dumps["atmo_prod"]["window"]
    assert window["tables"] == ["core_atmosphereuser"]
    rows = Path(window["grown"]["core_event"]["path"])
    three = rows.read_text()
    rows.write_text("".join(three.splitlines(keepends=True)[:2]))
    try:
        with pytest.raises(CheckFailed, match="core_event: 3 rows in the stopped database, 2 in"):
            deployment.window_dumps.check()
    finally:
        rows.write_text(three)
    path = Path(window["path"])
    whole = path.read_text()
    lines = whole.splitlines(keepends=True)
    first_row = next(i for i, line in enumerate(lines) if line.startswith("COPY ")) + 1
    path.write_text("".join(lines[:first_row] + lines[first_row + 1 :]))
    try:
        with pytest.raises(CheckFailed, match="core_atmosphereuser: 13 rows in the stopped"):
            deployment.window_dumps.check()
    finally:
        path.write_text(whole)
    deployment.window_dumps.check()


def test_backup_image_missing(deployment: Deployment) -> None:
    deployment.containers.back_up()
    deployment.containers.check_backups()
    missing = deployment.state.backups["troposphere"]
    docker("image", "rm", missing)
    with pytest.raises(CheckFailed, match=f"backup image {missing} of troposphere does not"):
        deployment.containers.check_backups()
    deployment.containers.back_up()
    deployment.containers.check_backups()


def test_compose_edit_that_leaves_an_old_tag(deployment: Deployment) -> None:
    deployment.checkout.update()
    deployment.checkout.check()
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


def test_app_answering_500_after_up(
    deployment: Deployment, fresh_stack: RehearsalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment.containers.pull_and_up()
    deployment.containers.check_running_release_images()
    deployment.readiness.wait()
    monkeypatch.setattr(deployment, "env", replace(deployment.env, readiness_timeout_s=2.0))
    fresh_stack.psql("atmo_prod", "ALTER TABLE maintenance_record RENAME TO broken_record")
    try:
        with pytest.raises(CheckFailed, match="not ready within 2 s.*atmosphere"):
            deployment.readiness.wait()
    finally:
        fresh_stack.psql("atmo_prod", "ALTER TABLE broken_record RENAME TO maintenance_record")
    deployment.readiness.wait()


def test_seeded_row_deleted(deployment: Deployment, fresh_stack: RehearsalStack) -> None:
    deployment.readiness.check_new_versions()
    deployment.readiness.check_migrations()
    deployment.databases.check_rows_kept()
    fresh_stack.psql(
        "atmo_prod",
        "CREATE TABLE saved_row AS SELECT * FROM core_instance "
        "WHERE id = (SELECT min(id) FROM core_instance)",
    )
    fresh_stack.psql(
        "atmo_prod", "DELETE FROM core_instance WHERE id IN (SELECT id FROM saved_row)"
    )
    try:
        with pytest.raises(CheckFailed, match="core_instance: 40 rows before, 39 after"):
            deployment.databases.check_rows_kept()
    finally:
        fresh_stack.psql("atmo_prod", "INSERT INTO core_instance SELECT * FROM saved_row")
        fresh_stack.psql("atmo_prod", "DROP TABLE saved_row")
    fresh_stack.psql(
        "troposphere",
        "UPDATE api_userpreferences SET username = 'renamed' "
        "WHERE id = (SELECT min(id) FROM api_userpreferences)",
    )
    with pytest.raises(CheckFailed, match="values changed in username"):
        deployment.databases.check_rows_kept()


def test_maintenance_not_ended(deployment: Deployment) -> None:
    deployment.maintenance.stop("troposphere")
    deployment.maintenance.check_no_active_record("troposphere")
    with pytest.raises(CheckFailed, match="maintenance_record still holds 1 active"):
        deployment.maintenance.check_no_active_record("atmosphere")
    with pytest.raises(CheckFailed, match="answered 503"):
        deployment.maintenance.check_users_let_in()
    deployment.maintenance.stop("atmosphere")
    deployment.maintenance.check_no_active_record("atmosphere")
    deployment.maintenance.check_users_let_in()
