"""The pull requests slated for a release: in its milestone, or carrying the slated label.

Why read them: the runbook merges every PR slated for the release before the release is tagged;
one still open would silently miss the release. GitHub lists pull requests among the issues
(each with a `pull_request` key), which is where both a milestone and a label filter apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from atmo_release.github.pull_requests import GitHubClient
from atmo_release.release import Release, ReleaseError


class OpenSlatedPulls(AssertionError):
    """Pull requests slated for the release that are still open; the text lists them."""


@dataclass(frozen=True)
class SlatedPull:
    repo: str
    number: int
    title: str
    state: str  # open or closed
    merged: bool
    url: str

    def __str__(self) -> str:
        return f"{self.repo}#{self.number} {self.title!r}"


def _names(title: str, release: Release) -> bool:
    try:
        return Release.parse(title) == release
    except ReleaseError:
        return False


def slated_pulls(
    client: GitHubClient, owner: str, repo: str, release: Release, label: str = ""
) -> tuple[list[SlatedPull], list[str]]:
    """(the pull requests slated, by number; which milestone and label were read)."""
    base = f"/repos/{owner}/{repo}"
    milestones = client.list_all(f"{base}/milestones", {"state": "all"})
    filters = [
        ({"milestone": str(m["number"])}, f"milestone {m['title']}")
        for m in milestones
        if _names(str(m.get("title", "")), release)
    ]
    if label:
        filters.append(({"labels": label}, f"label {label}"))
    found: dict[int, SlatedPull] = {}
    for params, _ in filters:
        for issue in client.list_all(f"{base}/issues", {**params, "state": "all"}):
            pull = issue.get("pull_request")
            if pull is None:
                continue
            found[int(issue["number"])] = SlatedPull(
                repo=repo,
                number=int(issue["number"]),
                title=str(issue["title"]),
                state=str(issue["state"]),
                merged=bool(pull.get("merged_at")),
                url=str(issue.get("html_url", "")),
            )
    return [found[n] for n in sorted(found)], [name for _, name in filters]


def require_merged(pulls: list[SlatedPull], allow_reason: str | None) -> list[SlatedPull]:
    """The open ones; an error listing them unless `allow_reason` (`--allow-open-prs`) is given."""
    still_open = [pull for pull in pulls if pull.state == "open"]
    if still_open and not allow_reason:
        listed = "; ".join(str(pull) for pull in still_open)
        raise OpenSlatedPulls(
            f"{len(still_open)} pull request(s) slated for the release still open: {listed}; "
            'merge them, or run again with --allow-open-prs "<reason>"'
        )
    return still_open
