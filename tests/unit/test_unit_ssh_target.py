"""The SSH target's quoting and file operations, through a stand-in `ssh` that hands the
remote command to a real POSIX shell, as sshd does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from atmo_release.environment import SshSettings, parse_environment
from atmo_release.target import Target
from atmo_release.target.ssh import SshTarget, remote_command
from fixtures.options import parse_target

FAKE_SSH = Path(__file__).parent / "data" / "fake-ssh"
HOSTILE = ["a'b", 'c"d', "$(touch /tmp/pwned)", "x;y", "`id`", "new\nline", "", " sp ace ", "\\"]


@pytest.fixture
def target(monkeypatch: pytest.MonkeyPatch) -> SshTarget:
    monkeypatch.setenv("PATH", f"{FAKE_SSH}{os.pathsep}{os.environ['PATH']}")
    return SshTarget(SshSettings("root@deploy-host", 2222)).open()


def test_every_argument_reaches_the_remote_program_literally(target: SshTarget) -> None:
    result = target.run(["printf", "%s\\n", *HOSTILE])
    assert result.ok
    assert result.stdout == "".join(f"{value}\n" for value in HOSTILE)
    assert result.argv == ("printf", "%s\\n", *HOSTILE)


def test_env_and_cwd_are_spelled_out_in_the_command(target: SshTarget, tmp_path: Path) -> None:
    result = target.run(["sh", "-c", 'pwd; echo "$SECRET"'], cwd=tmp_path, env={"SECRET": "a'$b"})
    assert result.stdout == f"{tmp_path}\na'$b\n"
    remote, stdin = remote_command(["ls"], env={"PGPASSWORD": "s3cret"})
    assert "s3cret" not in remote and stdin == "PGPASSWORD=s3cret\n"
    assert remote_command(["cat"], env={"A": "1"}, input="x") == ("env A=1 cat", "x")


def test_run_to_file_streams_into_a_new_private_file_on_the_host(
    target: SshTarget, tmp_path: Path
) -> None:
    path = tmp_path / "dump.sql"
    result = target.run_to_file(["printf", "%s", "rows;$(x)"], path)
    assert result.ok and path.read_text() == "rows;$(x)"
    assert path.stat().st_mode & 0o777 == 0o600
    again = target.run_to_file(["printf", "%s", "other"], path)
    assert not again.ok and path.read_text() == "rows;$(x)"


def test_files_are_read_written_created_and_removed_on_the_host(
    target: Target, tmp_path: Path
) -> None:
    path = tmp_path / "odd 'name'.txt"
    assert not target.exists(path)
    assert target.create_exclusive(path, "first\n", 0o600)
    assert path.stat().st_mode & 0o777 == 0o600
    assert not target.create_exclusive(path, "second\n")
    assert target.read_text(path) == "first\n"
    target.write_text(path, "line 'one'\n$HOME\n")
    assert path.read_text() == "line 'one'\n$HOME\n"
    target.remove(path)
    assert not target.exists(path)
    with pytest.raises(FileNotFoundError):
        target.read_text(path)


def test_the_options_refuse_prompts_and_unknown_host_keys(tmp_path: Path) -> None:
    settings = SshSettings("root@h", 2200, tmp_path / "id", tmp_path / "known", "atmo-host")
    argv = SshTarget(settings).ssh_argv("true")
    assert argv[:4] == ["ssh", "-T", "-p", "2200"]
    for option in (
        "BatchMode=yes",
        "StrictHostKeyChecking=yes",
        f"UserKnownHostsFile={tmp_path / 'known'}",
        "HostKeyAlias=atmo-host",
        "ControlMaster=no",
    ):
        assert option in argv
    assert argv[-3:] == ["root@h", "--", "true"]


def test_the_environment_file_names_the_host_and_its_key(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "environments" / "atmobeta.toml").read_text()
    path = tmp_path / "host.toml"
    path.write_text(
        text + '\n[target]\nssh = "root@atmobeta"\nport = 2222\nknown_hosts = "keys/known_hosts"\n'
    )
    settings = parse_environment(path).ssh
    assert settings == SshSettings("root@atmobeta", 2222, None, tmp_path / "keys/known_hosts")
    assert (
        parse_environment(Path(__file__).parents[2] / "environments" / "atmobeta.toml").ssh is None
    )


@pytest.mark.parametrize(
    ("value", "destination", "port"),
    [("ssh://root@host.example:2222", "root@host.example", 2222), ("ssh://h", "h", 22)],
)
def test_the_target_option_replaces_the_file_s_host(
    value: str, destination: str, port: int
) -> None:
    env = parse_environment(Path(__file__).parents[2] / "environments" / "atmobeta.toml")
    ssh = parse_target(value, env).ssh
    assert ssh is not None and (ssh.destination, ssh.port) == (destination, port)


@pytest.mark.parametrize("value", ["root@host", "http://host", "ssh://host/path"])
def test_a_malformed_target_is_refused_in_one_sentence(value: str) -> None:
    env = parse_environment(Path(__file__).parents[2] / "environments" / "atmobeta.toml")
    with pytest.raises(pytest.UsageError, match="is not ssh://user@host"):
        parse_target(value, env)


def test_closing_removes_the_control_socket_folder(target: SshTarget) -> None:
    folder = Path(target.control_path).parent
    assert folder.is_dir()
    target.close()
    assert not folder.exists()
