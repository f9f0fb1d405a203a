"""The data-safety pieces without Docker: fingerprint SQL, the migration rehearsal's command and
settings, window dumps' flags and their row counts, on exact text and argv."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.commands import Read, pg
from atmo_release.data.fingerprint import (
    SCHEMA_SQL,
    fingerprint_database,
    parse_row,
    table_sql,
    timeout_for,
)
from atmo_release.data.migration_runs import (
    applied_timings,
    manage_argv,
    settings_for_copy,
    unapplied,
    unreached,
)
from atmo_release.data.window_rows import (
    files,
    replace_rows_sql,
    require_rows,
    rows_after_sql,
    rows_in_dump,
    sequence_sql,
    sequence_value_sql,
)
from atmo_release.environment import Service
from atmo_release.target import LocalTarget


def test_a_table_with_an_integer_id_seeds_each_value_with_its_row_id() -> None:
    sql = table_sql("core_event", [("id", "integer"), ("payload", "text")])
    assert sql == (
        'SELECT count(*), count("id"), coalesce(sum(hashtextextended("id"::text, "id")), 0), '
        'count("payload"), coalesce(sum(hashtextextended("payload"::text, "id")), 0), '
        'max("id") FROM public."core_event" t'
    )
    assert table_sql("t", [("id", "bigint")], upto=41).endswith(
        ' FROM public."t" t WHERE "id" <= 41'
    )
    assert "string_agg" not in sql and "ORDER BY" not in sql


def test_a_table_without_id_also_hashes_whole_rows() -> None:
    sql = table_sql('we"ird', [("name", "text")])
    assert 'count("name"), coalesce(sum(hashtextextended("name"::text, 0)), 0)' in sql
    assert sql.endswith(', coalesce(sum(hashtextextended(t::text, 0)), 0) FROM public."we""ird" t')


def test_a_uuid_id_is_hashed_for_the_seed() -> None:
    assert 'hashtextextended("id"::text, 0))' in table_sql("t", [("id", "uuid")])


def test_parse_row_and_the_size_derived_timeout() -> None:
    row = parse_row(["3", "3", "-12", "2", "99", "7"], [("id", "integer"), ("x", "text")], 8192)
    assert row == {
        "count": 3,
        "bytes": 8192,
        "columns": {"id": "3:-12", "x": "2:99"},
        "max_id": 7,
    }
    empty = parse_row(["0", "0", "0", "0", "0", ""], [("id", "integer"), ("x", "text")], 0)
    assert empty["max_id"] is None
    assert timeout_for(0) == 60
    assert timeout_for(5 * 2**30) == 60 + 640


def test_fingerprint_database_runs_one_query_per_table_with_its_timeout() -> None:
    asked: list[tuple[str, float]] = []

    def query(sql: str, timeout: float) -> list[list[str]]:
        asked.append((sql, timeout))
        if sql == SCHEMA_SQL:
            return [["a", str(80 * 2**20), '[["id", "bigint"]]'], ["b", "0", '[["v", "text"]]']]
        return [["1", "1", "7", "1", "8"]] if 'public."b"' in sql else [["1", "1", "7", "5"]]

    result = fingerprint_database(query)
    assert result["a"] == {"count": 1, "bytes": 80 * 2**20, "columns": {"id": "1:7"}, "max_id": 5}
    assert result["b"]["columns"] == {"v": "1:7", "<row>": "8"}
    assert [t for _, t in asked[1:]] == [70.0, 60.0], "the schema in one query"
    assert fingerprint_database(query, ["b", "gone"]).keys() == {"b"}


INI = """[local.py]
SECRET_KEY = s3cr3t
DATABASE_NAME = atmo_prod
DATABASE_HOST = db.example.org
DATABASE_PASSWORD = real
MAINTENANCE_EXEMPT_USERNAMES = bot
"""


def test_the_copy_settings_change_only_the_database() -> None:
    text = settings_for_copy(INI, "127.0.0.1", 5432, "verify", "atmo_app", "throwaway")
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini.read_string(text)
    assert dict(ini["local.py"]) == {
        "SECRET_KEY": "s3cr3t",
        "DATABASE_NAME": "verify",
        "DATABASE_HOST": "127.0.0.1",
        "DATABASE_PASSWORD": "throwaway",
        "MAINTENANCE_EXEMPT_USERNAMES": "bot",
        "DATABASE_PORT": "5432",
        "DATABASE_USER": "atmo_app",
    }


def test_the_migrate_command_on_the_copy() -> None:
    service = Service(
        name="atmosphere",
        image="cyverse/atmosphere",
        venv="/opt/env/atmo",
        workdir="/opt/dev/atmosphere",
        url="http://x",
        ini="inis/atmosphere.ini",
        database="atmo_prod",
        maintenance_table="maintenance_record",
    )
    argv = manage_argv(
        "cyverse/atmosphere:release-v37-3", service, "copy-net", "/tmp/x/atmosphere.ini",
        {"org.cyverse.atmo-release.rehearsal": "run1"}, "migrate", "--noinput", "-v", "2",
    )  # fmt: skip
    ini = "/opt/dev/atmosphere-docker-secrets/inis/atmosphere.ini"
    assert argv == [
        "docker", "run", "--rm",
        "--label", "org.cyverse.atmo-release.rehearsal=run1",
        "--cpu-shares", "128",
        "--network", "copy-net",
        "-v", f"/tmp/x/atmosphere.ini:{ini}:ro",
        "--entrypoint", "/bin/sh",
        "cyverse/atmosphere:release-v37-3",
        "-c",
        'set -e; ln -sfn "$1" "$2/variables.ini"; cd "$2"; export PATH="$3/bin:$PATH"; '
        './configure >&2; shift 3; exec python ./manage.py "$@"',
        "atmo-release-migrations", ini, "/opt/dev/atmosphere", "/opt/env/atmo",
        "migrate", "--noinput", "-v", "2",
    ]  # fmt: skip
    assert isinstance(argv, Read)  # it changes the throwaway copy only: a plan runs it


def test_the_image_that_never_reached_the_copy_is_told_from_a_failing_migration() -> None:
    traceback = (
        "Traceback (most recent call last):\n  ...\n"
        'django.db.utils.OperationalError: could not translate host name "postgres" to '
        "address: Name or service not known\n\n"
    )
    assert unreached(traceback) == (
        'django.db.utils.OperationalError: could not translate host name "postgres" to '
        "address: Name or service not known"
    )
    refused = 'connection to server at "10.1.2.3", port 5432 failed: Connection refused'
    assert unreached(f"x\n{refused}\n\tIs the server running") == refused
    assert unreached('FATAL:  password authentication failed for user "atmo_app"') == ""
    answered = 'connection to server at "10.1.2.3", port 5432 failed: FATAL:  password failed'
    assert unreached(answered) == ""  # a server answered: not a network that reaches nothing
    assert unreached("requests.exceptions.ConnectionError: Connection refused") == ""
    assert unreached('django.db.utils.ProgrammingError: column "name" does not exist') == ""


def test_the_unapplied_migrations_in_plan_order() -> None:
    plan = (
        "[X]  contenttypes.0001_initial\n[X]  core.0001_initial\n"
        "[ ]  core.0002_instance_is_running_volume\n[ ]  core.0003_data_cleanup\n"
    )
    assert unapplied(plan) == ["core.0002_instance_is_running_volume", "core.0003_data_cleanup"]
    assert unapplied("[X]  core.0001_initial\n") == []


def test_applied_timings_from_migrate_verbose_output() -> None:
    out = (
        "Operations to perform:\n  Apply all migrations: core\nRunning migrations:\n"
        "  Applying core.0002_instance_is_running_volume... OK (0.125s)\n"
        "  Applying core.0003_data_cleanup... OK (12.5s)\n"
    )
    assert applied_timings(out) == {
        "core.0002_instance_is_running_volume": 0.125,
        "core.0003_data_cleanup": 12.5,
    }


def test_window_dump_flags_name_exact_tables() -> None:
    assert pg.tables_only(["core_event", 'o"dd']) == [
        "--data-only", "-t", 'public."core_event"', "-t", 'public."o""dd"',
    ]  # fmt: skip
    assert pg.host_dump("h", 5, "u", "d", "/b/x.sql", ["--data-only"])[-3:] == [
        "--data-only", "-f", "/b/x.sql",
    ]  # fmt: skip


def test_replace_rows_defers_constraints_then_empties_each_table() -> None:
    assert replace_rows_sql(["core_event", "core_instance"]) == [
        "SET CONSTRAINTS ALL DEFERRED",
        'DELETE FROM public."core_event"',
        'DELETE FROM public."core_instance"',
    ]


def test_rows_in_a_plain_dump_are_counted_by_awk_on_the_target(tmp_path: Path) -> None:
    if subprocess.run(["which", "awk"], capture_output=True).returncode:
        pytest.skip("awk is not installed")
    dump = tmp_path / "d.sql"
    dump.write_text(
        "SET x;\nCOPY public.core_event (id, payload) FROM stdin;\n1\tCOPY public.fake\n"
        '2\tb\\\\.\n\\.\nCOPY public."We ird" (id) FROM stdin;\n\\.\n'
        "SELECT pg_catalog.setval('public.core_event_id_seq', 2, true);\n"
    )
    assert rows_in_dump(LocalTarget(), dump) == {"core_event": 2, "We ird": 0}
    with pytest.raises(CheckFailed, match="could not be counted"):
        rows_in_dump(LocalTarget(), tmp_path / "missing.sql")


def test_a_window_dump_must_hold_the_stopped_counts() -> None:
    require_rows(Path("w.sql"), {"a": 2, "b": 0}, {"a": 2, "b": 0})
    with pytest.raises(CheckFailed, match="a: 3 rows in the stopped database, 2 in the dump"):
        require_rows(Path("w.sql"), {"a": 2}, {"a": 3, "b": 0})


def test_a_grown_table_gives_only_its_new_rows_and_gets_its_sequence_back() -> None:
    assert rows_after_sql("core_event", 41) == (
        'COPY (SELECT * FROM public."core_event" WHERE "id" > 41) TO STDOUT'
    )
    assert "pg_get_serial_sequence('public.\"core_event\"', 'id')" in sequence_value_sql(
        "core_event"
    )
    assert sequence_sql("core_event", 57) == (
        "SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence("
        "'public.\"core_event\"', 'id'), 57);\n"
    )
    assert sequence_sql("t", None) == ""


def test_the_files_of_a_window_dump_decision() -> None:
    assert files(None) == [] and files({"tables": []}) == []
    window = {"tables": ["a"], "path": "/w.sql", "grown": {"e": {"path": "/e.rows"}}}
    assert files(window) == ["/w.sql", "/e.rows"]
