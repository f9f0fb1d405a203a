"""Dump naming, command lines and the checks that need no database (no Docker)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from atmo_release import dumps
from atmo_release.checks import CheckFailed
from atmo_release.commands import pg
from atmo_release.commands.compose import Compose
from atmo_release.environment import Database
from atmo_release.target import LocalTarget, Result

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


def test_host_restore_empties_and_loads_in_one_transaction() -> None:
    argv = pg.host_restore(
        "db",
        5432,
        "atmo_app",
        "atmo_prod",
        "/b/atmo.sql",
        ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"],
    )
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
        "-c",
        "DROP SCHEMA public CASCADE",
        "-c",
        "CREATE SCHEMA public",
        "-f",
        "/b/atmo.sql",
    ]


def test_count_sql_quotes_table_names() -> None:
    sql = pg.count_rows_sql(["core_instance", "we\"ird's"])
    assert sql == (
        "SELECT 'core_instance', count(*) FROM public.\"core_instance\" UNION ALL "
        "SELECT 'we\"ird''s', count(*) FROM public.\"we\"\"ird's\""
    )


def test_check_complete(tmp_path: Path) -> None:
    good = tmp_path / "good.sql"
    good.write_bytes(COMPLETE)
    assert dumps.check_complete(good) == len(COMPLETE)
    empty = tmp_path / "empty.sql"
    empty.write_bytes(b"")
    with pytest.raises(CheckFailed, match="is empty"):
        dumps.check_complete(empty)
    cut = tmp_path / "cut.sql"
    cut.write_bytes(COMPLETE[: len(COMPLETE) // 2])
    with pytest.raises(CheckFailed, match="truncated"):
        dumps.check_complete(cut)
    with pytest.raises(CheckFailed, match="does not exist"):
        dumps.check_complete(tmp_path / "absent.sql")


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
    assert argv[-2:] == ("-f", str(path)) and env == {"PGPASSWORD": "secret-pw"}
    assert "secret-pw" not in argv


def test_host_dump_that_writes_nothing_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "atmo.sql"
    with pytest.raises(CheckFailed, match="is empty"):
        dumps.dump(RecordingTarget(rc=0), HOST_DB, "pw", COMPOSE, "atmo_prod", path)
    assert not path.exists()


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
