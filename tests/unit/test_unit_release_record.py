"""The release record on GitHub: releases, assets and deployments against the local stand-in,
which rejects what GitHub rejects; the body blocks; attaching a run's folder twice."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import requests

from atmo_release.environment import load_environment
from atmo_release.github import deployments
from atmo_release.github.pull_requests import GitHubError
from atmo_release.github.release_body import markers, with_block
from atmo_release.github.releases import GitHubReleases, Repository
from atmo_release.record import assets as attach_module
from atmo_release.record.assets import RunReports, attach, attach_command
from atmo_release.record.home import RecordHome, find_or_create
from atmo_release.redact import MASK, Redactor
from atmo_release.release import Release
from atmo_release.weeks_before.changelog_edit import (
    ChangelogError,
    release_changelog,
    release_section,
)
from atmo_release.weeks_before.tag_release import TagReleaseError, publish_changelog, verify_release
from rehearsal.fake_github_releases import FakeGitHubReleases
from rehearsal.first_deploy import to_toml
from rehearsal.github_stand_in import record_table, start_github, token_env
from rehearsal.release_repos import changelog

ROOT = Path(__file__).resolve().parents[2]
REPO = Repository("cyverse", "atmosphere")
SECRET = "s3cret-database-password"


@pytest.fixture
def github() -> Iterator[FakeGitHubReleases]:
    server = start_github()
    try:
        yield server
    finally:
        server.__exit__(None, None, None)


def client_of(github: FakeGitHubReleases) -> GitHubReleases:
    return GitHubReleases(github.url, github.uploads_url, github.token)


def _headers(github: FakeGitHubReleases, **more: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {github.token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        **more,
    }


def test_the_stand_in_rejects_uploads_github_would_reject(github: FakeGitHubReleases) -> None:
    release = github.add_release("cyverse", "atmosphere", "v37-3")
    url = f"{github.uploads_url}/repos/cyverse/atmosphere/releases/{release['id']}/assets"
    no_type = requests.post(url, params={"name": "a.xml"}, data=b"x", headers=_headers(github))
    no_name = requests.post(
        url, data=b"x", headers=_headers(github, **{"Content-Type": "application/xml"})
    )
    typed = _headers(github, **{"Content-Type": "application/xml"})
    first = requests.post(url, params={"name": "a.xml"}, data=b"x", headers=typed)
    again = requests.post(url, params={"name": "a.xml"}, data=b"y", headers=typed)
    assert [r.status_code for r in (no_type, no_name, first, again)] == [422, 422, 201, 422]
    assert again.json()["errors"][0]["code"] == "already_exists"
    assert first.json()["size"] == 1 and github.uploaded == [b"x"]


def test_a_draft_is_found_only_in_the_list(github: FakeGitHubReleases) -> None:
    client = client_of(github)
    github.add_release("cyverse", "atmosphere", "v37-3", draft=True)
    by_tag = requests.get(
        f"{github.url}/repos/cyverse/atmosphere/releases/tags/v37-3", headers=_headers(github)
    )
    assert by_tag.status_code == 404
    found = client.release_by_tag(REPO, "v37-3")
    assert found is not None and found["draft"] is True
    release, created = find_or_create(client, REPO, "v37-3", "v37-3", "", draft=True)
    assert not created and release["id"] == found["id"] and len(github.releases) == 1


def test_a_wrong_token_is_refused_and_never_shown(github: FakeGitHubReleases) -> None:
    wrong = "ghp_" + "w" * 36
    client = GitHubReleases(github.url, github.uploads_url, wrong)
    with pytest.raises(GitHubError, match="401") as error:
        client.release_by_tag(REPO, "v37-3")
    assert wrong not in str(error.value)


def _section(tag: str = "v37-6") -> str:
    text = release_changelog(changelog("atmosphere", "v37-5", "v37-4"), tag, date(2026, 12, 1))
    return release_section(text, Release.parse(tag))


def test_the_changelog_section_of_a_release() -> None:
    section = _section()
    assert section.startswith("## [v37-6](https://github.com/cyverse/atmosphere/compare/")
    assert "Read the atmosphere settings from the environment" in section
    assert "## [v37-5]" not in section and "Unreleased" not in section
    with pytest.raises(ChangelogError, match="no section for v37-9"):
        release_section(changelog("atmosphere", "v37-5", "v37-4"), Release.parse("v37-9"))


def test_a_release_without_its_changelog_section_is_caught(github: FakeGitHubReleases) -> None:
    client, section = client_of(github), _section()
    made = publish_changelog(client, REPO, "v37-6", "v37-6", section, draft=True)
    assert made["how"] == "created" and made["draft"] is True
    assert (
        verify_release(client, REPO, "v37-6", "v37-6", section)["body"].strip() == section.strip()
    )
    github.releases[made["id"]]["body"] = "someone replaced the notes"
    with pytest.raises(TagReleaseError, match="does not hold its changelog section"):
        verify_release(client, REPO, "v37-6", "v37-6", section)


def test_an_existing_release_is_adopted_keeping_what_people_wrote(
    github: FakeGitHubReleases,
) -> None:
    github.add_release("cyverse", "atmosphere", "v37-6", name="draft by hand", body="Our notes.")
    client, section = client_of(github), _section()
    adopted = publish_changelog(client, REPO, "v37-6", "v37-6", section, draft=False)
    assert adopted["how"] == "adopted" and adopted["name"] == "v37-6"
    assert adopted["body"].startswith(section.strip()) and adopted["body"].endswith("Our notes.\n")
    again = publish_changelog(client, REPO, "v37-6", "v37-6", section, draft=False)
    assert again["body"] == adopted["body"] and len(github.releases) == 1


def test_a_block_replaces_only_its_own_text() -> None:
    body = "Notes by hand.\n"
    one = with_block(body, "atmobeta", "r1", "first")
    two = with_block(one, "production", "r2", "second")
    three = with_block(two, "atmobeta", "r1", "first, rewritten")
    assert three.startswith("Notes by hand.\n")
    assert "first, rewritten" in three and "second" in three and "first\n" not in three
    assert three.count(markers("atmobeta", "r1")[0]) == 1


def _run_folder(tmp_path: Path, outcome: str = "passed") -> Path:
    folder = tmp_path / "rehearsal-v37-3-20261127T090000Z"
    folder.mkdir()
    (folder / "junit.xml").write_text(f"<testsuites><!-- {SECRET} --></testsuites>\n")
    (folder / "cucumber.json").write_text("[]\n")
    record = {
        "env": "atmobeta",
        "release": "v37-3",
        "run_id": "abc123",
        "crew_chief": "Ada",
        "driver": "Grace",
        "started": "2026-11-27T09:00:00+00:00",
        "finished": "2026-11-27T09:20:00+00:00",
        "outcome": outcome,
        "halted_at": "",
    }
    (folder / "record.json").write_text(json.dumps(record))
    return folder


def _home(github: FakeGitHubReleases, **changes: object) -> RecordHome:
    environment = load_environment("atmobeta", ROOT / "environments")
    environment = replace(environment, extra={"release_record": record_table(github)})
    home = RecordHome.of(environment)
    assert home is not None
    return replace(home, **changes)


def test_attaching_twice_uploads_once_and_only_redacted_bytes(
    github: FakeGitHubReleases, tmp_path: Path
) -> None:
    github.add_release("cyverse", "atmosphere", "v37-3", body="Notes by hand.")
    folder = _run_folder(tmp_path)
    environment = load_environment("atmobeta", ROOT / "environments")
    home, client = _home(github), client_of(github)
    first = attach(client, home, RunReports.find(folder), environment, Redactor([SECRET]))
    assert sorted(first.uploaded) == [
        "atmobeta-20261127T090000Z-cucumber.json",
        "atmobeta-20261127T090000Z-junit.xml",
        "atmobeta-20261127T090000Z-record.json",
    ]
    assert first.missing == ["atmobeta-20261127T090000Z-record.html"]
    assert first.not_attached == {}
    second = attach(client, home, RunReports.find(folder), environment, Redactor([SECRET]))
    assert second.uploaded == [] and len(second.already) == 3
    assert len(github.uploaded) == 3
    assert not [data for data in github.uploaded if SECRET.encode() in data]
    assert MASK.encode() in github.uploaded[1] or MASK.encode() in github.uploaded[0]
    body = github.release_of("cyverse", "atmosphere", "v37-3")["body"]  # type: ignore[index]
    assert body.startswith("Notes by hand.") and body.count("atmo-release:begin") == 1
    assert "atmobeta-20261127T090000Z-junit.xml](https://github.com/" in body


def test_an_immutable_release_gets_the_block_only(
    github: FakeGitHubReleases, tmp_path: Path
) -> None:
    github.add_release("cyverse", "atmosphere", "v37-3", immutable=True)
    folder = _run_folder(tmp_path)
    environment = load_environment("atmobeta", ROOT / "environments")
    done = attach(
        client_of(github), _home(github), RunReports.find(folder), environment, Redactor()
    )
    assert done.uploaded == [] and github.uploaded == []
    assert all("immutable; the file stays at" in why for why in done.not_attached.values())
    body = github.release_of("cyverse", "atmosphere", "v37-3")["body"]  # type: ignore[index]
    assert "reports not attached:" in body


def test_the_attach_command_without_a_token_refuses_and_touches_nothing(
    github: FakeGitHubReleases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _run_folder(tmp_path)
    env_file = tmp_path / "atmobeta.toml"
    data = tomllib.loads((ROOT / "environments" / "atmobeta.toml").read_text())
    data["release_record"] = record_table(github)
    env_file.write_text(to_toml(data))
    monkeypatch.delenv(token_env(github))
    said: list[str] = []
    assert attach_module.main([str(folder), "--env", str(env_file)], said.append) == 2
    assert said[0].startswith("refused: no GitHub token in $ATMO_REHEARSAL_GITHUB_TOKEN_")
    assert github.calls == []
    monkeypatch.setenv(token_env(github), github.token)
    assert attach_module.main([str(folder), "--env", str(env_file)], said.append) == 0
    assert said[-1] == "uploaded 3, already there 0"
    assert attach_module.main([str(folder), "--env", str(env_file)], said.append) == 0
    assert said[-1] == "uploaded 0, already there 3"
    assert attach_command(folder, "atmobeta").startswith("python -m atmo_release.attach ")


def test_the_deployment_carries_the_outcome(github: FakeGitHubReleases) -> None:
    client = client_of(github)
    record = {"release": "v37-3", "env": "atmobeta", "run_id": "r1", "driver": "Grace"}
    started = deployments.start(client, REPO, record)
    assert started["state"] == "in_progress"
    state = deployments.finish(client, REPO, started["id"], "halted, rolled back", "u", "x" * 300)
    assert state == "failure"
    assert [s["state"] for s in client.statuses(REPO, started["id"])] == ["failure", "in_progress"]
    assert deployments.state_of("passed") == "success"
    assert deployments.state_of("running") == "error"


def test_the_assets_are_listed_past_one_page(github: FakeGitHubReleases) -> None:
    """Four assets a run: a release outgrows GitHub's page of 100 after 25 runs."""
    client = client_of(github)
    release = client.create_release(REPO, "v37-3", "v37-3", "body", draft=False)
    stored = github.releases[release["id"]]["assets"]
    stored += [{"name": f"run-{n}.json", "size": n} for n in range(230)]
    assert [asset["name"] for asset in client.assets(REPO, release["id"])] == [
        f"run-{n}.json" for n in range(230)
    ]
