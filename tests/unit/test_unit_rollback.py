"""The rollback's pure parts and its restore job on this machine: the restore's input, the
supervised job's status, the way back read from Django's plans, the options. No Docker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.commands import files, restore
from atmo_release.commands.compose import Compose
from atmo_release.data import restore_stream, way_back
from atmo_release.data.restore_job import JobState, RestoreJob, timeout_for, unsettled
from atmo_release.data.sessions import client_env
from atmo_release.environment import parse_environment
from atmo_release.release_day.deployment import Deployment
from atmo_release.resources.way_back_window import live_manage_argv
from atmo_release.target import LocalTarget
from fixtures.options import _recorded_release as recorded_release
from fixtures.options import validate
from tests.unit.fake_target import FakeTarget
from tests.unit.refusals import refusal
from tests.unit.test_unit_rehearsal_size import config
from tests.unit.test_unit_resources import DEPLOY

ATMOBETA = Path(__file__).resolve().parents[2] / "environments" / "atmobeta.toml"
COMPOSE = Compose(("docker-compose",), "/d/docker-compose.prod.yml", "ad")

NEW_PLAN = "[X]  core.0001_initial\n[X]  core.0002_instance_is_running_volume\n"
OLD_PLAN = "[X]  core.0001_initial\n"
REVERSIBLE_PLAN = """Planned operations:
core.0002_instance_is_running_volume
    Undo Add field is_running to instance
    Raw Python operation -> status from is_running: active wher\u2026
    Undo Remove field status from instance
    Undo Create model Volume
"""
IRREVERSIBLE_PLAN = """Planned operations:
core.0003_data_cleanup
    Raw SQL operation -> IRREVERSIBLE
    Raw SQL operation -> IRREVERSIBLE
core.0002_instance_is_running_volume
    Undo Add field is_running to instance
"""


def test_the_way_back_goes_to_the_old_release_last_migration_per_app() -> None:
    assert way_back.plan_entries(NEW_PLAN + "[ ]  api.0003_x\n")[-1] == ("api.0003_x", False)
    assert way_back.reverse_targets(NEW_PLAN, OLD_PLAN) == {"core": "0001_initial"}
    assert way_back.reverse_targets(NEW_PLAN, NEW_PLAN) == {}
    added_app = NEW_PLAN + "[X]  volumes.0001_initial\n"
    assert way_back.reverse_targets(added_app, OLD_PLAN) == {
        "core": "0001_initial",
        "volumes": "zero",
    }


def test_the_plan_names_what_is_reversed_and_what_cannot_be() -> None:
    assert way_back.planned_reversal(REVERSIBLE_PLAN) == (
        ["core.0002_instance_is_running_volume"],
        [],
    )
    assert way_back.planned_reversal(IRREVERSIBLE_PLAN) == (
        ["core.0003_data_cleanup", "core.0002_instance_is_running_volume"],
        ["core.0003_data_cleanup"],
    )
    output = "  Unapplying core.0002_instance_is_running_volume... OK (0.030s)\n"
    assert way_back.unapplied_timings(output) == {"core.0002_instance_is_running_volume": 0.03}
    error = (
        "django.db.migrations.exceptions.IrreversibleError: Operation <RunSQL '\\nDELETE "
        "FROM x'> in core.0003_data_cleanup is not reversible"
    )
    assert way_back.irreversible_in(error) == "core.0003_data_cleanup"
    assert way_back.irreversible_in("OK") is None


def test_losses_are_counted_per_table_and_said() -> None:
    rows = [["core_event", "0", "0", "0"], ["core_instance", "1", "2", "3"]]
    losses = way_back.parse_losses(rows)
    assert losses == {"core_instance": {"added": 1, "changed": 3, "deleted": 2}}
    assert way_back.describe_losses({"atmo_prod": losses}) == (
        "atmo_prod.core_instance: 1 added, 3 changed, 2 deleted"
    )
    assert way_back.describe_losses({}) == "no row written since the release"
    commands = way_back.losses_sql(["core_event"])
    assert commands[1] == f"\\copy {way_back.DIGESTS_TABLE} FROM STDIN"
    assert "FULL JOIN" in commands[2] and commands[2].startswith(way_back.SESSION_SQL)
    assert way_back.digests_sql(["o'dd"]).endswith(
        "COPY (SELECT 'o''dd', \"id\"::text, hashtextextended(t::text, 0) "
        'FROM public."o\'dd" t) TO STDOUT'
    )


def test_the_restore_is_one_transaction_ending_with_the_carried_records() -> None:
    window = {
        "tables": ["core_allocation"],
        "path": "/root/atmo-window-2026-12-01.sql",
        "grown": {"core_event": {"path": "/root/e.rows", "sequence": 57}},
    }
    active = {"maintenance_record": ['{"id": 7, "title": "$atmo$ x"}']}
    parts = restore_stream.parts("/root/atmo-2026-12-01.sql", window, active)
    assert [p.path or p.name for p in parts] == [
        "head.sql",
        "/root/atmo-2026-12-01.sql",
        "replace.sql",
        "/root/atmo-window-2026-12-01.sql",
        "grown-core_event.sql",
        "/root/e.rows",
        "grown-core_event-end.sql",
        "tail.sql",
    ]
    assert parts[0].text.startswith("BEGIN;\nSELECT 'atmo-release restore transaction '")
    assert "DROP SCHEMA" not in parts[0].text and "DROP %s IF EXISTS" in parts[0].text
    assert parts[4].text == 'COPY public."core_event" FROM stdin;\n'
    assert parts[6].text.startswith("\\.\nSELECT pg_catalog.setval(")
    tail = parts[-1].text
    assert tail.endswith("COMMIT;\n") and "$atmox$" in tail
    assert tail.index('INSERT INTO public."maintenance_record"') < tail.index("COMMIT")
    assert [p.name for p in restore_stream.parts("/d.sql", None, {})] == [
        "head.sql",
        "",
        "tail.sql",
    ]
    assert restore_stream.transaction_id("atmo-release restore transaction 740\n") == 740
    assert restore_stream.transaction_id("something else") is None


def test_the_restore_psql_reads_stdin_under_a_timeout_and_no_password_in_argv() -> None:
    host = restore.host_psql("127.0.0.1", 5432, "atmo_app", "atmo_prod", 900.7)
    assert host[:5] == ["timeout", "-k", "60", "900", "psql"] and host[-2:] == ["-f", "-"]
    env = client_env("secret-pw")
    service = restore.service_psql(COMPOSE, "postgres", "atmo_app", "atmo_prod", 60, env)
    assert service[service.index("exec") : service.index("postgres")] == [
        "exec",
        "-T",
        *("-e", "PGAPPNAME", "-e", "PGOPTIONS", "-e", "PGPASSWORD"),
    ]
    assert not [word for word in service if "secret-pw" in word or env["PGOPTIONS"] in word]
    assert service[service.index("postgres") + 1 : service.index("postgres") + 5] == [
        "timeout",
        "-k",
        "60",
        "60",
    ]
    assert timeout_for(0) == 600 and timeout_for(2 * 2**30) == 600 + 1024


def _wait_for(path: Path, text: str) -> None:
    deadline = time.monotonic() + 10
    while text not in (path.read_text() if path.exists() else ""):
        assert time.monotonic() < deadline, f"{path} never said {text!r}"
        time.sleep(0.05)


def _until(go: Path, *argv: str) -> list[str]:
    """A job's command that waits, alive, until the test creates `go`, then runs `argv`."""
    return [
        "sh",
        "-c",
        'until [ -e "$1" ]; do sleep 0.02; done; shift; exec "$@"',
        "sh",
        str(go),
        *argv,
    ]


def _processes_naming(path: Path) -> list[int]:
    """The processes whose command line has `path` as one of its words."""
    word, found = bytes(path), []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if word in cmdline.read_bytes().split(b"\0"):
                found.append(int(cmdline.parent.name))
        except OSError:  # ended meanwhile
            continue
    return found


def test_a_job_runs_detached_fed_by_its_inputs_and_says_how_it_ended(tmp_path: Path) -> None:
    target = LocalTarget()
    dump = tmp_path / "atmo-2026-12-01.sql"
    dump.write_bytes(b"dump \xff bytes\n")
    job = RestoreJob.beside(target, dump, "run1", "atmo_prod")
    parts = restore_stream.parts(str(dump), None, {})
    inputs = job.inputs(parts)
    assert Path(inputs[0]).name == "atmo-2026-12-01.sql.restore-run1.head.sql"
    assert oct(Path(inputs[0]).stat().st_mode)[-3:] == "600"
    started = time.monotonic()
    go = tmp_path / "go"
    job.start(inputs, _until(go, "cat"), {})
    assert time.monotonic() - started < 0.3, "start returns while the job still runs"
    assert job.alive(job.read()) and job.read().exit_code is None
    go.touch()
    state = job.wait(10, poll=0.05)
    assert state.exit_code == 0 and state.pid
    assert b"dump \xff bytes" in job.log.read_bytes()  # bytes arrive exact
    assert job.transaction() is None  # `cat` prints the head's SQL, not an id
    assert [j.status for j in unsettled(target, tmp_path)] == [job.status]
    job.settle("committed")
    assert unsettled(target, tmp_path) == [] and job.read().settled == "committed"
    with pytest.raises(CheckFailed, match="exists already"):
        job.inputs(parts)


def test_a_job_still_running_is_alive_and_waited_for_no_longer_than_asked(tmp_path: Path) -> None:
    target = LocalTarget()
    dump = tmp_path / "d.sql"
    dump.write_text("x\n")
    job = RestoreJob.beside(target, dump, "run2", "atmo_prod")
    go = tmp_path / "go"
    job.start([str(dump)], _until(go, "true"), {})
    _wait_for(job.status, "started")
    assert job.alive(job.read())
    with pytest.raises(CheckFailed, match="still runs after 0 s"):
        job.wait(0.2, poll=0.05)
    other = JobState(pid=job.read().pid)
    assert not RestoreJob(target, tmp_path / "other.restore-x.status").alive(other)
    go.touch()
    assert job.wait(10, poll=0.1).exit_code == 0


def test_the_status_file_is_parsed_and_a_job_is_never_restarted_over_it(tmp_path: Path) -> None:
    state = JobState.parse("started 41 1700000000\nexited 3 1700000009\nsettled aborted 1\n")
    assert state == JobState(pid=41, started=1700000000, exit_code=3, settled="aborted")
    assert JobState.parse("") == JobState()
    target = LocalTarget()
    dump = tmp_path / "d.sql"
    dump.write_text("x\n")
    job = RestoreJob.beside(target, dump, "run3", "atmo_prod")
    job.status.write_text("started 1 1\n")
    job.start([str(dump)], ["cat"], {})
    deadline = time.monotonic() + 10  # the job refused to start over the status file: it ended
    while _processes_naming(job.status):
        assert time.monotonic() < deadline, f"a job started over {job.status} still runs"
        time.sleep(0.02)
    assert job.status.read_text() == "started 1 1\n" and not job.log.exists()


def test_a_file_feeds_a_command_where_both_are(tmp_path: Path) -> None:
    path = tmp_path / "in"
    path.write_text("fed\n")
    result = LocalTarget().run(files.fed_from(path, ["cat"]))
    assert result.stdout == "fed\n"


def test_the_live_reverse_joins_the_app_network_and_changes_the_deployment() -> None:
    argv = ["docker", "run", "--rm", "--network", "container:c1", "-v", "a:b:ro", "img", "x"]
    live = live_manage_argv(argv, "host", ["postgres:127.0.0.1"])
    assert live[3:7] == ["--network", "host", "--add-host", "postgres:127.0.0.1"]
    assert type(live) is list and argv[4] == "container:c1"


def test_a_discard_needs_a_reason_before_any_action() -> None:
    with pytest.raises(pytest.UsageError, match="--discard-writes-since-release needs a reason"):
        validate(config(discard_writes_since_release="  "))  # type: ignore[arg-type]


def _record(directory: Path, name: str, **fields: object) -> None:
    (directory / name).mkdir(parents=True)
    (directory / name / "record.json").write_text(json.dumps(fields))


def test_rollback_feature_takes_the_release_from_the_last_deployment(tmp_path: Path) -> None:
    environment = parse_environment(ATMOBETA)
    rollback = config(records_dir=str(tmp_path))
    rollback.args = ["features/rollback.feature"]
    with pytest.raises(pytest.UsageError, match="no deployment of atmobeta is recorded in"):
        recorded_release(rollback, environment)  # type: ignore[arg-type]
    deploy = config(records_dir=str(tmp_path))
    deploy.args = ["features/deploy.feature"]
    with pytest.raises(pytest.UsageError, match="--release is required for --env=atmobeta"):
        recorded_release(deploy, environment)  # type: ignore[arg-type]
    facts = {"previous_images": {"atmosphere": "cyverse/atmosphere:release-v37-2"}}
    _record(tmp_path, "a", env="atmobeta", release="v37-3", started="2026-12-01T10", facts=facts)
    later = {**facts, "rolls_back": "a"}  # a rollback's own record is not a deployment
    _record(tmp_path, "b", env="atmobeta", release="v37-9", started="2026-12-01T11", facts=later)
    _record(tmp_path, "c", env="atmobeta", release="v37-1", started="2026-11-01T10", facts=facts)
    assert recorded_release(rollback, environment) == "v37-3"  # type: ignore[arg-type]


def test_the_role_must_be_able_to_empty_public_and_create_in_it(
    deployment: Deployment, fake: FakeTarget
) -> None:
    fake.answer("psql", stdout="t\tf\tpostgres\t\n")
    deployment.restores.check_rights()  # a superuser can
    fake._answers.clear()
    fake.answer("psql", stdout="f\tf\tpostgres\tcore_x (postgres)\n")
    assert refusal(deployment.restores.check_rights) == (
        "a rollback's restore of atmo_prod would fail: the role atmo_app lacks CREATE on "
        "schema public, which postgres owns (as its owner: GRANT CREATE ON SCHEMA public TO "
        "atmo_app) and the ownership of core_x (postgres) (ALTER ... OWNER TO atmo_app); "
        "nothing was changed"
    )


def test_an_old_image_the_registry_lost_comes_from_its_backup(
    deployment: Deployment, fake: FakeTarget
) -> None:
    deployment.state.previous_images = {"atmosphere": "cyverse/atmosphere:release-v37-2"}
    fake.answer("image", "inspect", "cyverse/atmosphere:release-v37-2", rc=1)
    fake.answer("pull", rc=1)
    fake.answer(
        "image",
        "inspect",
        "old_atmosphere-docker_atmosphere:release-v37-2",
        stdout='[{"Config": {}}]',
    )
    deployment.old_release.make_images_ready()
    assert fake.commands("docker", "tag") == [
        (
            "docker",
            "tag",
            "old_atmosphere-docker_atmosphere:release-v37-2",
            "cyverse/atmosphere:release-v37-2",
        )
    ]
    assert deployment.record.facts["old_images"] == {
        "atmosphere": "from the backup image old_atmosphere-docker_atmosphere:release-v37-2"
    }


def test_the_old_files_come_back_after_what_the_checkout_holds_is_saved(
    deployment: Deployment, fake: FakeTarget
) -> None:
    diff = Path("/root/deploy-checkout-local-2026-12-01.diff")
    fake.files[diff] = "diff --git a/docker-compose.prod.yml b/docker-compose.prod.yml\n"
    deployment.state.release_files = {
        "checkout_head": "abc123",
        "local_diff": str(diff),
        "secrets_branch": "prod",
    }
    fake.answer("git", "-C", DEPLOY, "diff", "HEAD", stdout="the new tags\n")
    deployment.old_release.bring_back_files()
    saved = Path("/root/deploy-checkout-rollback-local-2026-12-01.diff")
    assert fake.files[saved] == "the new tags\n"
    git = [call for call in fake.calls if call[:1] in (("git",), ("create",))]
    assert git == [
        ("git", "-C", DEPLOY, "diff", "HEAD"),
        ("create", str(saved)),
        ("git", "-C", DEPLOY, "reset", "--hard", "--quiet", "abc123"),
        ("git", "-C", DEPLOY, "apply", "--whitespace=nowarn", str(diff)),
        ("git", "-C", "/opt/dev/atmosphere-docker-secrets", "checkout", "prod"),
    ]


def _table(count: int, **columns: str) -> dict:
    return {"count": count, "columns": columns}


def test_the_way_back_is_judged_against_its_rehearsal_on_todays_copy() -> None:
    before = {"core_instance": _table(2, id="1", status="a"), "core_user": _table(1, id="7")}
    rehearsed = {**before, "core_instance": _table(2, id="1", status="b")}
    migrations = {"core.0002_x": ["core_instance"]}
    # as rehearsed: the reversed table as on the copy, the other as when the apps stopped
    assert way_back.judge_rows(before, rehearsed, before, rehearsed, migrations) == (
        [],
        ["table core_instance: values changed in status, by core.0002_x (as rehearsed)"],
    )
    lost = {**rehearsed, "core_user": _table(0, id="0")}
    problems, _ = way_back.judge_rows(before, lost, before, rehearsed, migrations)
    assert problems == [
        "table core_user: 1 rows before, 0 after (no rehearsed migration changes it)"
    ]
    # written between the copy's dump and the stop: only where the reversal does not reach
    written = {**before, "core_instance": _table(2, id="1", status="c")}
    problems, notes = way_back.judge_rows(written, rehearsed, before, rehearsed, migrations)
    assert problems == [] and "compared with the rehearsal only where" in notes[0]
    moved = {**rehearsed, "core_instance": _table(2, id="9", status="b")}
    problems, _ = way_back.judge_rows(written, moved, before, rehearsed, migrations)
    assert problems and "(columns no rehearsed migration changes)" in problems[0]
