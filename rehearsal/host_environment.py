"""The deploy host's environment file and SSH material, in the host's private folder.

The file is environments/atmobeta.toml with only what must differ changed: a `[target]` table
(the host over SSH: its loopback port, this rehearsal's key pair and known_hosts under a
HostKeyAlias) and the services' `url`s (the ports the host publishes). Everything else, paths,
project, secrets branch, database, token variable, is atmobeta's own, so a run against the
rehearsal host is the run release day makes.
"""

from __future__ import annotations

import re
from pathlib import Path

from rehearsal.shell import run

ATMOBETA = Path(__file__).resolve().parent.parent / "environments" / "atmobeta.toml"
KEY_NAME, KNOWN_HOSTS = "id_ed25519", "known_hosts"
# The [services.*] table a line belongs to, and the url line in it.
_TABLE = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_URL = re.compile(r'^url\s*=\s*"[^"]*"\s*$')
_COMPOSE_COMMAND = re.compile(r"^compose_command\s*=")


def make_key_pair(folder: Path, run_id: str) -> Path:
    """A fresh ed25519 key pair for this rehearsal only; returns the public key's path."""
    key = folder / KEY_NAME
    run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            f"atmo-rehearsal-{run_id}",
            "-f",
            str(key),
        ]
    )
    return key.with_suffix(".pub")


def write_known_hosts(folder: Path, alias: str, host_key: str) -> Path:
    """The host key read through `docker exec`, under `alias`: nothing is trusted on first use."""
    path = folder / KNOWN_HOSTS
    path.write_text(f"{alias} {host_key}\n")
    path.chmod(0o600)
    return path


def host_environment_toml(
    urls: dict[str, str],
    ssh_port: int,
    alias: str,
    run_id: str,
    source: Path = ATMOBETA,
    release_record: str = "",
    detect_compose: bool = False,
) -> str:
    """atmobeta.toml with the services' urls replaced and a [target] table added; with
    `release_record` (a whole `[release_record]` table), that table in place of atmobeta's;
    with `detect_compose`, without deploy.compose_command (the run detects the host's)."""
    lines, table, seen = [], "", set()
    for line in source.read_text().splitlines():
        header = _TABLE.match(line)
        if header:
            table = header["name"]
        if release_record and table == "release_record":
            continue
        if detect_compose and table == "deploy" and _COMPOSE_COMMAND.match(line):
            continue
        app = table.removeprefix("services.") if table.startswith("services.") else ""
        if app in urls and _URL.match(line):
            line = f'url = "{urls[app]}"'
            seen.add(app)
        lines.append(line)
    missing = set(urls) - seen
    if missing:
        raise ValueError(f"{source} has no url for {', '.join(sorted(missing))}")
    return (
        f"# atmobeta, played by the throwaway deploy host of rehearsal {run_id}: only [target],\n"
        "# the services' urls and the release record's home differ from\n"
        "# environments/atmobeta.toml"
        + (" (and deploy.compose_command is left to detection)" if detect_compose else "")
        + ".\n"
        + "\n".join(lines)
        + "\n\n# The rehearsal host over SSH: its loopback port, this rehearsal's key pair, its\n"
        "# host key read beside SSH (relative paths: this file's folder).\n"
        "[target]\n"
        'ssh = "root@127.0.0.1"\n'
        f"port = {ssh_port}\n"
        f'identity_file = "{KEY_NAME}"\n'
        f'known_hosts = "{KNOWN_HOSTS}"\n'
        f'host_key_alias = "{alias}"\n' + release_record
    )
