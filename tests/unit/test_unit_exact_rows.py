"""Exact row checks without Docker: the session settings every client carries (exact argv and
env), readings that add up, the load of the window dumps onto a copy, and stamped columns told
apart and shaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atmo_release.commands import docker, psql, restore
from atmo_release.commands.compose import Compose
from atmo_release.data import restore_stream, stamps
from atmo_release.data.client import DatabaseClient
from atmo_release.data.fingerprint import (
    SCHEMA_SQL,
    combine,
    fingerprint_database,
    table_sql,
)
from atmo_release.data.restore_stream import Part, inline, window_parts
from atmo_release.data.sessions import APPLICATION_NAME, client_env
from atmo_release.data.throwaway_copy import ThrowawayCopy, remove_left_by
from atmo_release.environment import Database
from tests.unit.fake_target import FakeTarget

SETTINGS = (
    "-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex -c lc_monetary=C"
)
COMPOSE = Compose(("docker-compose",), "docker-compose.prod.yml", "atmosphere-docker")


class EnvTarget(FakeTarget):
    """A fake target that also keeps the env each command was given."""

    def __init__(self) -> None:
        super().__init__()
        self.envs: list[dict[str, str] | None] = []

    def run(self, argv: Any, **kwargs: Any) -> Any:
        self.envs.append(kwargs.get("env"))
        return super().run(argv, **kwargs)


CLIENT = {"PGAPPNAME": APPLICATION_NAME, "PGOPTIONS": SETTINGS}


def test_one_set_of_session_settings_for_every_client() -> None:
    assert psql.PGOPTIONS == SETTINGS
    assert client_env() == CLIENT
    assert client_env("pw") == {**CLIENT, "PGPASSWORD": "pw"}


def test_the_host_database_is_read_with_the_settings_in_the_environment_only() -> None:
    target = EnvTarget()
    client = DatabaseClient(
        target, Database("host", "atmo_app", ("atmo_prod",), "x"), "pw", COMPOSE
    )
    client.query("atmo_prod", "SELECT 1")
    assert target.calls == [
        ("psql", "-h", "127.0.0.1", "-p", "5432", "-U", "atmo_app", "-d", "atmo_prod",
         *psql.FLAGS, "-c", "SELECT 1"),
    ]  # fmt: skip
    assert target.envs == [{**CLIENT, "PGPASSWORD": "pw"}]


def test_a_compose_database_gets_the_settings_into_the_container_by_name() -> None:
    target = EnvTarget()
    config = Database("service", "atmo_app", ("atmo_prod",), "x", service="postgres")
    DatabaseClient(target, config, "pw", COMPOSE).query("atmo_prod", "SELECT 1")
    assert target.calls[0][:13] == (
        "docker-compose", "-f", "docker-compose.prod.yml", "-p", "atmosphere-docker", "exec",
        "-T", "-e", "PGAPPNAME", "-e", "PGOPTIONS", "-e", "PGPASSWORD",
    )  # fmt: skip
    assert target.envs == [{**CLIENT, "PGPASSWORD": "pw"}]  # the values: compose's own env


def test_the_throwaway_copy_is_read_with_the_same_settings() -> None:
    argv = docker.exec_throwaway("c1", ["psql", "-c", "SELECT 1"], 60, env=client_env())
    assert argv == [
        "docker", "exec", "-u", "root", "-e", "PGAPPNAME", "-e", "PGOPTIONS", "c1",
        "timeout", "60", "psql", "-c", "SELECT 1",
    ]  # fmt: skip


def test_a_detached_migration_stays_until_it_is_waited_for() -> None:
    argv = docker.run_once(
        "img", ["m"], entrypoint="/p", network="container:c", mounts={}, labels={}, detach=True
    )
    assert argv[:3] == ["docker", "run", "-d"] and "--rm" not in argv
    assert docker.wait("c9") == ["docker", "wait", "c9"]


def test_the_rows_above_an_id_and_readings_that_add_up() -> None:
    assert table_sql("t", [("id", "bigint")], after=41).endswith(
        ' FROM public."t" t WHERE "id" > 41'
    )
    old = {"count": 2, "bytes": 9, "columns": {"id": "2:5", "v": "1:-7"}, "max_id": 2}
    new = {"count": 1, "bytes": 1, "columns": {"id": "1:3", "v": "1:10"}, "max_id": 3}
    assert combine(old, new) == {
        "count": 3,
        "bytes": 9,
        "columns": {"id": "3:8", "v": "2:3"},
        "max_id": 3,
    }
    asked: list[str] = []

    def query(sql: str, timeout: float) -> list[list[str]]:
        asked.append(sql)
        if sql == SCHEMA_SQL:
            return [["t", "0", '[["id", "bigint"]]']]
        return [["1", "1", "3", "3"]]

    assert fingerprint_database(query, after={"t": 2})["t"]["count"] == 1
    assert asked[-1].endswith('WHERE "id" > 2')


def test_the_window_dumps_load_onto_a_copy_as_the_rollback_loads_them() -> None:
    window = {
        "tables": ["core_allocation"],
        "path": "/b/atmo-window-2026-12-01.sql",
        "grown": {"core_event": {"path": "/b/atmo-window-core_event.rows", "sequence": 57}},
    }
    where = {
        "/b/atmo-window-2026-12-01.sql": "/dump/w.sql",
        "/b/atmo-window-core_event.rows": "/dump/e",
    }
    parts = window_parts(window)
    assert inline(parts, lambda path: where[path]) == [
        't:SET CONSTRAINTS ALL DEFERRED;\nDELETE FROM public."core_allocation";\n',
        "f:/dump/w.sql",
        't:COPY public."core_event" FROM stdin;\n',
        "f:/dump/e",
        "t:\\.\nSELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence("
        "'public.\"core_event\"', 'id'), 57);\n",
    ]
    # the rollback's restore loads the same parts between the dump and the carried-over records
    assert restore_stream.parts("/b/d.sql", window, {})[2:-1] == parts
    assert window_parts({"tables": [], "grown": {}}) == [] and window_parts({}) == []
    fed = restore.fed_parts(inline([Part("a", "BEGIN;\n"), *parts], str), ["psql", "-f", "-"])
    assert fed[:2] == ["sh", "-c"] and fed[4] == "6" and fed[-3:] == ["psql", "-f", "-"]


def reading(count: int, **columns: str) -> dict[str, Any]:
    return {"count": count, "columns": columns}


def test_columns_that_differ_between_two_runs_are_stamped_by_the_migration_that_made_them() -> None:
    first = {
        "core_allocation": reading(3, id="i", end_date="e", reviewed_at="3:1"),
        "core_instance": reading(2, id="j", is_running="r", uuid="2:5", stamped_at="2:6"),
        "core_event": reading(4, id="k"),
    }
    second = {
        "core_allocation": reading(3, id="i", end_date="e", reviewed_at="3:2"),
        "core_instance": reading(2, id="j", is_running="r", uuid="2:8", stamped_at="2:9"),
        "core_event": reading(3, id="k"),
    }
    columns, rows = stamps.differing_columns(first, second)
    assert columns == {
        "core_allocation": ["reviewed_at"],
        "core_instance": ["stamped_at", "uuid"],
    }
    assert rows == ["core_event"]

    def changed(table: str, *columns: str) -> dict[str, Any]:
        return {table: {"whole_table": False, "columns": list(columns)}}

    steps = [
        ("core.0002_is_running", changed("core_instance", "is_running")),
        ("core.0003_reviewed", changed("core_allocation", "reviewed_at")),
        ("core.0004_stamps", changed("core_instance", "stamped_at", "uuid")),
    ]
    stamped = stamps.attribute(columns, steps)
    assert stamped == {
        "core_allocation": {"reviewed_at": ["core.0003_reviewed"]},
        "core_instance": {"stamped_at": ["core.0004_stamps"], "uuid": ["core.0004_stamps"]},
    }
    assert stamps.by_migration(stamped) == {
        "core.0003_reviewed": ["core_allocation.reviewed_at"],
        "core.0004_stamps": ["core_instance.stamped_at", "core_instance.uuid"],
    }
    assert stamps.attribute({"t": ["c"]}, []) == {"t": {"c": ["the release's migrations"]}}


def test_a_shape_is_one_pass_with_the_distinct_count_of_the_stamped_columns_only() -> None:
    columns = [("id", "integer"), ("uuid", "uuid"), ("stamped_at", "timestamp with time zone")]
    assert stamps.shape_sql("core_instance", columns, ["stamped_at", "uuid"]) == (
        'SELECT count("stamped_at"), count(DISTINCT "stamped_at"), '
        'extract(epoch FROM min("stamped_at")), extract(epoch FROM max("stamped_at")), '
        'coalesce(sum(hashtextextended("id"::text, 0)) '
        'FILTER (WHERE "stamped_at" IS NOT NULL), 0), '
        'count("uuid"), count(DISTINCT "uuid"), NULL, NULL, '
        'coalesce(sum(hashtextextended("id"::text, 0)) FILTER (WHERE "uuid" IS NOT NULL), 0) '
        'FROM public."core_instance"'
    )  # fmt: skip
    assert "hashtextextended" not in stamps.shape_sql("t", [("v", "uuid")], ["v"])

    def query(sql: str, timeout: float) -> list[list[str]]:
        if "information_schema.columns" in sql:
            return [["core_instance", name, kind] for name, kind in columns]
        return [["40", "40", "1000.5", "1001.5", "-9", "40", "40", "", "", "-9"]]

    shapes = stamps.read_shapes(query, {"core_instance": {"uuid": ["m"], "stamped_at": ["m"]}})
    every_row = {"values": 40, "distinct": 40, "ids": "-9"}
    assert shapes == {
        "core_instance": {
            "stamped_at": {**every_row, "first": 1000.5, "last": 1001.5},
            "uuid": {**every_row, "first": None, "last": None},
        }
    }  # fmt: skip
    assert stamps.kind(shapes["core_instance"]["uuid"]) == "a different value in every row"
    assert stamps.kind({"values": 3, "distinct": 2}) == "some values repeated"
    assert stamps.kind({"values": 0, "distinct": 0}) == "no value"
    assert stamps.read_shapes(query, {"gone": {"c": ["m"]}}) == {}


def test_the_unmigrated_copy_is_a_file_copy_in_the_same_server() -> None:
    target = EnvTarget()
    copy = ThrowawayCopy(target, Path("/root/atmo-2026-12-01.sql"), "postgres:15", "atmo_app", "r1")
    copy.container_id, copy.server_major = "c1", 15
    copy.keep_unmigrated()
    in_copy = (
        "docker",
        "exec",
        "-u",
        "root",
        *("-e", "PGAPPNAME", "-e", "PGOPTIONS"),
        "c1",
        "timeout",
    )
    postgres = ("psql", *psql.FLAGS, "-U", "atmo_app", "-d", "postgres", "-c")
    create = 'CREATE DATABASE "window" TEMPLATE "verify" STRATEGY FILE_COPY'
    assert target.calls == [
        (*in_copy, "600", *postgres, 'DROP DATABASE IF EXISTS "window"'),
        (*in_copy, "3600", *postgres, create),
    ]
    assert target.envs == [CLIENT, CLIENT]  # the values the names in argv take
    assert copy.unmigrated == "window" and not [r for r in target.results if r.changes]
    assert copy.in_container(Path("/root/atmo-window-core_event-2026-12-01.rows")) == (
        "/dump/atmo-window-core_event-2026-12-01.rows"
    )
    with pytest.raises(ValueError, match="is not in /root, the folder of the dump"):
        copy.in_container(Path("/elsewhere/x.rows"))


def test_a_resumed_run_removes_the_throwaway_containers_of_the_run_that_died() -> None:
    target = FakeTarget()
    label = "label=org.cyverse.atmo-release.rehearsal=run-dead"
    target.answer("docker", "ps", stdout="c1\nc2\n")
    target.answer("docker", "network", "ls", stdout="n1\n")
    assert remove_left_by(target, "run-dead") == 2
    assert target.calls == [
        ("docker", "ps", "-a", "-q", "--no-trunc", "--filter", label),
        ("docker", "rm", "-f", "-v", "c1"),
        ("docker", "rm", "-f", "-v", "c2"),
        ("docker", "network", "ls", "-q", "--filter", label),  # the copies' internal networks
        ("docker", "network", "rm", "n1"),
    ]


def test_the_tables_of_a_reading_are_read_in_one_session() -> None:
    target = EnvTarget()
    columns = '[["id", "integer"]]'
    target.answer(SCHEMA_SQL, stdout=f"a\t0\t{columns}\nb\t0\t{columns}\n")
    target.answer(table_sql("a", [("id", "integer")]), stdout="1\t1\t5\t1\n2\t2\t9\t2\n")
    client = DatabaseClient(
        target, Database("host", "atmo_app", ("atmo_prod",), "x"), "pw", COMPOSE
    )
    reading = client.fingerprints("atmo_prod")
    assert [t["count"] for t in reading.values()] == [1, 2] and len(target.calls) == 2
    batch = target.calls[1]
    assert [batch[i + 1] for i, arg in enumerate(batch) if arg == "-c"] == [
        'SELECT count(*), count("id"), coalesce(sum(hashtextextended("id"::text, "id")), 0), '
        f'max("id") FROM public."{table}" t'
        for table in ("a", "b")
    ]
    assert target.envs[1] == {**CLIENT, "PGPASSWORD": "pw"}
