"""The image builder reuses an image only while its content hash says nothing changed."""

import os
from dataclasses import replace
from pathlib import Path

import pytest

from rehearsal.images import MANIFEST, ImageError, content_hash, spec_hash


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
