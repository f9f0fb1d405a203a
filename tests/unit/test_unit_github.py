"""The GitHub client against a local server that checks the documented request shapes."""

from collections.abc import Iterator

import pytest

from atmo_release.github.pull_requests import GitHubClient, GitHubError, token_from
from rehearsal.fake_github import FakeGitHub

TOKEN = "ghp_" + "x" * 36
HEAD = "a" * 40


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN, {"release/v37-6": HEAD}) as server:
        yield server


def test_open_and_merge_a_pull_request(github: FakeGitHub) -> None:
    client = GitHubClient(github.url, TOKEN)
    pull = client.create_pull("cyverse", "atmosphere", "release/v37-6", "master", "Release v37-6")
    assert (pull.number, pull.head_sha) == (1, HEAD)
    merge = client.merge_pull("cyverse", "atmosphere", pull.number, HEAD, "Release v37-6")
    assert len(merge) == 40 and github.problems == []
    assert github.calls == [
        (
            "POST",
            "/repos/cyverse/atmosphere/pulls",
            {"title": "Release v37-6", "head": "release/v37-6", "base": "master", "body": ""},
        ),
        (
            "PUT",
            "/repos/cyverse/atmosphere/pulls/1/merge",
            {"commit_title": "Release v37-6", "sha": HEAD, "merge_method": "merge"},
        ),
    ]


def test_a_moved_head_is_not_merged(github: FakeGitHub) -> None:
    client = GitHubClient(github.url, TOKEN)
    pull = client.create_pull("cyverse", "atmosphere", "release/v37-6", "master", "Release")
    with pytest.raises(GitHubError, match="409"):
        client.merge_pull("cyverse", "atmosphere", pull.number, "b" * 40, "Release")


def test_a_bad_token_fails_without_showing_it(github: FakeGitHub) -> None:
    client = GitHubClient(github.url, "wrong-token-value")
    with pytest.raises(GitHubError) as error:
        client.create_pull("cyverse", "atmosphere", "release/v37-6", "master", "Release")
    assert "401" in str(error.value) and "wrong-token-value" not in str(error.value)


def test_unknown_head_is_a_validation_error(github: FakeGitHub) -> None:
    client = GitHubClient(github.url, TOKEN)
    with pytest.raises(GitHubError, match="422"):
        client.create_pull("cyverse", "atmosphere", "nope", "master", "Release")


def test_token_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATMO_TEST_TOKEN", raising=False)
    with pytest.raises(GitHubError, match="export ATMO_TEST_TOKEN="):
        token_from("ATMO_TEST_TOKEN")
    monkeypatch.setenv("ATMO_TEST_TOKEN", TOKEN)
    assert token_from("ATMO_TEST_TOKEN") == TOKEN
