"""What the run writes to disk before users are back in, filesystem by filesystem: the room
preflight requires before anything changes.

Per database of size S: the proven dump (S) and the window dump at its worst (every table
written again: S) in the backup directory; two throwaway copies (the restored one the migrations
run on, and the unmigrated one kept until "Use and test": 2 S) in Docker's data, beside the
backup images (the containers' own layers). When PostgreSQL's data shares a filesystem with
either, the database's own growth in the window competes with them: a migration that rewrites
its tables needs them twice until it commits (S again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

MIB = 2**20
BACKUPS, DOCKER, POSTGRES = "the backup directory", "Docker's data", "PostgreSQL's data"


@dataclass
class Filesystem:
    """One filesystem: which of the three places it holds, what lands there, what is free."""

    device: str
    free: int
    places: dict[str, str] = field(default_factory=dict)  # place -> its path
    needs: dict[str, int] = field(default_factory=dict)

    @property
    def needed(self) -> int:
        return sum(self.needs.values())

    def explain(self) -> str:
        """`proven dumps 12 MiB, window dumps at their worst 12 MiB, ...`."""
        return ", ".join(f"{what} {size // MIB} MiB" for what, size in self.needs.items())

    def where(self) -> str:
        return " and ".join(f"{place} {path}" for place, path in self.places.items())


def filesystems(
    paths: Mapping[str, str], devices: Mapping[str, str], free: Mapping[str, int]
) -> list[Filesystem]:
    """The places (`paths`: place -> path) grouped by the device their path is on."""
    found: dict[str, Filesystem] = {}
    for place, path in paths.items():
        device = devices[place]
        found.setdefault(device, Filesystem(device, free[place])).places[place] = path
    return list(found.values())


def estimate(
    found: list[Filesystem], database_bytes: int, layers: int, margin: int
) -> list[Filesystem]:
    """Each filesystem with what lands on it (`database_bytes`: all databases together)."""
    for fs in found:
        if BACKUPS in fs.places:
            fs.needs["proven dumps"] = database_bytes
            fs.needs["window dumps at their worst"] = database_bytes
        if DOCKER in fs.places:
            fs.needs["two throwaway copies per database"] = 2 * database_bytes
            fs.needs["container layers"] = layers
        if POSTGRES in fs.places and len(fs.places) > 1:
            fs.needs["the databases' own growth (PostgreSQL's data is here too)"] = database_bytes
        if fs.needs:
            fs.needs["margin"] = margin
    return [fs for fs in found if fs.needs]
