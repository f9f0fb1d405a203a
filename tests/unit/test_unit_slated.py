"""The pull requests slated for a release, read from the local GitHub stand-in."""

from collections.abc import Iterator

import pytest

from atmo_release.github.pull_requests import GitHubClient, GitHubError
from atmo_release.release import Release
from atmo_release.weeks_before.slated import OpenSlatedPulls, require_merged, slated_pulls
from rehearsal.fake_github import FakeGitHub
from rehearsal.slated_pulls import OPEN_TITLE, SLATED_LABEL, slated_github

REPOS = ("atmosphere", "troposphere", "atmosphere-ansible")
V37_6 = Release(37, 6)


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, GitHubClient]]:
    fake, token = slated_github("cyverse", REPOS, "v37-6", open_pr=True)
    with fake:
        yield fake, GitHubClient(fake.url, token)


def test_milestone_and_label_select_pull_requests_not_issues(github) -> None:  # type: ignore[no-untyped-def]
    fake, client = github
    pulls, read = slated_pulls(client, "cyverse", "troposphere", V37_6, SLATED_LABEL)
    assert read == ["milestone v37-6", f"label {SLATED_LABEL}"]
    assert [(p.number, p.title, p.merged) for p in pulls] == [
        (401, "Ready troposphere for v37-6", True),
        (404, "Hide the beta toggle", True),
    ]
    assert fake.problems == []
    assert [(method, path) for method, path, _ in fake.calls] == [
        ("GET", "/repos/cyverse/troposphere/milestones?state=all&per_page=100&page=1"),
        ("GET", "/repos/cyverse/troposphere/issues?milestone=2&state=all&per_page=100&page=1"),
        (
            "GET",
            f"/repos/cyverse/troposphere/issues?labels={SLATED_LABEL}&state=all&per_page=100&page=1",
        ),
    ]


def test_an_open_one_fails_by_number_and_title_then_passes_once_merged(github) -> None:  # type: ignore[no-untyped-def]
    fake, client = github
    pulls, _ = slated_pulls(client, "cyverse", "atmosphere-ansible", V37_6)
    with pytest.raises(OpenSlatedPulls) as error:
        require_merged(pulls, None)
    assert f"atmosphere-ansible#404 '{OPEN_TITLE}'" in str(error.value)
    assert "--allow-open-prs" in str(error.value)
    fake.merge_slated("cyverse/atmosphere-ansible", 404)
    pulls, _ = slated_pulls(client, "cyverse", "atmosphere-ansible", V37_6)
    assert require_merged(pulls, None) == []
    assert [p.merged for p in pulls] == [True, True]


def test_allow_open_prs_returns_the_open_ones(github) -> None:  # type: ignore[no-untyped-def]
    _, client = github
    pulls, _ = slated_pulls(client, "cyverse", "atmosphere-ansible", V37_6)
    assert [p.number for p in require_merged(pulls, "Guacamole waits for v37-7")] == [404]


def test_no_milestone_of_the_release_slates_nothing(github) -> None:  # type: ignore[no-untyped-def]
    _, client = github
    assert slated_pulls(client, "cyverse", "atmosphere", Release(38, 0)) == ([], [])


def test_pages_are_followed(github) -> None:  # type: ignore[no-untyped-def]
    fake, client = github
    for n in range(150):
        fake.add_issue("cyverse/atmosphere", f"closed {n}", 2, state="closed")
    pulls, _ = slated_pulls(client, "cyverse", "atmosphere", V37_6)
    assert len(pulls) == 151
    assert fake.calls[-1][1].endswith("&per_page=100&page=2")


def test_the_stand_in_refuses_what_github_refuses(github) -> None:  # type: ignore[no-untyped-def]
    fake, client = github
    with pytest.raises(GitHubError, match="422"):
        client.list_all("/repos/cyverse/atmosphere/issues", {"state": "merged"})
    with pytest.raises(GitHubError, match="422"):
        client.list_all("/repos/cyverse/atmosphere/issues", {"milestone": "v37-6"})
    with pytest.raises(GitHubError, match="404"):
        client.list_all("/repos/cyverse/nope/issues", {})
    bad = GitHubClient(fake.url, "wrong-token-value")
    with pytest.raises(GitHubError) as error:
        bad.list_all("/repos/cyverse/atmosphere/milestones", {})
    assert "401" in str(error.value) and "wrong-token-value" not in str(error.value)
