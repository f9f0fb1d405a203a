"""The deploy host over SSH: the OpenSSH client runs each argv on the host as one command
quoted with `shlex.join`, through one multiplexed connection for the whole run; files are read,
written and created on the host."""

from __future__ import annotations

import shlex
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from atmo_release.commands import Read
from atmo_release.environment import SshSettings
from atmo_release.redact import Redactor
from atmo_release.target.process import Reporting, execute
from atmo_release.target.protocol import Result, changes

TRANSPORT_FAILED = 255  # what ssh exits with when it, not the remote command, failed
_TO_NEW_FILE = 'f=$1; shift; set -C; umask 077; exec "$@" > "$f"'
_IN_DIRECTORY = 'cd "$1" && shift && exec "$@"'
_CREATE = 'set -C; umask 077; cat > "$1" && chmod "$2" "$1"'
_WRITE = 'cat > "$1"'
# Variables arrive on stdin, one `NAME=value` a line, so no secret sits in a process listing.
_ENV_FROM_STDIN = 'while IFS= read -r pair; do export "$pair"; done; exec "$@"'


class SshError(RuntimeError):
    """The connection could not be opened; the message says why and what to do."""


def remote_command(
    argv: Sequence[str],
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> tuple[str, str | None]:
    """One string the remote login shell splits back into exactly `argv`, and what goes to
    its stdin: `env` travels there unless the command reads stdin itself."""
    words = list(argv)
    if cwd is not None:
        words = ["sh", "-c", _IN_DIRECTORY, "sh", str(cwd), *words]
    pairs = [f"{key}={value}" for key, value in sorted((env or {}).items())]
    if pairs and input is None and not any("\n" in pair for pair in pairs):
        return shlex.join(["sh", "-c", _ENV_FROM_STDIN, "sh", *words]), "\n".join(pairs) + "\n"
    if pairs:
        words = ["env", *pairs, *words]
    return shlex.join(words), input


class SshTarget(Reporting):
    def __init__(self, settings: SshSettings, redactor: Redactor | None = None) -> None:
        super().__init__(redactor)
        self.settings = settings
        self.name = f"ssh {settings.destination}:{settings.port}"
        self._control_dir = tempfile.mkdtemp(prefix="atmo-ssh-")
        self.control_path = str(Path(self._control_dir) / "cm")

    def options(self) -> list[str]:
        """Never a prompt, only a known host key, and the run's one connection."""
        s = self.settings
        options = [
            "-T",
            "-p",
            str(s.port),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "ServerAliveInterval=15",
            "-o",
            "ServerAliveCountMax=4",
            "-o",
            "LogLevel=ERROR",
            "-S",
            self.control_path,
        ]
        if s.identity_file is not None:
            options += ["-i", str(s.identity_file), "-o", "IdentitiesOnly=yes"]
        if s.known_hosts is not None:
            options += ["-o", f"UserKnownHostsFile={s.known_hosts}"]
        if s.host_key_alias:
            options += ["-o", f"HostKeyAlias={s.host_key_alias}"]
        return options

    def ssh_argv(self, remote: str) -> list[str]:
        return [
            "ssh",
            *self.options(),
            "-o",
            "ControlMaster=no",
            self.settings.destination,
            "--",
            remote,
        ]

    def open(self) -> SshTarget:
        """Open the run's connection; a host key that is unknown or changed is refused here,
        before any action."""
        master = [
            "ssh",
            *self.options(),
            "-o",
            "ControlMaster=yes",
            "-o",
            "ControlPersist=yes",
            "-N",
            "-f",
            self.settings.destination,
        ]
        rc, _, err = execute(master, timeout=30)
        if rc != 0:
            reason = err.strip().splitlines()[-1] if err.strip() else f"exit {rc}"
            if "host key" in err.lower() or "host identification" in err.lower():
                raise SshError(
                    f"the host key of {self.settings.destination} is unknown or has changed "
                    f"({reason}): check its fingerprint out of band and put it in the "
                    "known_hosts file the environment names; nothing was run"
                )
            raise SshError(
                f"cannot reach {self.settings.destination} over SSH ({reason}): check the "
                "address, port and key in the environment file; nothing was run"
            )
        return self

    def close(self) -> None:
        execute(
            ["ssh", "-S", self.control_path, "-O", "exit", self.settings.destination], timeout=10
        )
        shutil.rmtree(self._control_dir, ignore_errors=True)

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        timeout: float | None = 600,
    ) -> Result:
        executed, env = self._executed(argv, env)
        remote, stdin = remote_command(executed, cwd, env, input)
        return self._timed(
            argv, lambda: execute(self.ssh_argv(remote), input=stdin, timeout=timeout)
        )

    def run_to_file(
        self,
        argv: Sequence[str],
        path: Path,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float | None = 3600,
    ) -> Result:
        """stdout into the new file `path` on the host (0600, never overwritten)."""
        executed, env = self._executed(argv, env)
        wrapped = ["sh", "-c", _TO_NEW_FILE, "sh", str(path), *executed]
        remote, stdin = remote_command(wrapped, env=env)
        return self._timed(
            argv,
            lambda: execute(self.ssh_argv(remote), input=stdin, timeout=timeout),
            out=f"(stdout written to {path} on the host)",
        )

    def _quiet(self, argv: Sequence[str], input: str | None = None) -> tuple[int, str, str]:
        """File operations: not commands of the runbook, so not in the record's list."""
        if changes(argv):
            self._changing()
        remote, stdin = remote_command(argv, input=input)
        return execute(self.ssh_argv(remote), input=stdin, timeout=600)

    def _survey(self, argv: Sequence[str]) -> str:
        return self._quiet(argv)[1]

    def read_text(self, path: Path) -> str:
        rc, out, err = self._quiet(Read(["cat", "--", str(path)]))
        if rc != 0:
            raise FileNotFoundError(f"{path} on {self.settings.destination}: {err.strip()}")
        return out

    def write_text(self, path: Path, text: str) -> None:
        rc, _, err = self._quiet(["sh", "-c", _WRITE, "sh", str(path)], input=text)
        if rc != 0:
            raise OSError(f"cannot write {path} on {self.settings.destination}: {err.strip()}")
        self._wrote(path)

    def exists(self, path: Path) -> bool:
        return self._quiet(Read(["test", "-e", str(path)]))[0] == 0

    def create_exclusive(self, path: Path, text: str, mode: int = 0o644) -> bool:
        rc, _, err = self._quiet(["sh", "-c", _CREATE, "sh", str(path), f"{mode:o}"], input=text)
        if rc == 0:
            return True
        if self.exists(path):
            return False
        raise OSError(f"cannot create {path} on {self.settings.destination}: {err.strip()}")

    def remove(self, path: Path) -> None:
        self._quiet(["rm", "-f", "--", str(path)])
