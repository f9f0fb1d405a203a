"""Files the run writes on the target for one command (settings for a throwaway run, a compose
file to read ahead): in a private folder of their own, never in a deployed directory, removed
when the block ends, whatever happens in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from atmo_release.commands import read

if TYPE_CHECKING:
    from atmo_release.resources.run import Run


@contextmanager
def private_file(deployment: Run, name: str, text: str, mode: int = 0o600) -> Iterator[Path]:
    folder = deployment.run(read(["mktemp", "-d"]), "mktemp -d").stdout.strip()
    path = Path(folder) / name
    try:
        deployment.target.create_exclusive(path, text, mode)
        yield path
    finally:
        deployment.target.run(read(["rm", "-rf", folder]))
