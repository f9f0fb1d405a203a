"""Dump naming, command lines and the checks that need no database (no Docker)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.commands import Read, pg, psql
from atmo_release.commands.compose import Compose
from atmo_release.data import dumps, throwaway_copy
from atmo_release.environment import Database
from atmo_release.labels import run_labels
from atmo_release.target import LocalTarget, PlanTarget, Result
from tests.unit.refusals import refusal

DAY = date(2026, 12, 1)
COMPOSE = Compose(("docker-compose",), "/opt/dev/atmosphere-docker/docker-compose.prod.yml", "ad")
HOST_DB = Database("host", "atmo_app", ("atmo_prod", "troposphere"), "inis", "10.0.0.5", 5433)
SERVICE_DB = Database("service", "atmo_app", ("atmo_prod",), "inis", service="postgres")
COMPLETE = b"".join([b"--\n-- PostgreSQL database dump\n--\nSELECT 1;\n", dumps.TRAILER, b"\n--\n"])


def test_dump_names_follow_the_runbook() -> None:
    assert dumps.dump_name("atmo", DAY, Path("/b"), lambda p: False) == Path(
        "/b/atmo-2026-12-01.sql"
    )
    assert dumps.kind_for("atmo_prod") == "atmo" and dumps.kind_for("troposphere") == "tropo"


def test_second_dump_of_the_day_does_not_overwrite(tmp_path: Path) -> None:
    (tmp_path / "tropo-2026-12-01.sql").write_text("x")
    second = dumps.dump_name("tropo", DAY, tmp_path, Path.exists)
    assert second == tmp_path / "tropo-2026-12-01.2.sql"
    second.write_text("y")
    assert dumps.dump_name("tropo", DAY, tmp_path, Path.exists).name == "tropo-2026-12-01.3.sql"
    assert dumps.dump_name("atmo", DAY, tmp_path, Path.exists).name == "atmo-2026-12-01.sql"


def test_host_dump_argv() -> None:
    assert pg.host_dump("10.0.0.5", 5433, "atmo_app", "atmo_prod", "/b/atmo.sql") == [
        "pg_dump",
        "-h",
        "10.0.0.5",
        "-p",
        "5433",
        "-U",
        "atmo_app",
        "-d",
        "atmo_prod",
        "--format=plain",
        "-w",
        "-f",
        "/b/atmo.sql",
    ]


def test_service_dump_argv_has_no_tty_and_writes_to_stdout() -> None:
    argv = pg.service_dump(COMPOSE, "postgres", "atmo_app", "troposphere", {"PGPASSWORD": "pw"})
    assert argv == [
        "docker-compose",
        "-f",
        "/opt/dev/atmosphere-docker/docker-compose.prod.yml",
        "-p",
        "ad",
        "exec",
        "-T",
        "-e",
        "PGPASSWORD=pw",
        "postgres",
        "pg_dump",
        "-U",
        "atmo_app",
        "-d",
        "troposphere",
        "--format=plain",
        "-w",
    ]


def test_restore_argv_stops_at_the_first_error() -> None:
    assert pg.restore_plain("atmo_app", "verify", "/dump/a.sql") == [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "--single-transaction",
        "-w",
        "-U",
        "atmo_app",
        "-d",
        "verify",
        "-f",
        "/dump/a.sql",
    ]


def test_host_restore_loads_in_one_transaction() -> None:
    argv = pg.host_restore("db", 5432, "atmo_app", "atmo_prod", "/b/atmo.sql")
    assert argv == [
        "psql",
        "-h",
        "db",
        "-p",
        "5432",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "--single-transaction",
        "-w",
        "-U",
        "atmo_app",
        "-d",
        "atmo_prod",
        "-f",
        "/b/atmo.sql",
    ]


def test_count_sql_quotes_table_names() -> None:
    sql = pg.count_rows_sql(["core_instance", "we\"ird's"])
    assert sql == (
        "SELECT 'core_instance', count(*) FROM public.\"core_instance\" UNION ALL "
        "SELECT 'we\"ird''s', count(*) FROM public.\"we\"\"ird's\""
    )


class ScriptedTarget(LocalTarget):
    """Runs nothing: answers each argv by the first rule whose words it holds in a row (each
    rule's answers in turn, the last one repeated), else exit 0 and no output. Files are real."""

    def __init__(self, *rules: tuple[Sequence[str], Sequence[tuple[int, str]]]) -> None:
        super().__init__()
        self.rules = [(tuple(words), list(answers)) for words, answers in rules]
        self.calls: list[tuple[str, ...]] = []
        self.envs: list[dict[str, str]] = []
        self.changes: list[tuple[str, ...]] = []

    def run(self, argv, *, cwd=None, env=None, input=None, timeout=600):  # type: ignore[override]
        self.calls.append(tuple(argv))
        self.envs.append(dict(env or {}))
        if not isinstance(argv, Read):
            self.changes.append(tuple(argv))
        for words, answers in self.rules:
            if any(tuple(argv[i : i + len(words)]) == words for i in range(len(argv))):
                rc, text = answers.pop(0) if len(answers) > 1 else answers[0]
                return Result(tuple(argv), rc, text if rc == 0 else "", "" if rc == 0 else text, 0)
        return Result(tuple(argv), 0, "", "", 0.0)


def ok(text: str = "") -> list[tuple[int, str]]:
    return [(0, text)]


DUMP = Path("/b/atmo-2026-12-01.sql")
STAT = ("stat", "-L", "-c", "%f %s", "--", str(DUMP))
TAIL = ("tail", "-c", "4096", "--", str(DUMP))


def test_check_complete_reads_size_and_tail_on_the_target() -> None:
    target = ScriptedTarget((STAT[:1], ok("81a4 123456\n")), (TAIL[:1], ok(COMPLETE.decode())))
    assert dumps.check_complete(target, DUMP) == 123456
    assert target.calls == [STAT, TAIL]


@pytest.mark.parametrize(
    ("stat", "tail", "message"),
    [
        ([(1, "stat: cannot statx: No such file or directory")], ok(), "does not exist"),
        (ok("41ed 4096"), ok(), "does not exist"),  # a directory
        (ok("81a4 0"), ok(), r"is empty \(0 bytes\)"),
        (ok("81a4 99"), ok(COMPLETE.decode()[:40]), "truncated or not a plain pg_dump"),
        (ok("81a4 99"), ok("\ufffd\ufffd garbage"), "its 99 bytes do not end with pg_dump's"),
        (ok("81a4 99"), [(1, "tail: Permission denied")], "could not be read: tail: Permission"),
    ],
)
def test_check_complete_refuses(
    stat: list[tuple[int, str]], tail: list[tuple[int, str]], message: str
) -> None:
    target = ScriptedTarget((STAT[:1], stat), (TAIL[:1], tail))
    with pytest.raises(CheckFailed, match=message) as failed:
        dumps.check_complete(target, DUMP)
    assert str(failed.value).startswith(f"dump {DUMP} ") and not target.changes


def test_check_complete_with_this_hosts_coreutils(tmp_path: Path) -> None:
    target = LocalTarget()
    good = tmp_path / "good.sql"
    good.write_bytes(b"x" * 10000 + COMPLETE)
    assert dumps.check_complete(target, good) == 10000 + len(COMPLETE)
    empty = tmp_path / "empty.sql"
    empty.write_bytes(b"")
    with pytest.raises(CheckFailed, match="is empty"):
        dumps.check_complete(target, empty)
    cut = tmp_path / "cut.sql"
    cut.write_bytes(COMPLETE[: len(COMPLETE) // 2])
    with pytest.raises(CheckFailed, match="truncated"):
        dumps.check_complete(target, cut)
    garbage = tmp_path / "garbage.sql"
    garbage.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(CheckFailed, match="truncated"):
        dumps.check_complete(target, garbage)
    with pytest.raises(CheckFailed, match="does not exist"):
        dumps.check_complete(target, tmp_path / "absent.sql")
    with pytest.raises(CheckFailed, match="does not exist"):
        dumps.check_complete(target, tmp_path)


def test_compare_counts_names_each_difference() -> None:
    assert dumps.compare_counts({"a": 1, "b": 2}, {"a": 1, "b": 2}) == []
    assert dumps.compare_counts({"a": 1, "b": 2}, {"a": 0, "c": 5}) == [
        "a: 1 rows in the source, 0 restored",
        "b is missing from the restore",
        "c is not in the source",
    ]


class RecordingTarget(LocalTarget):
    """Runs nothing: answers every command with `rc`, keeping the argv and env it was given."""

    def __init__(self, rc: int) -> None:
        super().__init__()
        self.rc = rc
        self.calls: list[tuple[tuple[str, ...], dict[str, str]]] = []

    def run(self, argv, *, cwd=None, env=None, input=None, timeout=600):  # type: ignore[override]
        self.calls.append((tuple(argv), dict(env or {})))
        return Result(tuple(argv), self.rc, "", "connection to server failed", 0.0)


def test_failed_host_dump_raises_and_leaves_no_file(tmp_path: Path) -> None:
    target = RecordingTarget(rc=1)
    path = tmp_path / "atmo-2026-12-01.sql"
    with pytest.raises(CheckFailed, match="pg_dump of atmo_prod from the host database at"):
        dumps.dump(target, HOST_DB, "secret-pw", COMPOSE, "atmo_prod", path)
    assert not path.exists()
    (argv, env) = target.calls[0]
    assert argv[-2:] == ("-f", str(path))
    # told from others' sessions, with the run's session settings
    assert env == {
        "PGPASSWORD": "secret-pw",
        "PGAPPNAME": "atmo-release",
        "PGOPTIONS": psql.PGOPTIONS,
    }
    assert "secret-pw" not in argv


def test_host_dump_that_writes_nothing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "atmo.sql"
    target = ScriptedTarget((["stat"], ok("81a4 0")))
    with pytest.raises(CheckFailed, match="is empty"):
        dumps.dump(target, HOST_DB, "pw", COMPOSE, "atmo_prod", path)
    assert not path.exists()  # removed through the target
    assert target.calls[1] == ("stat", "-L", "-c", "%f %s", "--", str(path))


def test_dump_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "atmo.sql"
    path.write_text("earlier dump")
    with pytest.raises(CheckFailed, match="exists already: it is never overwritten"):
        dumps.dump(RecordingTarget(rc=0), HOST_DB, "pw", COMPOSE, "atmo_prod", path)
    assert path.read_text() == "earlier dump"


def test_run_to_file_streams_stdout_and_reports_the_command(tmp_path: Path) -> None:
    target = LocalTarget()
    seen: list[Result] = []
    target.listeners.append(lambda result, redactor: seen.append(result))
    path = tmp_path / "out.sql"
    code = "import sys; [sys.stdout.write('x' * 1000 + '\\n') for _ in range(2000)]"
    result = target.run_to_file([sys.executable, "-c", code], path)
    assert result.ok and path.stat().st_size == 2000 * 1001
    assert path.stat().st_mode & 0o777 == 0o600
    assert seen == [result] and "written to" in result.stdout


def test_output_that_is_not_text_is_replaced_not_raised() -> None:
    """The tail of a dump cut anywhere, or of a file that is no dump, is bytes, not UTF-8."""
    code = "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe end')"
    result = LocalTarget().run([sys.executable, "-c", code])
    assert result.ok and result.stdout.startswith("ok ") and result.stdout.endswith(" end")


def test_service_dump_streams_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The service path: the exec's stdout becomes the file, then the trailer is checked."""
    captured: list[list[str]] = []

    def fake_run_to_file(argv, path, *, env=None, timeout=None):  # type: ignore[no-untyped-def]
        captured.append(list(argv))
        path.write_bytes(COMPLETE)
        return Result(tuple(argv), 0, "", "", 0.1)

    target = LocalTarget()
    monkeypatch.setattr(target, "run_to_file", fake_run_to_file)
    path = tmp_path / "tropo.sql"
    result = dumps.dump(target, SERVICE_DB, "pw", COMPOSE, "troposphere", path)
    assert result.bytes == len(COMPLETE) and result.database == "troposphere"
    assert (
        captured[0][5:7] == ["exec", "-T"]
        and captured[0][-6:] == pg.service_dump(COMPOSE, "postgres", "atmo_app", "troposphere")[-6:]
    )


IMAGE = "atmo-rehearsal/postgres:15"
CONTAINER = "c0ffee"
# every session of the copy gets the run's client env by name (values: the docker client's env)
EXEC = ("docker", "exec", "-u", "root", "-e", "PGAPPNAME", "-e", "PGOPTIONS", CONTAINER, "timeout")
LIST = pg.LIST_TABLES_SQL
COUNT = pg.count_rows_sql(["core_instance", "core_user"])


def copy_target(*rules: tuple[Sequence[str], Sequence[tuple[int, str]]]) -> ScriptedTarget:
    """A target on which the throwaway server starts, restores the dump and counts it; `rules`
    come first."""
    return ScriptedTarget(
        *rules,
        (["docker", "image", "inspect"], ok('{"/var/lib/postgresql/data":{}}\n')),
        (["docker", "create"], ok(CONTAINER + "\n")),
        (["docker", "inspect"], ok("running\n")),
        (["SHOW server_version_num"], ok("150004\n")),
        (["head"], ok("--\n-- Dumped from database version 15.4 (Debian 15.4-1)\n")),
        ([LIST], ok("core_instance\ncore_user\n")),
        ([COUNT], ok("core_instance\t3\ncore_user\t2\n")),
    )


def in_copy(timeout: int, *argv: str) -> tuple[str, ...]:
    return (*EXEC, str(timeout), *argv)


def sql(statement: str) -> list[str]:
    return ["psql", *psql.FLAGS, "-U", "atmo_app", "-d", "verify", "-c", statement]


def test_restored_copy_runs_its_server_through_the_target() -> None:
    target = copy_target()
    copy = throwaway_copy.ThrowawayCopy(target, DUMP, IMAGE, "atmo_app", "run-1")
    copy.open(roles=["atmo_ro"])
    assert copy.container_id == CONTAINER and copy.server_major == 15
    assert copy.counts == {"core_instance": 3, "core_user": 2}
    assert copy.query("SELECT 1") == [] and copy.exec(["true"], 5) == (0, "", "")
    copy.close()
    labels = run_labels("run-1")
    volume_labels = "".join(f",volume-label={key}={labels[key]}" for key in sorted(labels))
    labelled = [item for key in sorted(labels) for item in ("--label", f"{key}={labels[key]}")]
    assert copy.network.startswith("atmo-release-copy-")
    assert target.calls == [
        (
            *("docker", "network", "create", "--internal"),
            *("-o", "com.docker.network.bridge.inhibit_ipv4=true", *labelled, copy.network),
        ),
        ("docker", "image", "inspect", "--format", "{{json .Config.Volumes}}", IMAGE),
        (
            "docker",
            "create",
            *labelled,
            *("--cpu-shares", "128"),
            *("--network", copy.network, "--network-alias", "atmo-release-copy"),
            *(
                "-e",
                "POSTGRES_DB=verify",
                "-e",
                "POSTGRES_PASSWORD",
                "-e",
                "POSTGRES_USER=atmo_app",
            ),
            *("-v", f"{DUMP.parent}:/dump:ro"),  # the backup folder: the window dumps too
            *("--mount", f"type=volume,dst=/var/lib/postgresql/data{volume_labels}"),
            IMAGE,
            "postgres",
            *("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
            *("-c", "maintenance_work_mem=256MB", "-c", "max_wal_size=4GB"),
        ),
        ("docker", "start", CONTAINER),
        in_copy(10, "pg_isready", "-h", "127.0.0.1", "-U", "atmo_app"),
        in_copy(10, *sql("SELECT 1")),
        in_copy(600, *sql("SHOW server_version_num")),
        ("head", "-c", "4096", "--", str(DUMP)),
        in_copy(600, *sql('CREATE ROLE "atmo_ro"')),
        in_copy(3600, *pg.restore_plain("atmo_app", "verify", f"/dump/{DUMP.name}")),
        in_copy(600, *sql(LIST)),
        in_copy(600, *sql(COUNT)),
        in_copy(600, *sql("SELECT 1")),
        in_copy(5, "true"),
        ("docker", "rm", "-f", "-v", CONTAINER),
        ("docker", "network", "rm", copy.network),
    ]
    assert not target.changes  # it changes nothing of the deployment: a plan runs it all
    assert target.envs[2] == {"POSTGRES_PASSWORD": copy.password}  # docker create's
    assert not any(copy.password in arg for argv in target.calls for arg in argv)
    assert target.redactor(copy.password) == "********"
    assert copy.container_id == "" and set(copy.seconds) == {"start", "restore", "count", "remove"}


def test_a_plan_runs_the_throwaway_server_for_real() -> None:
    inner = copy_target()
    planned: list[Result] = []
    inner.listeners.append(lambda result, redactor: planned.append(result))
    copy = throwaway_copy.ThrowawayCopy(PlanTarget(inner), DUMP, IMAGE, "atmo_app", "run-1").open()
    copy.close()
    assert len(inner.calls) == 13 and not [r for r in planned if r.planned]


def test_the_server_is_waited_for_until_it_answers() -> None:
    target = copy_target(
        (["pg_isready"], [(2, "no response"), (0, "accepting connections")]),
        (["SELECT 1"], [(2, 'database "verify" does not exist'), (0, "1")]),
    )
    copy = throwaway_copy.ThrowawayCopy(target, DUMP, IMAGE, "atmo_app", "run-1")
    copy.poll = 0
    copy.open()
    probes = [call[11] for call in target.calls if call[:10] == EXEC and call[11:12] != ("psql",)]
    selects = [call for call in target.calls if call[-1] == "SELECT 1"]
    assert probes == ["pg_isready"] * 3 and len(selects) == 2
    assert (
        target.calls.count(("docker", "inspect", "--format", "{{.State.Status}}", CONTAINER)) == 2
    )


def test_a_server_that_stops_fails_at_once_naming_the_image() -> None:
    target = copy_target(
        (["pg_isready"], [(2, "no response")]),
        (["docker", "inspect"], ok("exited\n")),
        (["docker", "logs"], [(0, 'FATAL:  unrecognized configuration parameter "fsync"')]),
    )
    copy = throwaway_copy.ThrowawayCopy(target, DUMP, IMAGE, "atmo_app", "run-1")
    assert refusal(copy.open) == (
        f"the throwaway PostgreSQL ({IMAGE}) stopped before accepting connections (exited): "
        'FATAL:  unrecognized configuration parameter "fsync"'
    )
    assert ("docker", "logs", "--tail", "5", CONTAINER) in target.calls
    copy.close()
    assert target.calls[-2:] == [
        ("docker", "rm", "-f", "-v", CONTAINER),
        ("docker", "network", "rm", copy.network),
    ]


def test_a_silent_server_fails_after_its_timeout_and_verify_removes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(throwaway_copy.ThrowawayCopy, "ready_timeout", 0)
    target = copy_target(
        (STAT[:1], ok("81a4 99")),
        (TAIL[:1], ok(COMPLETE.decode())),
        (["pg_isready"], [(1, "rejecting connections")]),
    )
    with pytest.raises(CheckFailed, match=rf"\({IMAGE}\) did not accept connections within 0 s"):
        throwaway_copy.verify_dump(target, DUMP, {}, IMAGE, run_id="run-1")
    assert target.calls[:2] == [STAT, TAIL]
    assert target.calls[-2] == ("docker", "rm", "-f", "-v", CONTAINER)
    assert target.calls[-1][:3] == ("docker", "network", "rm")


def test_a_missing_image_is_pulled_first() -> None:
    target = copy_target(
        (["docker", "image", "inspect"], [(1, "No such image"), (0, "null")]),
    )
    copy = throwaway_copy.ThrowawayCopy(target, DUMP, IMAGE, "atmo_app", "run-1").open()
    assert target.calls[1:4] == [
        ("docker", "image", "inspect", "--format", "{{json .Config.Volumes}}", IMAGE),
        ("docker", "pull", IMAGE),
        ("docker", "image", "inspect", "--format", "{{json .Config.Volumes}}", IMAGE),
    ]
    assert "--mount" not in target.calls[4]  # the image declares no volume
    assert copy.container_id == CONTAINER and not target.changes


@pytest.mark.parametrize(
    ("failing", "message", "removed"),
    [
        (["docker", "pull"], f"the image {IMAGE} of the throwaway PostgreSQL could not be", False),
        (["docker", "create"], f"throwaway PostgreSQL \\({IMAGE}\\) could not be created", False),
        (["docker", "start"], f"throwaway PostgreSQL \\({IMAGE}\\) could not be started", True),
    ],
)
def test_a_server_that_cannot_start_is_refused(
    failing: list[str], message: str, removed: bool
) -> None:
    target = copy_target(
        (failing, [(1, "Error response from daemon: boom")]),
        (["docker", "image", "inspect"], [(1, "No such image"), (0, "null")]),
    )
    copy = throwaway_copy.ThrowawayCopy(target, DUMP, IMAGE, "atmo_app", "run-1")
    with pytest.raises(CheckFailed, match=message + ".*boom"):
        copy.open()
    copy.close()
    assert (("docker", "rm", "-f", "-v", CONTAINER) in target.calls) is removed
    assert target.calls[-1] == ("docker", "network", "rm", copy.network)


def test_a_network_that_cannot_be_made_leaves_nothing_to_remove() -> None:
    target = copy_target((["docker", "network", "create"], [(1, "Error response: boom")]))
    copy = throwaway_copy.ThrowawayCopy(target, DUMP, IMAGE, "atmo_app", "run-1")
    with pytest.raises(CheckFailed, match="internal network of the throwaway .* could not .*boom"):
        copy.open()
    copy.close()
    assert [call[:3] for call in target.calls] == [("docker", "network", "create")]


def test_restore_failure_names_the_first_error_and_a_relative_dump_is_refused() -> None:
    target = copy_target(
        (["--single-transaction"], [(3, 'psql:/dump/a.sql:7: ERROR:  syntax error at "x"')]),
    )
    copy = throwaway_copy.ThrowawayCopy(target, DUMP, IMAGE, "atmo_app", "run-1")
    with pytest.raises(CheckFailed, match=f"dump {DUMP} could not be restored into {IMAGE}: psql"):
        copy.open()
    with pytest.raises(ValueError, match="absolute path"):
        throwaway_copy.ThrowawayCopy(target, Path("atmo.sql"), IMAGE, "atmo_app", "run-1")


def test_a_dump_of_another_major_version_is_refused() -> None:
    target = copy_target((["head"], ok("-- Dumped from database version 9.6.24\n")))
    with pytest.raises(CheckFailed, match="comes from PostgreSQL 9, but the throwaway server"):
        throwaway_copy.ThrowawayCopy(target, DUMP, IMAGE, "atmo_app", "run-1").open()
