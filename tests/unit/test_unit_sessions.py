"""The databases' other sessions, read from pg_stat_activity on a fake target: named in
preflight (the apps told apart by their container addresses, or not at all with network_mode
host), waited for once the apps have stopped, and a halt naming each one that stays."""

from __future__ import annotations

from dataclasses import replace

from atmo_release.commands import psql
from atmo_release.data.sessions import APPLICATION_NAME, client_env, sessions_sql
from atmo_release.release_day.deployment import Deployment
from tests.unit.fake_target import FakeTarget, answer_containers, container
from tests.unit.refusals import refusal

SQL = sessions_sql(["atmo_prod", "troposphere"])
T0 = "2026-12-01T16:02:03Z"


def row(pid: int, address: str, application: str = "", state: str = "idle", xact: str = "") -> str:
    user, app = b"atmo_app".hex(), application.encode().hex()
    return f"{pid}\tatmo_prod\t{user}\t{app}\t{address}\t{T0}\t{state}\t{xact}\n"


class Readings(FakeTarget):
    """pg_stat_activity answers one reading after the other (the last one stays)."""

    def __init__(self, *readings: str) -> None:
        super().__init__()
        self.readings = list(readings)

    def _answer_for(self, argv: tuple[str, ...]) -> tuple[int, str]:
        if argv[-1] == SQL:
            return 0, self.readings.pop(0) if len(self.readings) > 1 else self.readings[0]
        return super()._answer_for(argv)


def containers(fake: FakeTarget, network_mode: str, address: str) -> None:
    networks = {"Networks": {"n": {"IPAddress": address}}}
    answer_containers(
        fake,
        container(
            "c1",
            "atmosphere",
            "cyverse/atmosphere:release-v37-2",
            HostConfig={"NetworkMode": network_mode},
            NetworkSettings=networks,
        ),
    )


def on(target: FakeTarget, deployment: Deployment, wait_s: float) -> Deployment:
    deployment.target = target
    deployment.env = replace(
        deployment.env, database=replace(deployment.env.database, other_sessions_wait_s=wait_s)
    )
    deployment.other_sessions.poll_s = 0.01
    deployment.record.begin_step("Stop the containers and back them up", "nothing else")
    return deployment


def test_the_query_leaves_out_only_this_runs_sessions_and_server_processes() -> None:
    assert "datname IN ('atmo_prod', 'troposphere')" in SQL
    assert "pid <> pg_backend_pid()" in SQL
    assert f"application_name IS DISTINCT FROM '{APPLICATION_NAME}'" in SQL
    assert "coalesce(backend_type, 'client backend') = 'client backend'" in SQL
    assert "AT TIME ZONE 'UTC'" in SQL  # whatever the session's TimeZone
    assert client_env("pw") == {
        "PGPASSWORD": "pw",
        "PGAPPNAME": "atmo-release",
        "PGOPTIONS": psql.PGOPTIONS,
    }


def test_preflight_names_the_clients_that_are_not_the_apps(deployment: Deployment) -> None:
    fake = Readings(row(11, "172.18.0.5") + row(12, "10.0.0.9", "cron-cleanup") + row(13, ""))
    containers(fake, "atmosphere-docker_default", "172.18.0.5")
    on(fake, deployment, 0).other_sessions.note_clients()
    assert deployment.record.facts["clients_not_the_apps"] == [
        f"pid 12 atmo_app@atmo_prod from 10.0.0.9, application 'cron-cleanup', connected since "
        f"{T0}, idle",
        f"pid 13 atmo_app@atmo_prod over the local socket, no name, connected since {T0}, idle",
    ]
    note = deployment.record.steps[-1].notes[-1]
    assert note.startswith("clients of the databases that are not the apps: pid 12 atmo_app@")


def test_with_network_mode_host_every_client_is_listed_and_the_note_says_why(
    deployment: Deployment,
) -> None:
    fake = Readings(row(11, "127.0.0.1"))
    containers(fake, "host", "")
    on(fake, deployment, 0).other_sessions.note_clients()
    assert len(deployment.record.facts["clients_not_the_apps"]) == 1
    note = deployment.record.steps[-1].notes[-1]
    assert "network_mode host" in note and "cannot be told apart" in note
    assert note.endswith(
        f"pid 11 atmo_app@atmo_prod from 127.0.0.1, no name, connected since {T0}, idle"
    )


def test_a_session_that_ends_within_the_wait_is_named_and_the_run_goes_on(
    deployment: Deployment,
) -> None:
    fake = Readings(row(12, "10.0.0.9", "cron-cleanup", "active"), "")
    on(fake, deployment, 5).other_sessions.wait_until_gone()
    sessions = deployment.record.facts["other_sessions"]
    assert sessions["left"] == [] and sessions["seen"][0].startswith("pid 12 atmo_app@atmo_prod")
    assert deployment.record.steps[-1].notes[-1].startswith("1 other session(s) ended within")


def test_a_session_that_stays_halts_the_run_naming_it(deployment: Deployment) -> None:
    hidden = "13\tatmo_prod\t" + b"admin".hex() + "\t" + b"psql".hex() + "\t?\t\t\t\n"
    fake = Readings(row(12, "10.0.0.9", "cron-cleanup", "idle in transaction", T0) + hidden)
    assert refusal(lambda: on(fake, deployment, 0.05).other_sessions.wait_until_gone()) == (
        "2 session(s) other than this run's still connected to atmo_prod, troposphere 0.05 s after "
        "the apps stopped: pid 12 atmo_app@atmo_prod from 10.0.0.9, application 'cron-cleanup', "
        f"connected since {T0}, idle in transaction (its transaction open since {T0}); pid 13 "
        "admin@atmo_prod an address this role may not see (pg_read_all_stats shows it), "
        "application 'psql'; what they write after the databases are read would be lost to a "
        "rollback: stop them (a cron job, a Celery worker elsewhere, an admin's psql) or end them "
        "with SELECT pg_terminate_backend(pid) for pid 12, 13, then run again; nothing was read "
        "or backed up yet and maintenance stays on"
    )
    assert len(fake.commands(SQL)) >= 2  # read again while it waited


def test_nothing_else_connected_passes_at_once(deployment: Deployment) -> None:
    fake = Readings("")
    on(fake, deployment, 60).other_sessions.wait_until_gone()
    assert len(fake.commands(SQL)) == 1
    assert deployment.record.steps[-1].notes[-1] == (
        "no other session is connected to atmo_prod, troposphere"
    )
