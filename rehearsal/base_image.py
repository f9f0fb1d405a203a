"""The base image, `debian:bookworm-slim`: reused, else pulled, else bootstrapped.

No image registry may be reachable, so when the pull fails the base is made with mmdebstrap
from the host's own Debian mirrors and imported; every other image is built FROM it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

from rehearsal.docker_cli import BUILD_TIMEOUT_S, docker, failure, image_info
from rehearsal.image_manifest import (
    BASE_IMAGE,
    HASH_LABEL,
    PROJECT_LABEL,
    PROJECT_LABEL_VALUE,
    ImageError,
    Log,
)

PULL_TIMEOUT_S = 20
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
    if image_info(BASE_IMAGE) is not None:
        return "reused"
    try:
        if docker(["pull", BASE_IMAGE], timeout=PULL_TIMEOUT_S).returncode == 0:
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
            raise failure(f"mmdebstrap failed for {BASE_IMAGE}", result)
        imported = docker(
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
            raise failure(f"docker import failed for {BASE_IMAGE}", imported)
    return "imported"
