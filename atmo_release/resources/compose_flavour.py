"""Which Compose drives the deployment: v1 (`docker-compose`, as the runbook types it) or v2
(`docker compose`, what a host installed today has), named by the environment file or, when it
names none, found on the deploy host before any action."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from atmo_release.checks import CheckFailed
from atmo_release.commands import compose
from atmo_release.target import Target

# v2 first: a host that has both was upgraded, and v1 is no longer maintained.
CANDIDATES: tuple[tuple[str, ...], ...] = (("docker", "compose"), ("docker-compose",))
FROM_FILE = "deploy.compose_command"
DETECTED = "detected on the deploy host"
# v1: "docker-compose version 1.29.2, build unknown"; v2: "Docker Compose version v2.40.3".
_VERSION = re.compile(r"\bversion v?(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)


class ComposeNotFound(CheckFailed):
    """No Compose answers on the deploy host and the environment file names none."""


@dataclass(frozen=True)
class ComposeFlavour:
    command: tuple[str, ...]
    version: str
    chosen: str  # FROM_FILE or DETECTED

    @property
    def name(self) -> str:
        return "v1" if self.version.split(".")[0] in ("0", "1") else "v2"

    def describe(self) -> str:
        return f"Compose {self.name} {self.version} (`{shlex.join(self.command)}`, {self.chosen})"

    def as_fact(self) -> dict[str, str]:
        return {
            "flavour": self.name,
            "version": self.version,
            "command": shlex.join(self.command),
            "chosen": self.chosen,
        }


def parse_version(output: str) -> str | None:
    """The version `<compose> version` prints, whichever flavour printed it."""
    found = _VERSION.search(output)
    return found[1] if found else None


def identify(command: tuple[str, ...], output: str, chosen: str = FROM_FILE) -> ComposeFlavour:
    version = parse_version(output)
    if version is None:
        raise CheckFailed(
            f"`{shlex.join(command)} version` printed no Compose version: {output.strip()[:200]!r}"
        )
    return ComposeFlavour(command, version, chosen)


def _answer(target: Target, command: tuple[str, ...]) -> tuple[str | None, int]:
    """The version `command` reports on the target (None if none), and its exit code."""
    result = target.run(compose.version_of(command))
    return (parse_version(result.stdout) if result.ok else None), result.rc


def find(target: Target, command: tuple[str, ...], env_path: object) -> ComposeFlavour | None:
    """The run's Compose: the environment file's command (None when it does not answer, which
    preflight's Docker check then says), else `docker compose version`, then `docker-compose
    version`, the first that answers; neither is a refusal in one sentence, before anything
    ran."""
    if command:
        version, _ = _answer(target, command)
        return ComposeFlavour(command, version, FROM_FILE) if version else None
    codes = []
    for candidate in CANDIDATES:
        version, rc = _answer(target, candidate)
        if version is not None:
            return ComposeFlavour(candidate, version, DETECTED)
        codes.append(rc)
    raise ComposeNotFound(
        f"neither `docker compose` (Compose v2, exit {codes[0]}) nor `docker-compose` (v1, "
        f"exit {codes[1]}) answers on {target.name}: install one of them there, or name the "
        f"command in {FROM_FILE} of {env_path}; nothing was changed"
    )
