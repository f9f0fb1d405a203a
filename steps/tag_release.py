"""release_candidate.feature, "The release of the tag": the GitHub release of each app's tag."""

from __future__ import annotations

from pytest_bdd import then, when

from atmo_release.github.releases import GitHubReleases, Repository
from atmo_release.record.home import RecordHome
from atmo_release.weeks_before.candidate_repos import CandidateError
from atmo_release.weeks_before.changelog_edit import release_section
from atmo_release.weeks_before.feature_runs import Candidate
from atmo_release.weeks_before.tag_release import publish_changelog, verify_release


def _github(candidate: Candidate) -> tuple[RecordHome, GitHubReleases]:
    home = RecordHome.of(candidate.environment)
    if home is None:
        raise CandidateError(
            f"{candidate.environment.path} has no [release_record]: add it (repository, draft)"
        )
    client = home.client()
    if client is None:
        raise CandidateError(
            f"no GitHub token: export {home.token_env}=<a token with Contents write>"
        )
    candidate.run.redactor.add([home.token])
    return home, client


def _repository(candidate: Candidate, app: str) -> Repository:
    return Repository(candidate.settings.github_owner, app)


@when("the GitHub release of the tag is made in each app repository")
def _(release_candidate_run: Candidate) -> None:
    candidate = release_candidate_run
    home, client = _github(candidate)
    tag, name = candidate.release.git_tag, candidate.release.name
    for repo in candidate.repos.values():
        section = release_section(repo.upstream_changelog(tag), candidate.release)
        repo.facts["release_section"] = section
        made = publish_changelog(
            client, _repository(candidate, repo.app), tag, name, section, home.draft
        )
        candidate.run.record.note(f"{repo.app}: release {made['how']}: {made.get('html_url')}")


@then(
    "each app repository has the release of the tag, named after the release, "
    "holding its changelog section"
)
def _(release_candidate_run: Candidate) -> None:
    candidate = release_candidate_run
    _, client = _github(candidate)
    tag, name = candidate.release.git_tag, candidate.release.name
    releases = {}
    for repo in candidate.repos.values():
        read = verify_release(
            client, _repository(candidate, repo.app), tag, name, repo.facts["release_section"]
        )
        releases[repo.app] = {k: read.get(k) for k in ("tag_name", "name", "draft", "body")}
    candidate.run.fact("releases", releases)
