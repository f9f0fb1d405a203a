"""A plan runs reads only, and what reads is decided where a command is built: a change built
anywhere (a builder, or an argv list written by hand) is planned, never run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from atmo_release.commands import Read, docker, files, git, manage, pg, read
from atmo_release.commands.compose import Compose
from atmo_release.target import LocalTarget, PlanTarget, Result

COMPOSE = Compose(("docker-compose",), "/opt/dev/atmosphere-docker/docker-compose.prod.yml", "p")
CHECKOUT = Path("/opt/dev/atmosphere-docker")


class RecordingTarget(LocalTarget):
    """Runs nothing: records each argv it was asked to run."""

    def __init__(self) -> None:
        super().__init__()
        self.ran: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], **kwargs: object) -> Result:  # type: ignore[override]
        self.ran.append(tuple(argv))
        return self._emit(Result(tuple(argv), 0, "out", "", 0.0, changes=False))


READS = [
    docker.info(),
    docker.inspect(["c1"]),
    docker.logs("c1", "2026-01-01T00:00:00Z"),
    docker.exec_("c1", manage.migrate_check("/opt/env/atmo", "/opt/dev/atmosphere")),
    git.rev_parse(CHECKOUT, "HEAD"),
    git.fetch(CHECKOUT),
    git.show(CHECKOUT, "HEAD", "docker-compose.prod.yml"),
    COMPOSE.config(),
    COMPOSE.exec_("postgres", read(["pg_isready"])),
    pg.count_copy_rows("/root/atmo.sql"),
    read(["df", "-P", "/root"]),
    files.mode_and_size("/root/atmo.sql"),
    files.last_bytes("/root/atmo.sql", 4096),
    # a throwaway server: created, restored into and removed, the deployment untouched
    docker.image_volumes("postgres:15"),
    docker.pull_throwaway("postgres:15"),
    docker.create_throwaway(
        "postgres:15", ["postgres"], labels={}, env={}, mounts={"/root/a.sql": "/a"}, volumes=[]
    ),
    docker.start_throwaway("c1"),
    docker.exec_throwaway("c1", pg.restore_plain("atmo_app", "verify", "/dump/a.sql"), 60),
    docker.remove_throwaway("c1"),
]
CHANGES = [
    docker.pull("cyverse/atmosphere:release-v37-3"),
    docker.commit("c1", "old_atmosphere:release-v37-2", {}),
    git.reset_hard(CHECKOUT),
    git.pull(CHECKOUT),
    git.checkout(CHECKOUT, "prod"),
    git.clone("https://example.org/atmosphere-docker.git", CHECKOUT),
    COMPOSE.stop(),
    COMPOSE.up(),
    COMPOSE.exec_("atmosphere", manage.maintenance_start("/v", "/w", "title", "message")),
    docker.exec_("c1", pg.restore_plain("atmo_app", "atmo_prod", "/a.sql"), user="root"),
    pg.host_dump("h", 5432, "atmo_app", "atmo_prod", "/root/atmo.sql"),
    ["cp", "--", "/root/atmo.sql", "/opt/dev/atmosphere-docker/postgres/"],
]


@pytest.mark.parametrize("argv", READS, ids=lambda a: " ".join(a[:3]))
def test_a_read_runs_in_a_plan(argv: list[str]) -> None:
    inner = RecordingTarget()
    result = PlanTarget(inner).run(argv)
    assert isinstance(argv, Read)
    assert inner.ran == [tuple(argv)] and not result.planned


@pytest.mark.parametrize("argv", CHANGES, ids=lambda a: " ".join(a[:3]))
def test_a_change_is_planned_never_run(argv: list[str]) -> None:
    inner = RecordingTarget()
    seen: list[Result] = []
    inner.listeners.append(lambda result, redactor: seen.append(result))
    result = PlanTarget(inner).run(argv)
    assert inner.ran == []
    assert result.planned and result.changes and result.ok
    assert [r.argv for r in seen] == [tuple(argv)]


def test_file_changes_are_planned_and_reads_pass_through(tmp_path: Path) -> None:
    existing = tmp_path / "docker-compose.prod.yml"
    existing.write_text("image: a\n")
    plan = PlanTarget(LocalTarget())
    plan.write_text(existing, "image: b\n")
    assert plan.create_exclusive(tmp_path / "lock", "me")
    plan.remove(existing)
    assert existing.read_text() == "image: a\n" and not (tmp_path / "lock").exists()
    assert plan.read_text(existing) == "image: a\n" and plan.exists(existing)


def test_a_local_run_records_whether_it_changed_anything() -> None:
    target = LocalTarget()
    assert not target.run(read(["true"])).changes
    assert target.run(["true"]).changes
