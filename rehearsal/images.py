"""Build the rehearsal stand-in images, reusing any whose build inputs have not changed.

No image registry is reachable here, so the base image is pulled when possible and otherwise
bootstrapped with mmdebstrap; every other image is built from a Dockerfile in this folder. An
image is rebuilt only when its content hash (context files, Dockerfile, build args, parent) differs
from the hash label on the local image, so a warm run costs a few `docker image inspect` calls.

The app images share code (`standin/`: their Dockerfile, entrypoint and the `standin_common`
package) that a Docker build context could not reach from the app's folder, so their context is
assembled in a temporary folder: the app's folder plus each shared folder under its name. The hash
covers the assembled context, so a change to the shared code rebuilds both apps.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REHEARSAL_DIR = Path(__file__).resolve().parent

PROJECT_LABEL = "org.cyverse.atmo-release"
PROJECT_LABEL_VALUE = "rehearsal"
HASH_LABEL = "org.cyverse.atmo-release.context-hash"

BASE_IMAGE = "debian:bookworm-slim"
POSTGRES_IMAGE = "atmo-rehearsal/postgres:15"
REGISTRY_IMAGE = "atmo-rehearsal/registry:2"
RUNTIME_IMAGE = "atmo-rehearsal/app-runtime:bookworm"
RELEASES = ("v37-2", "v37-3")
# Deliberately broken releases for the fault rehearsals (README.md, "Broken releases"): v37-3 plus
# one fault each (exits at start, version endpoint 500, migration failing half-way).
BROKEN_RELEASES = ("v37-91", "v37-92", "v37-93")
# Releases that change data for the data-safety rehearsals (README.md, "Data releases"): v37-3
# plus an in-place data migration (v37-94, legitimate) or a start-up "cleanup" that deletes rows
# outside any migration (v37-95, a real loss).
DATA_RELEASES = ("v37-94", "v37-95")
APPS = ("atmosphere", "troposphere")
# What tells the two apps apart in the shared Dockerfile (standin/Dockerfile): the gunicorn port
# and the extra name of the virtualenv (/opt/env/atmo -> /opt/env/atmosphere), as build args.
APP_BUILD_ARGS = {
    "atmosphere": (("PORT", "8000"), ("VENV_ALIAS", "atmo")),
    "troposphere": (("PORT", "8001"), ("VENV_ALIAS", "")),
}
# The folder shared by the app images, in their build context under the same name.
STANDIN_DIR = REHEARSAL_DIR / "standin"

PULL_TIMEOUT_S = 20
BUILD_TIMEOUT_S = 1800
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Enough for `apt-get install` in a Dockerfile; minbase already has apt, bash and coreutils.
BASE_PACKAGES = ("netbase",)
# Like the official slim image: no manuals, docs or translations.
BASE_DPKG_EXCLUDES = (
    "/usr/share/man/*",
    "/usr/share/doc/*",
    "/usr/share/locale/*",
    "/usr/share/info/*",
)
# Python byte code that a local run of an app leaves behind is not a build input.
IGNORED_NAMES = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo")

Log = Callable[[str], None]


class ImageError(RuntimeError):
    """An image could not be made; the message is one line that names the cause."""


@dataclass(frozen=True)
class ImageSpec:
    """One local image: `name` is its reference, `parent` the image its Dockerfile starts FROM.

    `shared` names folders outside `context_dir` that the build context also holds, each as
    (name in the context, folder); the Dockerfile may be in one of them.
    """

    name: str
    context_dir: Path | None = None
    dockerfile: Path | None = None
    build_args: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    parent: str | None = None
    shared: tuple[tuple[str, Path], ...] = field(default_factory=tuple)


def _app_spec(app: str, release: str) -> ImageSpec:
    return ImageSpec(
        name=f"atmo-rehearsal/{app}:release-{release}",
        context_dir=REHEARSAL_DIR / app,
        dockerfile=STANDIN_DIR / "Dockerfile",
        build_args=(("APP", app), *APP_BUILD_ARGS[app], ("RELEASE", release)),
        parent=RUNTIME_IMAGE,
        shared=((STANDIN_DIR.name, STANDIN_DIR),),
    )


def _dir_spec(name: str, folder: str, parent: str) -> ImageSpec:
    context = REHEARSAL_DIR / folder
    return ImageSpec(name, context, context / "Dockerfile", (), parent)


# In dependency order: every parent comes before its children.
MANIFEST: tuple[ImageSpec, ...] = (
    ImageSpec(BASE_IMAGE),
    _dir_spec(POSTGRES_IMAGE, "postgres", BASE_IMAGE),
    _dir_spec(REGISTRY_IMAGE, "registry", BASE_IMAGE),
    _dir_spec(RUNTIME_IMAGE, "runtime", BASE_IMAGE),
    *(_app_spec(app, release) for app in APPS for release in RELEASES),
    *(_app_spec(app, release) for app in APPS for release in BROKEN_RELEASES),
    *(_app_spec(app, release) for app in APPS for release in DATA_RELEASES),
)
SPECS: dict[str, ImageSpec] = {spec.name: spec for spec in MANIFEST}


def _context_files(context_dir: Path) -> Iterator[Path]:
    for path in sorted(context_dir.rglob("*")):
        relative = path.relative_to(context_dir)
        if any(part in IGNORED_NAMES for part in relative.parts):
            continue
        if path.is_symlink() or (path.is_file() and not path.name.endswith(IGNORED_SUFFIXES)):
            yield path


def _layout(
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

    for relative, path in _layout(context_dir, shared):
        if path.is_symlink():
            feed("link", relative, os.readlink(path))
        else:
            feed("file", relative, "x" if os.access(path, os.X_OK) else "-", path.read_bytes())
    feed("dockerfile", dockerfile.read_bytes())
    for key, value in sorted(build_args):
        feed("arg", key, value)
    feed("parent", parent_hash)
    return digest.hexdigest()


def _docker(args: list[str], timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _image_info(name: str) -> tuple[str, dict[str, str]] | None:
    """Return the local image's id and labels, or None when there is no such image."""
    result = _docker(["image", "inspect", "--format", "{{json .}}", name])
    if result.returncode != 0:
        return None
    attrs = json.loads(result.stdout)
    return attrs["Id"], (attrs.get("Config") or {}).get("Labels") or {}


def _fail(message: str, result: subprocess.CompletedProcess[str]) -> ImageError:
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
    return ImageError(f"{message}: {tail[0]}")


def apt_mirror_lines(sources_dir: Path = Path("/etc/apt")) -> list[str]:
    """One-line apt sources of the host's Debian mirrors, for mmdebstrap and the image.

    Reads deb822 `*.sources` and classic `sources.list` files, keeping `deb` entries for
    bookworm suites, so the image reaches the same mirror the host reaches (updates and security
    included); falls back to deb.debian.org.
    """
    lines: list[str] = []
    files = sorted((sources_dir / "sources.list.d").glob("*.sources"))
    for path in files:
        for stanza in path.read_text().split("\n\n"):
            fields: dict[str, list[str]] = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith(("#", " ")):
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.split()
            if "deb" not in fields.get("types", []) or fields.get("enabled") == ["no"]:
                continue
            for uri in fields.get("uris", []):
                for suite in fields.get("suites", []):
                    if suite.startswith("bookworm"):
                        lines.append(f"deb {uri} {suite} {' '.join(fields.get('components', []))}")
    classic = sorted((sources_dir / "sources.list.d").glob("*.list"))
    for path in [sources_dir / "sources.list", *classic]:
        if path.is_file():
            for line in path.read_text().splitlines():
                words = line.split()
                if len(words) >= 4 and words[0] == "deb" and words[2].startswith("bookworm"):
                    lines.append(" ".join(words))
    return lines or [f"deb {DEFAULT_MIRROR} bookworm main"]


def _base_recipe_hash(mirrors: list[str]) -> str:
    recipe = {
        "suite": "bookworm",
        "packages": BASE_PACKAGES,
        "mirrors": mirrors,
        "excludes": BASE_DPKG_EXCLUDES,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def ensure_base(log: Log = print) -> str:
    """Make `debian:bookworm-slim` exist: reuse it, else pull it, else mmdebstrap and import it.

    Returns "reused", "pulled" or "imported".
    """
    if _image_info(BASE_IMAGE) is not None:
        return "reused"
    try:
        if _docker(["pull", BASE_IMAGE], timeout=PULL_TIMEOUT_S).returncode == 0:
            return "pulled"
    except subprocess.TimeoutExpired:
        pass
    mirrors = apt_mirror_lines()
    log(f"{BASE_IMAGE}: no registry answers; bootstrapping it with mmdebstrap from {mirrors[0]}")
    with tempfile.TemporaryDirectory(prefix="atmo-base-") as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        argv = [
            "mmdebstrap",
            "--variant=minbase",
            "--quiet",
            f"--include={','.join(BASE_PACKAGES)}",
            *(f"--dpkgopt=path-exclude={pattern}" for pattern in BASE_DPKG_EXCLUDES),
            '--aptopt=Acquire::Languages "none"',
            "bookworm",
            str(tarball),
            *mirrors,
        ]
        try:
            result = subprocess.run(
                argv, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT_S
            )
        except subprocess.TimeoutExpired as timeout:
            raise ImageError(f"mmdebstrap took over {BUILD_TIMEOUT_S} s") from timeout
        if result.returncode != 0:
            raise _fail(f"mmdebstrap failed for {BASE_IMAGE}", result)
        imported = _docker(
            [
                "import",
                "--change",
                f"LABEL {PROJECT_LABEL}={PROJECT_LABEL_VALUE}",
                "--change",
                f"LABEL {HASH_LABEL}={_base_recipe_hash(mirrors)}",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                'CMD ["bash"]',
                str(tarball),
                BASE_IMAGE,
            ]
        )
        if imported.returncode != 0:
            raise _fail(f"docker import failed for {BASE_IMAGE}", imported)
    return "imported"


def spec_hash(spec: ImageSpec, parent_hash: str) -> str:
    """The content hash of a built image; fails in one line when its Dockerfile is missing."""
    if spec.context_dir is None or spec.dockerfile is None:
        raise ImageError(f"{spec.name} is not built from a Dockerfile")
    if not spec.dockerfile.is_file():
        repo = REHEARSAL_DIR.parent
        is_inside = spec.dockerfile.is_relative_to(repo)
        shown = spec.dockerfile.relative_to(repo) if is_inside else spec.dockerfile
        raise ImageError(f"missing Dockerfile {shown} (needed for {spec.name})")
    return content_hash(
        spec.context_dir, spec.dockerfile, spec.build_args, parent_hash, spec.shared
    )


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
        for relative, path in _layout(spec.context_dir, spec.shared):
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
            info = _image_info(spec.name)
            if info is None:
                raise ImageError(f"{spec.name} is still missing after {outcome[spec.name]}")
            # Children depend on the exact base bytes, which its image id names.
            hashes[spec.name] = info[0]
        else:
            digest = spec_hash(spec, hashes[spec.parent])
            info = _image_info(spec.name)
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
        info = _image_info(spec.name)
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
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        if args.command == "build":
            ensure_images(args.images or None)
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
