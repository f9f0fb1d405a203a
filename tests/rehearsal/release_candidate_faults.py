"""The faults that turn each check of release_candidate.feature red (see prove_probe)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import requests

from atmo_release.weeks_before.feature_runs import Candidate
from rehearsal.release_repos import MANIFEST_V2
from tests.rehearsal.faults import RUN

CHANGELOG = (
    "each changelog commit has the release heading holding exactly the Unreleased items "
    "and every other line as it was"
)
MERGED = "master upstream is the merge of the changelog commit and holds the released changelog"
TAGGED = "the upstream has the annotated release tag on the merge"
IMAGES = "each app's release image is in the registry"


def _git(candidate: Candidate, *args: str) -> str:
    checkout = candidate.repos["atmosphere"].checkout
    author = ["-c", "user.name=fault", "-c", "user.email=fault@example.org"]
    return subprocess.run(["git", "-C", str(checkout), *author, *args], **RUN).stdout.strip()


@contextmanager
def changelog_amended(release_candidate_run: Candidate) -> Iterator[None]:
    """atmosphere's changelog commit amended with an older line reworded."""
    repo = release_candidate_run.repos["atmosphere"]
    path = repo.checkout / "CHANGELOG.md"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + "- reworded by hand\n")
    _git(release_candidate_run, "commit", "-q", "--amend", "--no-edit", "--", "CHANGELOG.md")
    try:
        yield
    finally:
        _git(release_candidate_run, "reset", "-q", "--hard", repo.facts["commit"])


@contextmanager
def _pushed(release_candidate_run: Candidate, fault: str, undo: str) -> Iterator[None]:
    """atmosphere's upstream has `fault` force-pushed inside the block, `undo` after it."""
    remote = release_candidate_run.repos["atmosphere"].settings.remote
    _git(release_candidate_run, "push", "-q", "-f", remote, fault)
    try:
        yield
    finally:
        _git(release_candidate_run, "push", "-q", "-f", remote, undo)


def master_pushed_back(release_candidate_run: Candidate) -> AbstractContextManager[None]:
    """atmosphere's upstream master force-pushed back to the commit before the merge."""
    merge = release_candidate_run.repos["atmosphere"].facts["merge"]
    master = "refs/heads/master"
    return _pushed(release_candidate_run, f"{merge}~1:{master}", f"{merge}:{master}")


def lightweight_tag(release_candidate_run: Candidate) -> AbstractContextManager[None]:
    """atmosphere's release tag replaced upstream by a lightweight tag on the merge."""
    merge = release_candidate_run.repos["atmosphere"].facts["merge"]
    ref = f"refs/tags/{release_candidate_run.release.git_tag}"
    return _pushed(release_candidate_run, f"{merge}:{ref}", f"{ref}:{ref}")


@contextmanager
def image_replaced(release_candidate_run: Candidate) -> Iterator[None]:
    """atmosphere's release image pushed again with another manifest after it appeared."""
    name, tag = release_candidate_run.image("atmosphere")
    url = f"{release_candidate_run.settings.registry}/v2/{name}/manifests/{tag}"
    original = requests.get(url, headers={"Accept": MANIFEST_V2}, timeout=10).content
    headers = {"Content-Type": MANIFEST_V2}
    requests.put(url, data=original + b"\n", headers=headers, timeout=10).raise_for_status()
    try:
        yield
    finally:
        requests.put(url, data=original, headers=headers, timeout=10).raise_for_status()


FAULTS = {
    CHANGELOG: changelog_amended,
    MERGED: master_pushed_back,
    TAGGED: lightweight_tag,
    IMAGES: image_replaced,
}
