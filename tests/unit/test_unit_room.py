"""The room preflight requires, filesystem by filesystem, on a fake target: the proven and the
window dumps at their worst where the backups go, two throwaway copies per database and the
backup images where Docker keeps its data, and the databases' own growth where PostgreSQL's data
shares a filesystem with either."""

from __future__ import annotations

import json
import time
from pathlib import Path

from atmo_release.release_day.deployment import Deployment
from tests.unit.fake_target import FakeTarget, answer_containers, container
from tests.unit.refusals import refusal

MIB = 2**20
DATA = "/var/lib/postgresql/15/main"


def host(
    fake: FakeTarget,
    free_mib: dict[str, int],
    devices: dict[str, str],
    data_directory: str | None = None,
) -> None:
    """Databases of 100 and 28 MiB, one container with 6 MiB of its own layer; `free_mib` and
    `devices` per folder (/root the backups, /var/lib/docker Docker's data, DATA PostgreSQL's);
    `data_directory`: what SHOW data_directory answers (None: it is refused)."""
    fake.answer("SELECT pg_database_size('atmo_prod')", stdout=f"{100 * MIB}\n")
    fake.answer("SELECT pg_database_size('troposphere')", stdout=f"{28 * MIB}\n")
    fake.answer("inspect", "--size", stdout=json.dumps([{"SizeRw": 6 * MIB}]))
    answer_containers(fake, container("c1", "atmosphere", "cyverse/atmosphere:release-v37-2"))
    fake.answer("{{.DockerRootDir}}", stdout="/var/lib/docker\n")
    if data_directory is None:
        fake.answer("SHOW data_directory", rc=1)
    else:
        fake.answer("SHOW data_directory", stdout=f"{data_directory}\n")
    folders = [folder for folder in ("/root", "/var/lib/docker", DATA) if folder in free_mib]
    fake.answer("stat", stdout="".join(f"{devices[f]}\n" for f in folders))
    fake.answer(
        "df",
        stdout="Filesystem 1-blocks Used Available Capacity Mounted on\n"
        + "".join(f"/dev/x 1 1 {free_mib[f] * MIB} 1% {f}\n" for f in folders),
    )
    fake.answer("date", stdout=f"{int(time.time())}\n")


def test_everything_on_one_filesystem_counts_dumps_copies_and_layers(
    deployment: Deployment, fake: FakeTarget
) -> None:
    """128 MiB of databases: proven and window dumps 256, copies 256, layers 6, margin 512."""
    deployment.record.begin_step("Preflight", "room")
    host(fake, {"/root": 1030, "/var/lib/docker": 1030}, {"/root": "64", "/var/lib/docker": "64"})
    deployment.host.check_room_and_clock()
    disk = deployment.record.facts["disk"]
    assert [fs["places"] for fs in disk["filesystems"]] == [
        {"the backup directory": "/root", "Docker's data": "/var/lib/docker"}
    ]
    assert disk["filesystems"][0]["needs_bytes"] == {
        "proven dumps": 128 * MIB,
        "window dumps at their worst": 128 * MIB,
        "two throwaway copies per database": 256 * MIB,
        "container layers": 6 * MIB,
        "margin": 512 * MIB,
    }
    assert "growth is not counted" in disk["postgres_data"]


def test_one_mib_short_is_refused_with_every_part_named(
    deployment: Deployment, fake: FakeTarget
) -> None:
    """The databases, the layers and the margin alone (646 MiB) would fit in 1029 MiB."""
    host(fake, {"/root": 1029, "/var/lib/docker": 1029}, {"/root": "64", "/var/lib/docker": "64"})
    assert refusal(deployment.host.check_room_and_clock) == (
        "not enough room in the backup directory /root and Docker's data /var/lib/docker: "
        "1029 MiB free, 1030 MiB needed (proven dumps 128 MiB, window dumps at their worst "
        "128 MiB, two throwaway copies per database 256 MiB, container layers 6 MiB, margin "
        "512 MiB); nothing was changed"
    )


def test_docker_elsewhere_is_checked_on_its_own_filesystem(
    deployment: Deployment, fake: FakeTarget
) -> None:
    host(fake, {"/root": 900, "/var/lib/docker": 700}, {"/root": "64", "/var/lib/docker": "65"})
    assert refusal(deployment.host.check_room_and_clock).startswith(
        "not enough room in Docker's data /var/lib/docker: 700 MiB free, 774 MiB needed "
        "(two throwaway copies per database 256 MiB, container layers 6 MiB, margin 512 MiB)"
    )
    assert fake.commands("stat", "-L", "-c", "%d", "--", "/root", "/var/lib/docker")


def test_postgres_data_beside_the_backups_counts_the_databases_own_growth(
    deployment: Deployment, fake: FakeTarget
) -> None:
    deployment.record.begin_step("Preflight", "room")
    fake.files[Path(DATA)] = ""
    free = {"/root": 2000, "/var/lib/docker": 2000, DATA: 2000}
    host(fake, free, {"/root": "64", "/var/lib/docker": "65", DATA: "64"}, DATA)
    deployment.host.check_room_and_clock()
    backups, docker = deployment.record.facts["disk"]["filesystems"]
    assert backups["places"] == {"the backup directory": "/root", "PostgreSQL's data": DATA}
    assert backups["needs_bytes"]["the databases' own growth (PostgreSQL's data is here too)"] == (
        128 * MIB
    )
    assert "growth" not in " ".join(docker["needs_bytes"])
    note = deployment.record.steps[-1].notes[-1]
    assert f"the backup directory /root and PostgreSQL's data {DATA}: 2000 MiB free for 896" in note


def test_postgres_data_that_is_not_on_the_host_is_said_and_not_counted(
    deployment: Deployment, fake: FakeTarget
) -> None:
    host(fake, {"/root": 2000, "/var/lib/docker": 2000}, {"/root": "64", "/var/lib/docker": "64"},
         "/var/lib/postgresql/data")  # fmt: skip
    deployment.host.check_room_and_clock()
    said = deployment.record.facts["disk"]["postgres_data"]
    assert said.startswith("PostgreSQL's data (/var/lib/postgresql/data) is not on the deploy")
    assert not fake.commands("stat", "-L", "-c", "%d", "--", "/root", "/var/lib/docker", DATA)
