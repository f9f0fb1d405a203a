"""The docker CLI as the image builder calls it: output captured, failures told in one line."""

from __future__ import annotations

import json
import subprocess

from rehearsal.image_manifest import ImageError

# How long building one image (or bootstrapping the base image) may take.
BUILD_TIMEOUT_S = 1800


def docker(args: list[str], timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def image_info(name: str) -> tuple[str, dict[str, str]] | None:
    """Return the local image's id and labels, or None when there is no such image."""
    result = docker(["image", "inspect", "--format", "{{json .}}", name])
    if result.returncode != 0:
        return None
    attrs = json.loads(result.stdout)
    return attrs["Id"], (attrs.get("Config") or {}).get("Labels") or {}


def failure(message: str, result: subprocess.CompletedProcess[str]) -> ImageError:
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
    return ImageError(f"{message}: {tail[0]}")
