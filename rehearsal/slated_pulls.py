"""The rehearsal's GitHub for the pull requests slated for a release (a `FakeGitHub`).

Each repository has a milestone named after the release holding one merged pull request and an
open issue (not a pull request: not slated work), an older milestone, and an open pull request
in no milestone; troposphere also has a merged one carrying the slated label, and
atmosphere-ansible's milestone a second one, `OPEN_TITLE` (#404): merged, or with `open_pr`
still open.
"""

from __future__ import annotations

import secrets

from rehearsal.fake_github import FakeGitHub

SLATED_LABEL = "slated-for-release"
OPEN_TITLE = "Install Guacamole 1.1 on new images"


def slated_github(
    owner: str, repos: tuple[str, ...], release: str, open_pr: bool = False
) -> tuple[FakeGitHub, str]:
    """(the stand-in, not started, its token)."""
    token = "ghp_" + secrets.token_hex(18)
    fake = FakeGitHub(token, {})
    for name in repos:
        repo = f"{owner}/{name}"
        fake.add_milestone(repo, "v37-0")
        milestone = fake.add_milestone(repo, release)
        fake.add_issue(repo, f"Ready {name} for {release}", milestone, state="closed")
        fake.add_issue(repo, "Document the new settings", milestone, pull=False)
        fake.add_issue(repo, "Draft: work for the next cycle")
        if name == "troposphere":
            fake.add_issue(repo, "Hide the beta toggle", labels=(SLATED_LABEL,), state="closed")
        if name == "atmosphere-ansible":
            fake.add_issue(repo, OPEN_TITLE, milestone, state="open" if open_pr else "closed")
    return fake, token
