"""The rehearsal registries' storage kept between stacks, on files laid out as the registry
lays them out: blobs linked, repositories copied, the cache replaced only by a storage that
holds a blob it lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehearsal import registry_cache
from rehearsal.registry_cache import V2, blobs, cache_dir, keep, seed


def storage_with(root: Path, *digests: str) -> Path:
    for digest in digests:
        blob = root / V2 / "blobs" / "sha256" / digest[:2] / digest / "data"
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_text(f"layer {digest}")
    link = root / V2 / "repositories" / "cyverse" / "atmosphere" / "_manifests" / "tags"
    link = link / "release-v37-3" / "current" / "link"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.write_text(f"sha256:{digests[0]}")
    return root


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return cache_dir()


def link_file(storage: Path) -> Path:
    return next((storage / V2 / "repositories").rglob("link"))


def data_file(storage: Path, digest: str) -> Path:
    return storage / V2 / "blobs" / "sha256" / digest[:2] / digest / "data"


def test_a_first_stack_starts_empty_and_its_push_is_kept(tmp_path: Path, cache: Path) -> None:
    assert cache == tmp_path / "cache" / "atmo-release" / "registry"
    first = tmp_path / "first"
    seed(first)
    assert first.is_dir() and blobs(first) == set()
    storage_with(first, "aa11", "bb22")
    assert keep(first) and blobs(cache) == {"aa11", "bb22"}
    assert data_file(cache, "aa11").stat().st_ino == data_file(first, "aa11").stat().st_ino
    assert link_file(cache).stat().st_ino != link_file(first).stat().st_ino


def test_the_next_stack_gets_the_blobs_linked_and_its_own_repositories(tmp_path: Path) -> None:
    keep(storage_with(tmp_path / "first", "aa11", "bb22"))
    second = tmp_path / "second"
    seed(second)
    assert blobs(second) == {"aa11", "bb22"}
    assert data_file(second, "bb22").read_text() == "layer bb22"
    assert data_file(second, "bb22").stat().st_nlink == 3
    link_file(second).write_text("rewritten in place by the registry")
    assert link_file(tmp_path / "first").read_text() == "sha256:aa11"
    assert link_file(cache_dir()).read_text() == "sha256:aa11"


def test_the_cache_is_replaced_only_for_a_blob_it_lacks(tmp_path: Path) -> None:
    keep(storage_with(tmp_path / "first", "aa11", "bb22"))
    second = tmp_path / "second"
    seed(second)
    assert not keep(second)
    storage_with(second, "cc33")  # a stand-in image rebuilt
    assert keep(second) and blobs(cache_dir()) == {"aa11", "bb22", "cc33"}
    assert not list(cache_dir().parent.glob("*.new")) and not list(cache_dir().parent.glob("*.old"))


def test_blobs_are_copied_where_they_cannot_be_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another file system: `cp -l` fails, the blobs are copied."""
    calls: list[list[str]] = []
    run = registry_cache.run

    def no_links(argv: list[str], check: bool = True) -> object:
        calls.append(argv)
        if "-l" in argv:
            return run(["false"], check=False)
        return run(argv, check=check)

    monkeypatch.setattr(registry_cache, "run", no_links)
    first = storage_with(tmp_path / "first", "aa11")
    assert keep(first)
    assert data_file(cache_dir(), "aa11").stat().st_ino != data_file(first, "aa11").stat().st_ino
    assert data_file(cache_dir(), "aa11").read_text() == "layer aa11"
    assert [argv[:3] for argv in calls] == [
        ["cp", "-a", "-l"],
        ["cp", "-a", str(first / V2 / "blobs")],
        ["cp", "-a", str(first / V2 / "repositories")],
    ]


def test_a_cache_that_cannot_be_copied_leaves_the_stack_empty_and_one_not_written_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another stack renaming the cache away mid-copy, or a cache directory not writable: the
    stack goes on, its push uploads everything."""
    keep(storage_with(tmp_path / "first", "aa11"))

    def fails(argv: list[str], check: bool = True) -> object:
        raise RuntimeError(f"{argv[0]} ... failed: No such file or directory")

    monkeypatch.setattr(registry_cache, "run", fails)
    second = tmp_path / "second"
    seed(second)
    assert second.is_dir() and blobs(second) == set() and not (second / V2).exists()
    assert not keep(storage_with(tmp_path / "third", "dd44"))
    assert blobs(cache_dir()) == {"aa11"}
    assert not list(cache_dir().parent.glob("*.new"))
