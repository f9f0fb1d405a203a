"""The release candidate of one app repository: changelog commit, merge into master, the tag.

Why git and not the GitHub "Draft a new release" page: an annotated tag pushed from the
checkout is the same tag the page makes, and every step can be proven by reading the upstream
back (`git ls-remote`, `git show <remote>/<branch>:CHANGELOG.md`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from atmo_release.environment import Environment, EnvironmentFileError, extra_table
from atmo_release.github.pull_requests import GitHubClient
from atmo_release.release import Release
from atmo_release.target import Result, Target
from atmo_release.weeks_before.changelog_edit import (
    _COMPARE_HEAD,
    _UNRELEASED,
    ChangelogError,
    _body,
    _markdown_lines,
    _split_lines,
    prepare_release,
)

CHANGELOG = "CHANGELOG.md"
MERGE_KINDS = ("local", "github")
# The repositories the runbook releases together; atmosphere-ansible has no image to wait for.
REPOSITORIES = ("atmosphere", "troposphere", "atmosphere-ansible")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "atmo-release",
    "GIT_AUTHOR_EMAIL": "atmo-release@localhost",
    "GIT_COMMITTER_NAME": "atmo-release",
    "GIT_COMMITTER_EMAIL": "atmo-release@localhost",
}


class CandidateError(RuntimeError):
    """A release-candidate step that did not happen or whose result is not what it must be."""


@dataclass(frozen=True)
class CandidateSettings:
    """`[release_candidate]` of an environment file."""

    checkouts_dir: Path
    remote: str
    branch: str
    merge: str
    github_owner: str
    github_api: str
    github_token_env: str
    registry: str
    images_timeout_s: float
    images_interval_s: float
    repositories: tuple[str, ...] = REPOSITORIES
    slated_label: str = ""

    @classmethod
    def of(cls, environment: Environment) -> CandidateSettings:
        table = extra_table(
            environment,
            "release_candidate",
            "checkouts_dir, remote, branch, merge, github_owner, registry, ...",
        )
        if table["merge"] not in MERGE_KINDS:
            raise EnvironmentFileError(
                f'{environment.path}: release_candidate.merge must be "local" or "github"'
            )
        return cls(
            checkouts_dir=Path(table["checkouts_dir"]),
            remote=table["remote"],
            branch=table["branch"],
            merge=table["merge"],
            github_owner=table["github_owner"],
            github_api=table.get("github_api", "https://api.github.com"),
            github_token_env=table.get("github_token_env", "ATMO_RELEASE_GITHUB_TOKEN"),
            registry=table["registry"],
            images_timeout_s=float(table["images_timeout_s"]),
            images_interval_s=float(table.get("images_interval_s", 10)),
            repositories=tuple(table.get("repositories", REPOSITORIES)),
            slated_label=table.get("slated_label", ""),
        )


def git(directory: Path, *args: str) -> list[str]:
    return ["git", "-C", str(directory), *args]


def verify_released(original: str, released: str, release: Release) -> int:
    """Prove `released` is `original` with the Unreleased items moved under `release`.

    Every line but the Unreleased heading is byte-identical and in order; the new heading sits
    right under the (now empty) Unreleased section and holds exactly its former items.
    Returns the index of the new heading.
    """
    old, new = _split_lines(original), _split_lines(released)
    live = _markdown_lines(old)
    starts = [n for n, line in enumerate(old) if live[n] and _UNRELEASED.match(_body(line))]
    if len(starts) != 1:
        raise CandidateError("the original changelog has no single Unreleased heading")
    u = starts[0]
    if len(new) != len(old) + 2:
        raise CandidateError(
            f"the changelog has {len(new)} lines, expected {len(old) + 2} (two inserted)"
        )
    if new[:u] != old[:u]:
        raise CandidateError("lines above the Unreleased heading changed")
    if new[u + 3 :] != old[u + 1 :]:
        first = next(
            n for n, (a, b) in enumerate(zip(new[u + 3 :], old[u + 1 :], strict=True)) if a != b
        )
        raise CandidateError(
            f"line {u + 2 + first} of the original changed: {old[u + 1 + first]!r}"
        )
    link = _COMPARE_HEAD.search(_body(new[u]))
    if not _UNRELEASED.match(new[u]) or not link or link["base"] != release.name:
        raise CandidateError(f"the Unreleased heading does not compare from {release.name}")
    old_link = _COMPARE_HEAD.search(_body(old[u]))
    assert old_link is not None
    rebuilt = new[u][: link.start("base")] + old_link["base"] + new[u][link.end("base") :]
    if rebuilt != old[u]:
        raise CandidateError("the Unreleased heading changed beyond its compare link")
    if _body(new[u + 1]).strip():
        raise CandidateError("the Unreleased section is not empty after the release")
    if not _body(new[u + 2]).startswith(f"## [{release.name}]("):
        raise CandidateError(f"no '## [{release.name}](...)' heading under the Unreleased one")
    return u + 2


@dataclass
class AppRepository:
    """One app's checkout (`<checkouts_dir>/<app>`) with its upstream remote."""

    app: str
    settings: CandidateSettings
    target: Target
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def checkout(self) -> Path:
        return self.settings.checkouts_dir / self.app

    @property
    def upstream_branch(self) -> str:
        return f"{self.settings.remote}/{self.settings.branch}"

    def _git(self, *args: str, check: bool = True) -> Result:
        result = self.target.run(git(self.checkout, *args), env=self._identity())
        if check and not result.ok:
            raise CandidateError(f"{self.app}: git {' '.join(args[:3])} failed: {result.tail(3)}")
        return result

    def _out(self, *args: str) -> str:
        return self._git(*args).stdout.strip()

    def _identity(self) -> dict[str, str]:
        """A committer identity only where git has none configured (a fresh CI box)."""
        if "identity" not in self.facts:
            known = self.target.run(git(self.checkout, "config", "user.email")).ok
            known = known or "GIT_COMMITTER_EMAIL" in os.environ
            self.facts["identity"] = {} if known else GIT_IDENTITY
        return self.facts["identity"]

    def fetch(self) -> None:
        self._git("fetch", "--tags", "--prune", self.settings.remote)

    def upstream_changelog(self, ref: str | None = None) -> str:
        """CHANGELOG.md as the upstream has it (after a fetch), bytes kept."""
        result = self._git("show", f"{ref or self.upstream_branch}:{CHANGELOG}")
        return result.stdout

    def update_changelog(self, release: Release, day: date) -> dict[str, Any]:
        """Commit the released changelog on `release/<tag>` from the upstream's master."""
        if self._out("status", "--porcelain"):
            raise CandidateError(f"{self.checkout} has uncommitted changes: commit or stash them")
        self.fetch()
        if self.remote_tag(release) is not None:
            raise CandidateError(f"{self.app}: the upstream already has the tag {release.git_tag}")
        base = self._out("rev-parse", self.upstream_branch)
        branch = f"release/{release.name}"
        self._git("checkout", "-q", "-B", branch, base)
        path = self.checkout / CHANGELOG
        original = path.read_bytes().decode("utf-8")
        try:
            released = prepare_release(original, release.name, day, self.app)
        except ChangelogError as error:
            self._git("checkout", "-q", self.settings.branch, check=False)
            raise CandidateError(f"{self.app}: {CHANGELOG}: {error}") from None
        path.write_bytes(released.text.encode("utf-8"))
        self._git("commit", "-q", "-m", f"Release {release.name}", "--", CHANGELOG)
        self.facts.update(
            base=base,
            branch=branch,
            commit=self._out("rev-parse", "HEAD"),
            heading=released.heading,
            items=released.items,
            note=released.note,
            original=original,
        )
        return self.facts

    def merge(self, release: Release, github: Callable[[], GitHubClient] | None = None) -> str:
        """Merge the changelog branch into master upstream; the merge commit's sha."""
        branch, commit = self.facts["branch"], self.facts["commit"]
        title = f"Release {release.name}"
        if self.settings.merge == "local":
            self._git("checkout", "-q", "-B", self.settings.branch, self.facts["base"])
            self._git("merge", "-q", "--no-ff", "-m", f"Merge {branch}: {title}", branch)
            merge = self._out("rev-parse", "HEAD")
            self._git(
                "push", "-q", self.settings.remote, f"{merge}:refs/heads/{self.settings.branch}"
            )
        else:
            if github is None:
                raise CandidateError("a GitHub client is needed for release_candidate.merge=github")
            self._git("push", "-q", self.settings.remote, f"{commit}:refs/heads/{branch}")
            client = github()
            owner = self.settings.github_owner
            pull = client.create_pull(
                owner,
                self.app,
                branch,
                self.settings.branch,
                title,
                f"Moves the Unreleased items of {CHANGELOG} under {release.name}.",
            )
            self.facts["pull_request"] = pull.url or f"#{pull.number}"
            merge = client.merge_pull(owner, self.app, pull.number, commit, title)
            self.fetch()
            self._git("checkout", "-q", "-B", self.settings.branch, self.upstream_branch)
        self.facts["merge"] = merge
        return merge

    def check_merged(self, release: Release) -> None:
        """The upstream's master is the merge, whose parents are the old master and the commit."""
        self.fetch()
        head = self._out("rev-parse", self.upstream_branch)
        if head != self.facts["merge"]:
            raise CandidateError(
                f"{self.app}: {self.upstream_branch} is {head[:12]}, "
                f"not the merge {self.facts['merge'][:12]}"
            )
        parents = self._out("rev-list", "--parents", "-n", "1", head).split()[1:]
        if self.facts["commit"] not in parents:
            raise CandidateError(f"{self.app}: the changelog commit is not merged into {head[:12]}")
        verify_released(self.facts["original"], self.upstream_changelog(), release)

    def tag(self, release: Release) -> None:
        """An annotated tag on the merge, pushed to the upstream."""
        tag = release.git_tag
        self._git("tag", "-a", "-f", tag, "-m", f"Release {release.name}", self.facts["merge"])
        self._git("push", "-q", self.settings.remote, f"refs/tags/{tag}")

    def remote_tag(self, release: Release) -> tuple[str, str] | None:
        """(tag object, commit it points at) on the upstream, or None; commit '' if lightweight."""
        tag = release.git_tag
        result = self._git("ls-remote", "--tags", self.settings.remote, tag, f"{tag}^{{}}")
        refs = dict(reversed(line.split("\t")) for line in result.stdout.splitlines() if line)
        name = f"refs/tags/{release.git_tag}"
        if name not in refs:
            return None
        return refs[name], refs.get(f"{name}^{{}}", "")

    def check_tag(self, release: Release) -> str:
        found = self.remote_tag(release)
        if found is None:
            raise CandidateError(f"{self.app}: the upstream has no tag {release.git_tag}")
        tag_object, commit = found
        if not commit:
            raise CandidateError(f"{self.app}: {release.git_tag} upstream is not an annotated tag")
        if commit != self.facts["merge"]:
            raise CandidateError(
                f"{self.app}: {release.git_tag} upstream points at {commit[:12]}, "
                f"not the merge {self.facts['merge'][:12]}"
            )
        self.facts["tag_object"] = tag_object
        return commit
