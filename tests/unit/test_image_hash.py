"""The image builder reuses an image only while its content hash says nothing changed."""

import os
from dataclasses import replace
from pathlib import Path

import pytest

from rehearsal.image_manifest import NAMESPACE
from rehearsal.images import (
    MANIFEST,
    STANDIN_DIR,
    ImageError,
    ImageSpec,
    _build_context,
    content_hash,
    spec_hash,
)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY app /app\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('v1')\n")
    (tmp_path / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    return tmp_path


def digest(context: Path, args: tuple[tuple[str, str], ...] = (), parent: str = "p1") -> str:
    return content_hash(context, context / "Dockerfile", args, parent)


def test_hash_is_stable_for_unchanged_inputs(context: Path) -> None:
    assert digest(context) == digest(context)
    assert digest(context, (("A", "1"), ("B", "2"))) == digest(context, (("B", "2"), ("A", "1")))


def test_hash_changes_when_a_file_changes(context: Path) -> None:
    before = digest(context)
    (context / "app" / "main.py").write_text("print('v2')\n")
    assert digest(context) != before


def test_hash_changes_when_a_file_is_added_renamed_or_made_executable(context: Path) -> None:
    seen = {digest(context)}
    (context / "app" / "extra.txt").write_text("")
    seen.add(digest(context))
    (context / "app" / "extra.txt").rename(context / "app" / "other.txt")
    seen.add(digest(context))
    os.chmod(context / "entrypoint.sh", 0o755)
    seen.add(digest(context))
    assert len(seen) == 4


def test_hash_changes_when_a_build_arg_changes(context: Path) -> None:
    assert digest(context, (("RELEASE", "v37-2"),)) != digest(context, (("RELEASE", "v37-3"),))
    assert digest(context, (("RELEASE", "v37-2"),)) != digest(context)


def test_hash_changes_when_the_parent_changes(context: Path) -> None:
    assert digest(context, parent="p1") != digest(context, parent="p2")


def test_hash_ignores_python_byte_code(context: Path) -> None:
    before = digest(context)
    (context / "app" / "__pycache__").mkdir()
    (context / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\x00")
    assert digest(context) == before


def test_manifest_lists_parents_before_children() -> None:
    seen: set[str] = set()
    for spec in MANIFEST:
        assert spec.parent is None or spec.parent in seen, spec.name
        seen.add(spec.name)


def test_a_missing_dockerfile_is_named_in_one_line(tmp_path: Path) -> None:
    spec = next(s for s in MANIFEST if s.parent is not None)
    missing = replace(spec, context_dir=tmp_path, dockerfile=tmp_path / "Dockerfile")
    with pytest.raises(ImageError, match=r"missing Dockerfile .*Dockerfile \(needed for "):
        spec_hash(missing, "p1")


@pytest.fixture
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the context, as rehearsal/standin is outside rehearsal/<app>."""
    folder = tmp_path_factory.mktemp("standin")
    (folder / "lib").mkdir()
    (folder / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY standin/lib /lib\n")
    (folder / "lib" / "common.py").write_text("X = 1\n")
    (folder / "lib" / "__pycache__").mkdir()
    (folder / "lib" / "__pycache__" / "common.cpython-311.pyc").write_bytes(b"\x00")
    return folder


def test_hash_covers_the_shared_folders(context: Path, shared: Path) -> None:
    def with_shared(name: str = "standin") -> str:
        return content_hash(context, shared / "Dockerfile", (), "p1", ((name, shared),))

    before = with_shared()
    assert before == with_shared()
    assert before != with_shared("other")
    assert before != content_hash(context, shared / "Dockerfile", (), "p1")
    (shared / "lib" / "common.py").write_text("X = 2\n")
    assert with_shared() != before


def test_build_context_holds_exactly_the_hashed_files(context: Path, shared: Path) -> None:
    spec = ImageSpec("x:1", context, shared / "Dockerfile", (), "p", (("standin", shared),))
    with _build_context(spec) as (assembled, dockerfile):
        files = sorted(
            path.relative_to(assembled).as_posix()
            for path in assembled.rglob("*")
            if path.is_file()
        )
        assert dockerfile == assembled / "standin" / "Dockerfile"
        assert (assembled / "standin" / "lib" / "common.py").read_text() == "X = 1\n"
        rehashed = content_hash(assembled, dockerfile, (), "p")
    assert files == [
        "Dockerfile",
        "app/main.py",
        "entrypoint.sh",
        "standin/Dockerfile",
        "standin/lib/common.py",
    ]
    assert not assembled.exists()
    assert rehashed == spec_hash(spec, "p")


def test_app_images_hash_the_shared_standin_folder() -> None:
    apps = [
        spec
        for spec in MANIFEST
        if spec.name.startswith((f"{NAMESPACE}/atmosphere:", f"{NAMESPACE}/troposphere:"))
    ]
    assert apps and all(spec.shared == (("standin", STANDIN_DIR),) for spec in apps)
    assert all(spec.dockerfile == STANDIN_DIR / "Dockerfile" for spec in apps)
