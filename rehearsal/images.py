"""Build the rehearsal stand-in images, reusing any whose build inputs have not changed.

No image registry is reachable here, so the base image is pulled when possible and otherwise
bootstrapped with mmdebstrap; every other image is built from a Dockerfile in this folder. An
image is rebuilt only when its content hash (context files, Dockerfile, build args, parent) differs
from the hash label on the local image, so a warm run costs a few `docker image inspect` calls.

The app images share code (`standin/`: their Dockerfile, entrypoint and the `standin_common`
package) that a Docker build context could not reach from the app's folder, so their context is
assembled in a temporary folder: the app's folder plus each shared folder under its name. The hash
covers the assembled context, so a change to the shared code rebuilds both apps.

Which images there are is `rehearsal.image_manifest` (its names are here too, as callers know
them), their hash `rehearsal.image_hash`, the base image `rehearsal.base_image`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rehearsal.base_image import ensure_base
from rehearsal.docker_cli import BUILD_TIMEOUT_S, image_info
from rehearsal.image_hash import content_hash, layout, spec_hash
from rehearsal.image_manifest import (
    APPS,
    BROKEN_RELEASES,
    DATA_RELEASES,
    HASH_LABEL,
    MANIFEST,
    POSTGRES_IMAGE,
    PROJECT_LABEL,
    PROJECT_LABEL_VALUE,
    REGISTRY_IMAGE,
    RELEASES,
    SPECS,
    STACK_IMAGES,
    STANDIN_DIR,
    ImageError,
    ImageSpec,
    Log,
    app_image,
)

__all__ = [
    "APPS",
    "BROKEN_RELEASES",
    "DATA_RELEASES",
    "MANIFEST",
    "POSTGRES_IMAGE",
    "PROJECT_LABEL",
    "PROJECT_LABEL_VALUE",
    "REGISTRY_IMAGE",
    "RELEASES",
    "STACK_IMAGES",
    "STANDIN_DIR",
    "ImageError",
    "ImageSpec",
    "Log",
    "app_image",
    "content_hash",
    "ensure_images",
    "main",
    "spec_hash",
]


@contextmanager
def _build_context(spec: ImageSpec) -> Iterator[tuple[Path, Path]]:
    """The build context and Dockerfile of a spec: its folder as it is when nothing is shared,
    else a temporary folder holding exactly the files the content hash covers."""
    assert spec.context_dir is not None and spec.dockerfile is not None
    if not spec.shared:
        yield spec.context_dir, spec.dockerfile
        return
    with tempfile.TemporaryDirectory(prefix="atmo-context-") as tmp:
        context = Path(tmp)
        for relative, path in layout(spec.context_dir, spec.shared):
            target = context / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                target.symlink_to(os.readlink(path))
            else:
                shutil.copy2(path, target)
        dockerfile = spec.dockerfile
        for name, folder in spec.shared:
            if dockerfile.is_relative_to(folder):
                dockerfile = context / name / dockerfile.relative_to(folder)
        yield context, dockerfile


def _build(spec: ImageSpec, digest: str) -> None:
    with _build_context(spec) as (context, dockerfile):
        _docker_build(spec, digest, context, dockerfile)


def _docker_build(spec: ImageSpec, digest: str, context: Path, dockerfile: Path) -> None:
    argv = [
        "docker",
        "build",
        "--tag",
        spec.name,
        "--file",
        str(dockerfile),
        "--label",
        f"{PROJECT_LABEL}={PROJECT_LABEL_VALUE}",
        "--label",
        f"{HASH_LABEL}={digest}",
        *(arg for key, value in spec.build_args for arg in ("--build-arg", f"{key}={value}")),
        str(context),
    ]
    # The Debian 20.10 engine has no BuildKit builder that the newer client could drive.
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    slug = spec.name.replace("/", "_")
    log_path = Path(tempfile.gettempdir()) / f"atmo-rehearsal-build-{slug}.log"
    with log_path.open("w") as output:
        try:
            returncode = subprocess.run(
                argv,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                check=False,
                timeout=BUILD_TIMEOUT_S,
            ).returncode
        except subprocess.TimeoutExpired as timeout:
            message = f"docker build of {spec.name} took over {BUILD_TIMEOUT_S} s (log: {log_path})"
            raise ImageError(message) from timeout
    if returncode != 0:
        last = (log_path.read_text().strip().splitlines() or ["(no output)"])[-1]
        raise ImageError(f"docker build failed for {spec.name}: {last} (full log: {log_path})")


def _closure(names: Iterable[str] | None) -> list[ImageSpec]:
    """The requested images and all their ancestors, in manifest (dependency) order."""
    if names is None:
        return list(MANIFEST)
    wanted: set[str] = set()
    for name in names:
        if name not in SPECS:
            raise ImageError(f"unknown image {name!r}; known: {', '.join(SPECS)}")
        while name is not None:
            wanted.add(name)
            name = SPECS[name].parent
    return [spec for spec in MANIFEST if spec.name in wanted]


def ensure_images(names: Iterable[str] | None = None, log: Log = print) -> dict[str, str]:
    """Make the named images (default: all) and their parents exist and be up to date.

    Returns image name -> "reused", "built", "imported" or "pulled"; logs one line per image
    with the seconds it took. Raises ImageError with a one-line message on the first failure.
    """
    outcome: dict[str, str] = {}
    hashes: dict[str, str] = {}
    for spec in _closure(names):
        started = time.monotonic()
        if spec.parent is None:
            outcome[spec.name] = ensure_base(log)
            info = image_info(spec.name)
            if info is None:
                raise ImageError(f"{spec.name} is still missing after {outcome[spec.name]}")
            # Children depend on the exact base bytes, which its image id names.
            hashes[spec.name] = info[0]
        else:
            digest = spec_hash(spec, hashes[spec.parent])
            info = image_info(spec.name)
            if info is not None and info[1].get(HASH_LABEL) == digest:
                outcome[spec.name] = "reused"
            else:
                log(f"{spec.name}: building ({'stale' if info else 'absent'})")
                _build(spec, digest)
                outcome[spec.name] = "built"
            hashes[spec.name] = digest
        log(f"{spec.name}: {outcome[spec.name]} in {time.monotonic() - started:.1f} s")
    return outcome


def _survey() -> Iterator[tuple[ImageSpec, tuple[str, dict[str, str]] | None, str]]:
    """Yield each image, its local id and labels (or None), and its hash or why there is none."""
    hashes: dict[str, str] = {}
    for spec in MANIFEST:
        info = image_info(spec.name)
        if spec.parent is None:
            if info is not None:
                hashes[spec.name] = info[0]
            yield spec, info, info[0] if info else "unknown until the base image exists"
        elif spec.parent not in hashes:
            yield spec, info, f"unknown until {spec.parent} has a hash"
        else:
            try:
                hashes[spec.name] = spec_hash(spec, hashes[spec.parent])
            except ImageError as error:
                yield spec, info, str(error)
            else:
                yield spec, info, hashes[spec.name]


def _list(log: Log) -> None:
    """Say for each image whether it is absent, current or stale, without building anything."""
    for spec, info, digest in _survey():
        if info is None:
            state = "absent"
        elif spec.parent is None or info[1].get(HASH_LABEL) == digest:
            state = "current"
        else:
            state = "stale"
        log(f"{spec.name}: {state}")


def _hashes(log: Log) -> None:
    """Print the hash each image should carry (the base: its image id)."""
    for spec, _, digest in _survey():
        log(f"{spec.name}: {digest}")


def main(argv: list[str] | None = None) -> int:
    """`python -m rehearsal.images build|list|hash [IMAGE ...]`."""
    parser = argparse.ArgumentParser(prog="python -m rehearsal.images", description=__doc__)
    parser.add_argument("command", choices=("build", "list", "hash"), nargs="?", default="build")
    parser.add_argument("images", nargs="*", help="images to build (default: all)")
    parser.add_argument("--main-job", action="store_true", help="only what ./scripts/rehearse runs")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.command == "build":
            ensure_images(STACK_IMAGES if args.main_job else args.images or None)
        elif args.command == "list":
            _list(print)
        else:
            _hashes(print)
    except ImageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
