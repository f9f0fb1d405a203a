"""When an image must be built again: the content hash of everything its build reads.

An image is rebuilt only when this hash differs from the hash label on the local image, so a
warm run costs a few `docker image inspect` calls. The hash covers the build context as it is
assembled (the app's folder plus each shared folder under its name), so a change to the shared
code rebuilds both apps.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from rehearsal.image_manifest import REHEARSAL_DIR, ImageError, ImageSpec

# Python byte code that a local run of an app leaves behind is not a build input.
IGNORED_NAMES = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo")


def _context_files(context_dir: Path) -> Iterator[Path]:
    for path in sorted(context_dir.rglob("*")):
        relative = path.relative_to(context_dir)
        if any(part in IGNORED_NAMES for part in relative.parts):
            continue
        if path.is_symlink() or (path.is_file() and not path.name.endswith(IGNORED_SUFFIXES)):
            yield path


def layout(
    context_dir: Path, shared: Iterable[tuple[str, Path]] = ()
) -> Iterator[tuple[str, Path]]:
    """Each file of a build context as (path in the context, source): `context_dir`'s files, then
    each shared folder's under its name."""
    for prefix, folder in (("", context_dir), *((f"{name}/", path) for name, path in shared)):
        for path in _context_files(folder):
            yield prefix + path.relative_to(folder).as_posix(), path


def content_hash(
    context_dir: Path,
    dockerfile: Path,
    build_args: Iterable[tuple[str, str]],
    parent_hash: str,
    shared: Iterable[tuple[str, Path]] = (),
) -> str:
    """Hash everything that decides what `docker build` produces, so equal hashes mean reuse.

    Each context file (shared folders' included) contributes its path in the context, executable
    bit and bytes (a symlink its target); the Dockerfile is hashed again in case it lives outside
    the context.
    """
    digest = hashlib.sha256()

    def feed(*parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)

    for relative, path in layout(context_dir, shared):
        if path.is_symlink():
            feed("link", relative, os.readlink(path))
        else:
            feed("file", relative, "x" if os.access(path, os.X_OK) else "-", path.read_bytes())
    feed("dockerfile", dockerfile.read_bytes())
    for key, value in sorted(build_args):
        feed("arg", key, value)
    feed("parent", parent_hash)
    return digest.hexdigest()


def spec_hash(spec: ImageSpec, parent_hash: str) -> str:
    """The content hash of a built image; fails in one line when its Dockerfile is missing."""
    if spec.context_dir is None or spec.dockerfile is None:
        raise ImageError(f"{spec.name} is not built from a Dockerfile")
    if not spec.dockerfile.is_file():
        repo = REHEARSAL_DIR.parent
        is_inside = spec.dockerfile.is_relative_to(repo)
        shown = spec.dockerfile.relative_to(repo) if is_inside else spec.dockerfile
        raise ImageError(f"missing Dockerfile {shown} (needed for {spec.name})")
    for _, folder in spec.shared:
        if not folder.is_dir():
            raise ImageError(
                f"missing {folder} (needed for {spec.name}): run bash scripts/setup.sh"
            )
    return content_hash(
        spec.context_dir, spec.dockerfile, spec.build_args, parent_hash, spec.shared
    )
