"""The rehearsal registries' storage, kept between stacks in the user's cache directory.

Each stack's registry starts from a copy of it, so `docker push` finds the stand-ins' layers
there ("Layer already exists") instead of compressing and uploading about 400 MB again: that
took 15-25 s of every stack, of the main job as of each test that builds one. The push still
runs in full and leaves the registry right whatever the copy holds; the copy only spares work.

Blobs are content-addressed and the registry only ever renames a finished upload onto one, so
they are hard-linked; the repositories' small link files are copied, since the registry rewrites
them in place and a test deletes tags from its own registry. The cache is replaced after a push
that uploaded a blob it lacked (a stand-in image rebuilt): remove the directory to empty it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rehearsal.shell import run

V2 = Path("docker") / "registry" / "v2"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "atmo-release" / "registry"


def blobs(storage: Path) -> set[str]:
    """The digests of the blobs `storage` holds."""
    found = storage / V2 / "blobs" / "sha256"
    if not found.is_dir():
        return set()
    return {blob.name for prefix in found.iterdir() for blob in prefix.iterdir()}


def copy(source: Path, target: Path) -> None:
    """`source`'s registry storage into `target` (which must not hold one): blobs linked, or
    copied on another file system; repositories copied."""
    (target / V2).mkdir(parents=True, exist_ok=True)
    for part, link in (("blobs", True), ("repositories", False)):
        if not (source / V2 / part).is_dir():
            continue
        argv = ["cp", "-a", str(source / V2 / part), str(target / V2 / part)]
        if link and run([*argv[:2], "-l", *argv[2:]], check=False).returncode == 0:
            continue
        shutil.rmtree(target / V2 / part, ignore_errors=True)
        run(argv)


def seed(storage: Path) -> None:
    """A new stack's registry storage, from the cache when there is one; empty when the cache
    cannot be copied (another stack replacing it that moment): the push then uploads all."""
    storage.mkdir(parents=True, exist_ok=True)
    if blobs(cache_dir()):
        try:
            copy(cache_dir(), storage)
        except (OSError, RuntimeError):
            shutil.rmtree(storage / V2, ignore_errors=True)


def keep(storage: Path) -> bool:
    """The cache replaced by `storage` when it holds a blob the cache lacks; whether it was.
    Another stack replacing it at the same moment wins or loses whole: each writes a directory
    of its own and renames it into place. A cache that cannot be written is only not kept."""
    cached = cache_dir()
    if blobs(storage) <= blobs(cached):
        return False
    fresh = cached.with_name(f"{cached.name}.{os.getpid()}.new")
    old = cached.with_name(f"{cached.name}.{os.getpid()}.old")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(fresh, ignore_errors=True)
        copy(storage, fresh)
        if cached.exists():
            cached.rename(old)
        fresh.rename(cached)
    except (OSError, RuntimeError):
        shutil.rmtree(fresh, ignore_errors=True)
        return False
    finally:
        shutil.rmtree(old, ignore_errors=True)
    return True
