"""Compose command lines, the same for v1 (`docker-compose`) and v2 (`docker compose`): only the
command in front differs (atmo_release.resources.compose_flavour says which one a
deployment uses)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from atmo_release.commands import Read, like


@dataclass(frozen=True)
class Compose:
    command: tuple[str, ...]
    file: str
    project: str

    @property
    def name(self) -> str:
        """The command as an operator types it, for messages: `docker-compose`, `docker compose`."""
        return shlex.join(self.command)

    def _base(self) -> list[str]:
        return [*self.command, "-f", self.file, "-p", self.project]

    def exec_(
        self, service: str, argv: Sequence[str], env: Mapping[str, str | None] | None = None
    ) -> list[str]:
        """`exec -T`: without a TTY (pytest, CI) and so a redirected dump is not corrupted. An
        `env` value of None passes the name only: docker-compose takes the value from its own
        environment, so a secret never sits in argv."""
        env = env or {}
        flags = [
            item
            for key in sorted(env)
            for item in ("-e", key if env[key] is None else f"{key}={env[key]}")
        ]
        return like(argv, [*self._base(), "exec", "-T", *flags, service, *argv])

    def stop(self) -> list[str]:
        return [*self._base(), "stop"]

    def pull(self, services: Sequence[str] = ()) -> list[str]:
        return [*self._base(), "pull", *services]

    def up(self) -> list[str]:
        return [*self._base(), "up", "-d"]

    def config(self) -> Read:
        return Read([*self._base(), "config"])

    def config_of(self, file: str, directory: str) -> Read:
        """`config` of another file read as if it were the deployment's, in `directory`: the
        same project, relative paths and `.env`."""
        return Read(
            [
                *self.command,
                "-f",
                file,
                "--project-directory",
                directory,
                "-p",
                self.project,
                "config",
            ]
        )

    def version(self) -> Read:
        return version_of(self.command)


def version_of(command: Sequence[str]) -> Read:
    return Read([*command, "version"])
