"""Release-candidate git work on local repositories (no Docker): refusals and the proof."""

from datetime import date
from pathlib import Path

import pytest

from atmo_release.release import Release
from atmo_release.target import LocalTarget
from atmo_release.weeks_before.candidate_repos import (
    AppRepository,
    CandidateError,
    CandidateSettings,
    verify_released,
)
from atmo_release.weeks_before.changelog_edit import release_changelog
from rehearsal.release_repos import ReleaseRehearsal, changelog

V37_6 = Release(37, 6)
ORIGINAL = changelog("atmosphere", "v37-5", "v37-4")


def test_verify_accepts_the_released_changelog() -> None:
    released = release_changelog(ORIGINAL, "v37-6", date(2026, 12, 1), "atmosphere")
    verify_released(ORIGINAL, released, V37_6)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("the login page ", "the login page"), "changed"),
        (lambda t: t.replace("  - A code-named", "  - A renamed"), "changed"),
        (lambda t: t.replace("## [v37-6]", "## [v37-7]"), "no '## \\[v37-6\\]"),
        (lambda t: t.replace("v37-6...HEAD", "v37-5...HEAD"), "does not compare from v37-6"),
    ],
)
def test_verify_fails_on_any_other_change(edit, message) -> None:  # type: ignore[no-untyped-def]
    released = release_changelog(ORIGINAL, "v37-6", date(2026, 12, 1), "atmosphere")
    with pytest.raises(CandidateError, match=message):
        verify_released(ORIGINAL, edit(released), V37_6)


@pytest.fixture
def repos(tmp_path: Path) -> ReleaseRehearsal:
    older = {"atmosphere-ansible": ("v34-1", "v34-0")}
    rehearsal = ReleaseRehearsal(root=tmp_path, log=lambda line: None, older=older)
    rehearsal.make_repository("atmosphere")
    return rehearsal


def _repo(rehearsal: ReleaseRehearsal, name: str = "atmosphere") -> AppRepository:
    settings = CandidateSettings(
        rehearsal.checkouts, "upstream", "master", "local", "cyverse", "", "", "", 1, 1
    )
    return AppRepository(name, settings, LocalTarget())


def test_empty_unreleased_refuses_and_leaves_the_file_untouched(repos: ReleaseRehearsal) -> None:
    repos.empty_unreleased("atmosphere")
    path = repos.checkouts / "atmosphere" / "CHANGELOG.md"
    before = path.read_bytes()
    repo = _repo(repos)
    with pytest.raises(CandidateError, match="has no items to release"):
        repo.update_changelog(V37_6, date(2026, 12, 1))
    assert path.read_bytes() == before
    assert "commit" not in repo.facts


def test_local_merge_and_tag_are_proven_upstream(repos: ReleaseRehearsal) -> None:
    repo = _repo(repos)
    repo.update_changelog(V37_6, date(2026, 12, 1))
    repo.merge(V37_6)
    repo.check_merged(V37_6)
    with pytest.raises(CandidateError, match="no tag v37-6"):
        repo.check_tag(V37_6)
    repo.tag(V37_6)
    assert repo.check_tag(V37_6) == repo.facts["merge"]


def test_an_existing_upstream_tag_is_refused(repos: ReleaseRehearsal) -> None:
    with pytest.raises(CandidateError, match="already has the tag v37-5"):
        _repo(repos).update_changelog(Release(37, 5), date(2026, 12, 1))


def _upstream_refs(rehearsal: ReleaseRehearsal, name: str) -> str:
    return _repo(rehearsal, name)._git("ls-remote", "upstream").stdout


def test_a_release_not_later_than_the_last_is_refused_byte_identical(
    repos: ReleaseRehearsal,
) -> None:
    path = repos.checkouts / "atmosphere" / "CHANGELOG.md"
    before, refs = path.read_bytes(), _upstream_refs(repos, "atmosphere")
    repo = _repo(repos)
    with pytest.raises(CandidateError, match="v37-3 is not later than v37-5"):
        repo.update_changelog(Release(37, 3), date(2026, 12, 1))
    assert path.read_bytes() == before
    assert _upstream_refs(repos, "atmosphere") == refs
    assert "commit" not in repo.facts


def test_a_repository_that_skips_numbers_is_released_with_a_note(
    repos: ReleaseRehearsal,
) -> None:
    repos.make_repository("atmosphere-ansible")
    repo = _repo(repos, "atmosphere-ansible")
    facts = repo.update_changelog(Release(37, 0), date(2026, 12, 1))
    assert facts["note"] == "v37-0 skips numbers after v34-1 (the next would be v34-2 or v35-0)"
    repo.merge(Release(37, 0))
    repo.check_merged(Release(37, 0))
    repo.tag(Release(37, 0))
    assert repo.check_tag(Release(37, 0)) == repo.facts["merge"]
