"""The GitHub release of a tag at tag time: named after the release, holding its changelog.

Why adopt rather than fail on an existing release: someone may have drafted it on the releases
page first; their text stays, the changelog section goes on top, and the name is the release's.
"""

from __future__ import annotations

from typing import Any

from atmo_release.github.releases import GitHubReleases, Repository
from atmo_release.record.home import find_or_create


class TagReleaseError(RuntimeError):
    """A release read back that is not what was asked."""


def publish_changelog(
    client: GitHubReleases, repo: Repository, tag: str, name: str, section: str, draft: bool
) -> dict[str, Any]:
    """Create or adopt the release of `tag`; the release and how it was come by."""
    release, created = find_or_create(client, repo, tag, name, section, draft)
    body = release.get("body") or ""
    changes: dict[str, Any] = {}
    if release.get("name") != name:
        changes["name"] = name
    if section.strip() not in body:
        changes["body"] = f"{section.rstrip()}\n\n{body}".rstrip() + "\n"
    if changes:
        release = client.update_release(repo, int(release["id"]), **changes)
    return {**release, "how": "created" if created else "adopted"}


def verify_release(
    client: GitHubReleases, repo: Repository, tag: str, name: str, section: str
) -> dict[str, Any]:
    """The release of `tag` read back: its tag, its name and its changelog section."""
    release = client.release_by_tag(repo, tag)
    if release is None:
        raise TagReleaseError(f"{repo} has no release of {tag}")
    if release.get("tag_name") != tag:
        raise TagReleaseError(f"{repo}: the release is of {release.get('tag_name')}, not {tag}")
    if release.get("name") != name:
        raise TagReleaseError(f"{repo}: the release of {tag} is named {release.get('name')!r}")
    if section.strip() not in (release.get("body") or ""):
        raise TagReleaseError(f"{repo}: the release of {tag} does not hold its changelog section")
    return release
