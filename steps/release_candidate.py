"""Week prior: the slated pull requests, the changelog, the merge into master, the tag, the
tagged images."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from pytest_bdd import then, when

from atmo_release.weeks_before.candidate_repos import verify_released
from atmo_release.weeks_before.feature_runs import Candidate
from atmo_release.weeks_before.slated import require_merged, slated_pulls


def _each(candidate: Candidate) -> list:
    return list(candidate.repos.values())


@when("the pull requests slated for the release are read from GitHub")
def _(release_candidate_run: Candidate) -> None:
    candidate = release_candidate_run
    client, settings = candidate.github(), candidate.settings
    for name in candidate.repos:
        pulls, read = slated_pulls(
            client, settings.github_owner, name, candidate.release, settings.slated_label
        )
        candidate.slated[name] = pulls
        where = ", ".join(read) or f"no milestone named {candidate.release.name}"
        candidate.run.record.note(f"{name}: {len(pulls)} slated pull requests ({where})")
    slated = {name: [asdict(pull) for pull in pulls] for name, pulls in candidate.slated.items()}
    candidate.run.fact("slated_pulls", slated)


@then("no pull request slated for the release is still open")
def _(release_candidate_run: Candidate) -> None:
    candidate = release_candidate_run
    pulls = [pull for pulls in candidate.slated.values() for pull in pulls]
    still_open = require_merged(pulls, candidate.allow_open_prs)
    if still_open:
        listed = [str(pull) for pull in still_open]
        candidate.run.record.note(
            f"--allow-open-prs {candidate.allow_open_prs!r}: still open: {'; '.join(listed)}"
        )
        candidate.run.fact(
            "allow_open_prs", {"reason": candidate.allow_open_prs, "still_open": listed}
        )


@when("the Unreleased items of each app's changelog are moved under the release")
def _(release_candidate_run: Candidate) -> None:
    released = {}
    for repo in _each(release_candidate_run):
        facts = repo.update_changelog(release_candidate_run.release, release_candidate_run.day)
        released[repo.app] = {"heading": facts["heading"], "note": facts["note"]}
        release_candidate_run.run.record.note(f"{repo.app}: {facts['heading']}")
        if facts["note"]:
            release_candidate_run.run.record.note(f"{repo.app}: {facts['note']}")
    release_candidate_run.run.fact("changelogs", released)


@then(
    "each changelog commit has the release heading holding exactly the Unreleased items "
    "and every other line as it was"
)
def _(release_candidate_run: Candidate) -> None:
    for repo in _each(release_candidate_run):
        committed = repo.upstream_changelog(repo.facts["branch"])  # what the merge will take
        verify_released(repo.facts["original"], committed, release_candidate_run.release)


@when("each changelog commit is merged into master")
def _(release_candidate_run: Candidate) -> None:
    for repo in _each(release_candidate_run):
        merge = repo.merge(release_candidate_run.release, release_candidate_run.github)
        release_candidate_run.run.record.note(f"{repo.app}: merged as {merge[:12]}")


@then("master upstream is the merge of the changelog commit and holds the released changelog")
def _(release_candidate_run: Candidate) -> None:
    for repo in _each(release_candidate_run):
        repo.check_merged(release_candidate_run.release)


@when("the merge is tagged with the release and the tag is pushed")
def _(release_candidate_run: Candidate) -> None:
    for repo in _each(release_candidate_run):
        repo.tag(release_candidate_run.release)


@then("the upstream has the annotated release tag on the merge")
def _(release_candidate_run: Candidate) -> None:
    tags = {}
    for repo in _each(release_candidate_run):
        tags[repo.app] = {"commit": repo.check_tag(release_candidate_run.release)}
        tags[repo.app]["merge"] = repo.facts["merge"]
    release_candidate_run.run.fact("tags", tags)


@when("the tagged builds are awaited in the registry")
def _(release_candidate_run: Candidate, tell: Callable[[str], None]) -> None:
    candidate = release_candidate_run
    references = [candidate.image(app) for app in candidate.imaged]
    candidate.digests = candidate.registry.wait_for(
        references,
        candidate.settings.images_timeout_s,
        candidate.settings.images_interval_s,
        progress=lambda line: tell(f"    {line}"),
    )
    candidate.run.fact("images", candidate.digests)


@then("each app's release image is in the registry")
def _(release_candidate_run: Candidate) -> None:
    candidate = release_candidate_run
    for app in candidate.imaged:
        name, tag = candidate.image(app)
        manifest = candidate.registry.manifest(name, tag)
        assert manifest is not None, f"{name}:{tag} is not in {candidate.settings.registry}"
        expected = candidate.digests.get(manifest.reference)
        assert manifest.digest == expected, (
            f"{manifest.reference} is now {manifest.digest}, was {expected} when it appeared"
        )
