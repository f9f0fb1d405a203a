"""Rehearsal images build side by side once their parents are ready: a child never starts
before its parent, a parent's failure is its children's, and the outcome keeps the order."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from rehearsal import images
from rehearsal.image_manifest import ImageError, ImageSpec

BASE, POSTGRES, RUNTIME, APP = "base", "postgres", "runtime", "app"
FAIL = threading.Event()  # set: the runtime image's build fails


def spec(name: str, parent: str | None) -> ImageSpec:
    return ImageSpec(name, Path("."), Path("Dockerfile"), (), parent, ())


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, float]]:
    """(image, "start" or "end", when) of each fake build; each takes 0.2 s."""
    seen: list[tuple[str, str, float]] = []
    lock = threading.Lock()
    specs = [spec(BASE, None), spec(POSTGRES, BASE), spec(RUNTIME, BASE), spec(APP, RUNTIME)]

    def build(one: ImageSpec, digest: str) -> None:
        with lock:
            seen.append((one.name, "start", time.monotonic()))
        time.sleep(0.2)
        if one.name == "runtime" and FAIL.is_set():
            raise ImageError("docker build failed for runtime: apt-get")
        with lock:
            seen.append((one.name, "end", time.monotonic()))

    monkeypatch.setattr(images, "_closure", lambda names: specs)
    monkeypatch.setattr(images, "ensure_base", lambda log: "imported")
    monkeypatch.setattr(images, "image_info", lambda name: ("sha256:base", {}))
    monkeypatch.setattr(images, "spec_hash", lambda one, parent: f"{one.name}<{parent}")
    monkeypatch.setattr(images, "_build", build)
    FAIL.clear()
    return seen


def when(seen: list[tuple[str, str, float]], name: str, what: str) -> float:
    return next(at for image, kind, at in seen if image == name and kind == what)


def test_siblings_build_at_once_and_a_child_after_its_parent(
    builds: list[tuple[str, str, float]],
) -> None:
    outcome = images.ensure_images(log=lambda line: None)
    assert list(outcome) == [BASE, POSTGRES, RUNTIME, APP]
    assert outcome == {BASE: "imported", POSTGRES: "built", RUNTIME: "built", APP: "built"}
    assert when(builds, POSTGRES, "start") < when(builds, RUNTIME, "end")  # side by side
    assert when(builds, APP, "start") >= when(builds, RUNTIME, "end")


def test_a_parent_that_fails_fails_its_children_with_its_error(
    builds: list[tuple[str, str, float]],
) -> None:
    FAIL.set()
    with pytest.raises(ImageError, match="failed for runtime"):
        images.ensure_images(log=lambda line: None)
    assert [name for name, kind, _ in builds if kind == "start"].count(APP) == 0
    assert (POSTGRES, "end") in [(name, kind) for name, kind, _ in builds]  # ended first
