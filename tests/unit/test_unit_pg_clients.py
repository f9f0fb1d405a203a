"""PostgreSQL clients run without Debian's wrapper only where it would exec the same binary,
and the record still names the command as it was built."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from atmo_release.environment import SshSettings
from atmo_release.target import LocalTarget, SshTarget
from atmo_release.target.pg_clients import PROGRAMS, SURVEY_ARGV, WRAPPER, Direct, parse_survey

FAKE_SSH = Path(__file__).parent / "data" / "fake-ssh"
MISSING = "/usr/lib/postgresql/99/bin/psql"  # newest in the survey below, on no machine
SURVEY = f"psql\t{WRAPPER}\nbin\t/usr/lib/postgresql/15/bin/psql\nbin\t{MISSING}\n"


def test_the_newest_version_of_each_wrapped_program_is_chosen() -> None:
    direct = parse_survey(
        f"psql\t{WRAPPER}\npg_dump\t{WRAPPER}\npg_restore\t/usr/local/bin/pg_restore\n"
        "bin\t/usr/lib/postgresql/9.6/bin/psql\nbin\t/usr/lib/postgresql/16/bin/psql\n"
        "bin\t/usr/lib/postgresql/15/bin/psql\nbin\t/usr/lib/postgresql/15/bin/pg_dump\n"
        "bin\t/usr/lib/postgresql/16/bin/pg_restore\nsysconfdir\t/etc/pg\n"
    )
    assert direct == Direct(
        {
            "psql": "/usr/lib/postgresql/16/bin/psql",
            "pg_dump": "/usr/lib/postgresql/15/bin/pg_dump",
        },
        "/etc/pg",
    )
    assert parse_survey("psql\t/usr/bin/psql\nbin\t/usr/lib/postgresql/15/bin/psql\n") == Direct()


@pytest.mark.parametrize(
    ("argv", "env", "direct"),
    [
        (["psql", "-h", "db", "-d", "x", "-c", "SELECT 1"], {}, True),
        (["pg_dump", "--host=db", "-d", "x"], {}, True),
        (["psql", "-d", "x"], {"PGHOST": "db"}, True),
        (["psql", "-d", "x", "-c", "SELECT 1"], {}, False),  # a local cluster may be chosen
        (["psql", "--cluster", "15/main", "-h", "db"], {}, False),
        (["psql", "-d", "x", "--", "-h"], {}, False),
        (["pg_restore", "-h", "db"], {}, False),  # not the wrapper on that host
        (["docker", "exec", "db", "psql", "-h", "db"], {}, False),
    ],
)
def test_only_a_command_naming_a_host_skips_the_wrapper(
    argv: list[str], env: dict[str, str], direct: bool
) -> None:
    clients = Direct({"psql": "/usr/lib/postgresql/16/bin/psql", "pg_dump": "/b/pg_dump"})
    executed, executed_env = clients.argv_env(argv, {"PGPASSWORD": "pw"}, env)
    if direct:
        assert executed[1:] == argv[1:] and executed[0].startswith("/")
        assert executed_env == {"PGSYSCONFDIR": "/etc/postgresql-common", "PGPASSWORD": "pw"}
    else:
        assert (executed, executed_env) == (argv, {"PGPASSWORD": "pw"})


def test_the_survey_reports_each_program_found_and_the_sysconfdir(tmp_path: Path) -> None:
    (tmp_path / "psql").write_text("#!/bin/sh\n")
    (tmp_path / "psql").chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "PGSYSCONFDIR": "/etc/elsewhere"}
    out = subprocess.run(SURVEY_ARGV, env=env, capture_output=True, text=True, check=True).stdout
    assert f"psql\t{tmp_path}/psql\n" in out
    assert out.endswith("sysconfdir\t/etc/elsewhere\n")
    keys = {*PROGRAMS, "bin", "sysconfdir"}
    assert all(line.split("\t")[0] in keys for line in out.splitlines())


def test_the_local_target_records_the_command_built_and_runs_the_binary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = LocalTarget()
    surveys: list[list[str]] = []
    monkeypatch.setattr(target, "_survey", lambda argv: surveys.append(list(argv)) or SURVEY)
    assert target.run(["true"]).ok and surveys == []  # no survey for other programs
    result = target.run(["psql", "-h", "db", "-c", "SELECT 1"])
    assert result.argv == ("psql", "-h", "db", "-c", "SELECT 1")
    assert result.rc == 127 and MISSING in result.stderr
    assert target.run(["psql", "-h", "db"]).rc == 127 and surveys == [SURVEY_ARGV]


def test_the_ssh_target_runs_the_binary_on_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{FAKE_SSH}{os.pathsep}{os.environ['PATH']}")
    target = SshTarget(SshSettings("root@deploy-host", 2222)).open()
    monkeypatch.setattr(target, "_survey", lambda argv: SURVEY)
    result = target.run(["psql", "-h", "db", "-c", "SELECT 1"], env={"PGPASSWORD": "pw"})
    assert result.argv == ("psql", "-h", "db", "-c", "SELECT 1")
    assert result.rc == 127 and MISSING.rsplit("/", 1)[-1] in result.stderr
