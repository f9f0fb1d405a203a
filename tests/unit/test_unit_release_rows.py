"""The record of the rows as the upgrade left them: the stamped tables read live inside the
window, every other table from the migrated copy once users are in, joined into one file whose
line count must be both parts' rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.commands import Read, files, psql
from atmo_release.data import way_back
from atmo_release.data.row_checks import Expected
from atmo_release.release_day.deployment import Deployment
from atmo_release.resources.proven_dumps import ProvenDumps
from atmo_release.resources.todays_copy import TABLES_WITH_ID_SQL
from atmo_release.resources.window_copies import WindowCopies
from tests.unit.fake_target import FakeTarget

BACKUPS = Path("/root")  # atmobeta's backup_dir
TABLES = "core_event\ncore_instance\ndjango_session\n"
STAMPED = {"core_instance": {"start_date": ["core.0002_stamp"]}}


class Copy:
    """The copy's part a record of rows touches: its tables and where psql runs."""

    owner, unmigrated, CLIENT_ENV = "postgres", "window", {"PGOPTIONS": "x"}

    def query(self, sql: str, timeout: float = 600, database: str | None = None) -> list[list[str]]:
        assert database == "window"
        return [[t] for t in TABLES.split()]

    def exec_argv(self, argv: list[str], timeout: float) -> Read:
        return Read(["docker", "exec", "copy1", *argv])


@pytest.fixture
def stamped_deployment(deployment: Deployment, fake: FakeTarget) -> Deployment:
    deployment.state.rehearsed = {"atmo_prod": {"stamped": STAMPED}, "troposphere": {}}
    fake.answer(TABLES_WITH_ID_SQL, stdout=TABLES)
    return deployment


def test_inside_the_window_only_the_stamped_tables_are_read_live(
    stamped_deployment: Deployment, fake: FakeTarget
) -> None:
    stamped_deployment.release_rows.save_stamped()
    state = stamped_deployment.state
    part = BACKUPS / "atmo-after-release-stamped-2026-12-01.rows"
    assert state.release_rows_stamped == {"atmo_prod": str(part), "troposphere": ""}
    assert state.release_rows == {}
    digests = fake.commands(way_back.digests_sql(["core_instance"]))
    assert len(digests) == 1 and part in fake.files
    assert not fake.commands(way_back.digests_sql(["core_event"]))


def with_copies(deployment: Deployment, counts: dict[str, int]) -> None:
    copies = deployment.resource(WindowCopies)
    reading = {t: {"count": n, "bytes": 10, "columns": {}} for t, n in counts.items()}
    copies.expected = {name: Expected(reading) for name in deployment.env.database.names}
    deployment.resource(ProvenDumps).copies = {n: Copy() for n in deployment.env.database.names}


def test_once_users_are_in_the_other_tables_come_from_the_copy_after_the_stamped_ones(
    stamped_deployment: Deployment, fake: FakeTarget
) -> None:
    stamped_deployment.release_rows.save_stamped()
    part = stamped_deployment.state.release_rows_stamped["atmo_prod"]
    fake.files[Path(part)] = "core_instance\t1\t7\n"
    with_copies(stamped_deployment, {"core_event": 2, "core_instance": 1})
    atmo = BACKUPS / "atmo-after-release-2026-12-01.rows"
    tropo = BACKUPS / "tropo-after-release-2026-12-01.rows"
    fake.answer("wc", "-l", "--", str(atmo), stdout=f"3 {atmo}\n")
    fake.answer("wc", "-l", "--", part, stdout=f"1 {part}\n")
    fake.answer("wc", "-l", "--", str(tropo), stdout=f"3 {tropo}\n")
    stamped_deployment.release_rows.save_from_copies()
    digests = way_back.digests_sql(["core_event"])
    copy_psql = ["docker", "exec", "copy1", "psql", *psql.FLAGS, "-U", "postgres", "-d", "window"]
    assert fake.commands(*files.preceded_by(part, [*copy_psql, "-c", digests]))
    every = way_back.digests_sql(["core_event", "core_instance"])
    assert fake.commands(*copy_psql, "-c", every)  # troposphere: nothing stamped
    assert stamped_deployment.state.release_rows == {
        "atmo_prod": str(atmo),
        "troposphere": str(tropo),
    }
    assert Path(part) not in fake.files, "the stamped part is in the whole file now"


def test_a_record_short_of_the_copy_s_rows_is_removed_and_fails(
    stamped_deployment: Deployment, fake: FakeTarget
) -> None:
    stamped_deployment.release_rows.save_stamped()
    part = stamped_deployment.state.release_rows_stamped["atmo_prod"]
    with_copies(stamped_deployment, {"core_event": 2, "core_instance": 1})
    atmo = BACKUPS / "atmo-after-release-2026-12-01.rows"
    fake.answer("wc", "-l", "--", str(atmo), stdout=f"2 {atmo}\n")
    fake.answer("wc", "-l", "--", part, stdout=f"1 {part}\n")
    with pytest.raises(CheckFailed, match=r"holds 2 rows, not 3 \(2 of the migrated copy's"):
        stamped_deployment.release_rows.save_from_copies()
    assert atmo not in fake.files and Path(part) in fake.files
    assert stamped_deployment.state.release_rows == {}


def test_without_the_window_s_part_no_record_is_completed(
    stamped_deployment: Deployment, fake: FakeTarget
) -> None:
    with_copies(stamped_deployment, {"core_event": 2})
    with pytest.raises(CheckFailed, match="stamped tables were not recorded inside the window"):
        stamped_deployment.release_rows.save_from_copies()
    assert not fake.commands("COPY")


def test_a_file_joined_before_a_reading_stops_the_reading_when_it_cannot_be_read() -> None:
    argv: Any = files.preceded_by("/b/part.rows", Read(["psql"]))
    assert isinstance(argv, Read)
    assert argv == [
        "sh",
        "-c",
        'f=$1; shift; cat -- "$f" || exit 66; exec "$@"',
        "sh",
        "/b/part.rows",
        "psql",
    ]
