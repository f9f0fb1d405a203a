"""Commands are data: every builder's argv compared exactly."""

from pathlib import Path

import pytest

from atmo_release.commands import Read, docker, git, manage, psql
from atmo_release.commands.compose import Compose

V1 = Compose(("docker-compose",), "docker-compose.prod.yml", "atmosphere-docker")
V2 = Compose(("docker", "compose"), "/opt/dev/atmosphere-docker/docker-compose.prod.yml", "p")
BASE = ["docker-compose", "-f", "docker-compose.prod.yml", "-p", "atmosphere-docker"]


def test_compose_exec_without_tty() -> None:
    assert V1.exec_("troposphere", ["manage.py", "maintenance", "show"]) == [
        *BASE,
        "exec",
        "-T",
        "troposphere",
        "manage.py",
        "maintenance",
        "show",
    ]


def test_compose_exec_with_env_flags_sorted() -> None:
    env = {"PGUSER": "u", "PGPASSWORD": "p"}
    argv = V1.exec_("postgres", ["pg_dump", "-U", "atmo_app"], env=env)
    assert argv == [
        *BASE,
        "exec",
        "-T",
        "-e",
        "PGPASSWORD=p",
        "-e",
        "PGUSER=u",
        "postgres",
        "pg_dump",
        "-U",
        "atmo_app",
    ]


def test_compose_exec_with_an_empty_env() -> None:
    assert V1.exec_("a", ["true"], env={}) == [*BASE, "exec", "-T", "a", "true"]


def test_compose_lifecycle() -> None:
    assert V1.stop() == [*BASE, "stop"]
    assert V1.pull() == [*BASE, "pull"]
    assert V1.pull(["atmosphere", "troposphere"]) == [*BASE, "pull", "atmosphere", "troposphere"]
    assert V1.up() == [*BASE, "up", "-d"]
    assert V1.config() == [*BASE, "config"]
    assert V1.version() == ["docker-compose", "version"]


def test_compose_v2() -> None:
    base = [
        "docker",
        "compose",
        "-f",
        "/opt/dev/atmosphere-docker/docker-compose.prod.yml",
        "-p",
        "p",
    ]
    assert V2.up() == [*base, "up", "-d"]
    assert V2.version() == ["docker", "compose", "version"]


def test_docker_builders() -> None:
    assert docker.info() == ["docker", "info", "--format", "{{.ServerVersion}}"]
    assert docker.project_containers("atmosphere-docker") == [
        "docker",
        "ps",
        "-a",
        "-q",
        "--no-trunc",
        "--filter",
        "label=com.docker.compose.project=atmosphere-docker",
    ]
    assert docker.inspect(["a1", "b2"]) == ["docker", "inspect", "a1", "b2"]
    assert docker.image_inspect("cyverse/atmosphere:release-v37-3") == [
        "docker",
        "image",
        "inspect",
        "cyverse/atmosphere:release-v37-3",
    ]
    assert docker.pull("cyverse/atmosphere:release-v37-3") == [
        "docker",
        "pull",
        "cyverse/atmosphere:release-v37-3",
    ]
    assert docker.exec_("c1", ["ls", "-l"]) == ["docker", "exec", "c1", "ls", "-l"]
    assert docker.exec_("c1", ["id"], user="root") == ["docker", "exec", "-u", "root", "c1", "id"]
    assert docker.logs("c1", tail=5) == ["docker", "logs", "--tail", "5", "c1"]
    assert docker.logs("c1", "2026-12-01T15:00:00") == [
        "docker",
        "logs",
        "--since",
        "2026-12-01T15:00:00",
        "c1",
    ]


def test_docker_commit_with_labels() -> None:
    labels = {docker.BACKUP_FROM_LABEL: "cyverse/atmosphere:release-v37-2", "a.b": "1"}
    assert docker.commit("c1", "atmosphere-backup:2026-12-01", labels) == [
        "docker",
        "commit",
        "--change",
        "LABEL a.b=1",
        "--change",
        "LABEL org.cyverse.atmo-release.backup-of-image=cyverse/atmosphere:release-v37-2",
        "c1",
        "atmosphere-backup:2026-12-01",
    ]
    assert docker.commit("c1", "img", {}) == ["docker", "commit", "c1", "img"]


SECRETS = Path("/opt/dev/atmosphere-docker-secrets")
G = ["git", "-C", "/opt/dev/atmosphere-docker-secrets"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (git.checkout(SECRETS, "atmobeta"), [*G, "checkout", "atmobeta"]),
        (git.current_branch(SECRETS), [*G, "symbolic-ref", "--short", "-q", "HEAD"]),
        (git.rev_parse(SECRETS, "HEAD"), [*G, "rev-parse", "HEAD"]),
        (git.status(SECRETS), [*G, "status", "--porcelain"]),
        (git.diff(SECRETS), [*G, "diff", "HEAD"]),
        (git.fetch(SECRETS), [*G, "fetch", "--quiet"]),
        (git.incoming(SECRETS), [*G, "log", "--format=%H %an %ad %s", "--date=iso", "HEAD..@{u}"]),
        (git.reset_hard(SECRETS), [*G, "reset", "--hard", "--quiet"]),
        (git.pull(SECRETS), [*G, "pull", "--ff-only", "--quiet"]),
        (
            git.show(SECRETS, "abc123", "inis/atmosphere.ini"),
            [*G, "show", "abc123:inis/atmosphere.ini"],
        ),
        (
            git.last_commit_before(SECRETS, "atmobeta", "2026-11-20T17:00:00+00:00"),
            [*G, "rev-list", "-n", "1", "--before=2026-11-20T17:00:00+00:00", "atmobeta", "--"],
        ),
        (git.commit_date(SECRETS, "prod"), [*G, "log", "-1", "--format=%cI", "prod", "--"]),
    ],
)
def test_git_builders_all_use_dash_c(argv: list[str], expected: list[str]) -> None:
    assert argv == expected
    assert argv[:3] == G


def test_the_production_variables_reads_change_nothing() -> None:
    assert isinstance(git.last_commit_before(SECRETS, "atmobeta", "2026-11-20"), Read)
    assert isinstance(git.commit_date(SECRETS, "prod"), Read)


def test_git_accepts_a_relative_path_as_given() -> None:
    assert git.status(Path("secrets")) == ["git", "-C", "secrets", "status", "--porcelain"]


def test_maintenance_start_exact() -> None:
    assert manage.maintenance_start(
        "/opt/env/atmo", "/opt/dev/atmosphere", "2026-12-01 v37-3 deployment", "Down today."
    ) == [
        "/opt/env/atmo/bin/python",
        "/opt/dev/atmosphere/manage.py",
        "maintenance",
        "start",
        "--title",
        "2026-12-01 v37-3 deployment",
        "--message",
        "Down today.",
    ]


@pytest.mark.parametrize(
    "title",
    [
        'it\'s "v37-3"',
        "$(rm -rf /)",
        "a; rm -rf / ; b",
        "line one\nline two",
        "`id` && echo | cat > /tmp/x",
        "all of them: ' \" $(rm -rf /) ; \n `x`",
    ],
)
def test_maintenance_title_stays_one_argv_item(title: str) -> None:
    argv = manage.maintenance_start("/opt/env/atmo", "/opt/dev/atmosphere", title, title + "!")
    assert len(argv) == 8
    assert argv[5] == title
    assert argv[7] == title + "!"
    assert argv.count(title) == 1
    assert not any(item in ("bash", "sh", "-c", "source") for item in argv)


def test_manage_other_builders() -> None:
    assert manage.maintenance_stop("/opt/env/troposphere", "/opt/dev/troposphere") == [
        "/opt/env/troposphere/bin/python",
        "/opt/dev/troposphere/manage.py",
        "maintenance",
        "stop",
    ]
    assert manage.maintenance("/v", "/w", "show", "--dry-run") == [
        "/v/bin/python",
        "/w/manage.py",
        "maintenance",
        "show",
        "--dry-run",
    ]
    assert manage.migrate_check("/opt/env/atmo", "/opt/dev/atmosphere") == [
        "/opt/env/atmo/bin/python",
        "/opt/dev/atmosphere/manage.py",
        "migrate",
        "--check",
    ]
    assert manage.git_head("/opt/dev/atmosphere") == [
        "git",
        "-C",
        "/opt/dev/atmosphere",
        "rev-parse",
        "HEAD",
    ]


FLAGS = ["-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1"]


def test_psql_host_query() -> None:
    assert psql.host_query("127.0.0.1", 5432, "atmo_app", "atmo_prod", "SELECT 1") == [
        "psql",
        "-h",
        "127.0.0.1",
        "-p",
        "5432",
        "-U",
        "atmo_app",
        "-d",
        "atmo_prod",
        *FLAGS,
        "-c",
        "SELECT 1",
    ]


def test_psql_service_query() -> None:
    sql = "SELECT count(*) FROM maintenance_record WHERE end_date IS NULL"
    assert psql.service_query("atmo_app", "troposphere", sql) == [
        "psql",
        "-U",
        "atmo_app",
        "-d",
        "troposphere",
        *FLAGS,
        "-c",
        sql,
    ]


def test_psql_never_carries_a_password() -> None:
    argv = psql.host_query("db", 1, "u", "d", "SELECT 1")
    assert not any("password" in item.lower() or item == "-W" for item in argv)
