"""Where a release's record lives: `[release_record]` of the environment file, and the release.

Why a table of its own: the repository holding the record, draft or published, and the token's
variable are the operator's choice per environment, and a file without the table attaches
nothing (the reports stay in `reports/`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from atmo_release.environment import Environment, EnvironmentFileError
from atmo_release.github.pull_requests import GitHubError
from atmo_release.github.releases import GitHubReleases, Repository

DEFAULT_TOKEN_ENV = "ATMO_RELEASE_GITHUB_TOKEN"


@dataclass(frozen=True)
class RecordHome:
    """`[release_record]`: repository, draft, api, uploads, token_env."""

    repository: Repository
    draft: bool
    api: str
    uploads: str
    token_env: str

    @classmethod
    def of(cls, environment: Environment) -> RecordHome | None:
        table: dict[str, Any] | None = environment.extra.get("release_record")
        if not table:
            return None
        try:
            repository = Repository.parse(table["repository"])
        except ValueError as error:
            raise EnvironmentFileError(
                f"{environment.path}: release_record.repository: {error}"
            ) from None
        return cls(
            repository=repository,
            draft=bool(table.get("draft", True)),
            api=table.get("api", "https://api.github.com"),
            uploads=table.get("uploads", "https://uploads.github.com"),
            token_env=table.get("token_env", DEFAULT_TOKEN_ENV),
        )

    @property
    def token(self) -> str:
        return os.environ.get(self.token_env, "").strip()

    def client(self) -> GitHubReleases | None:
        """None when the token's variable is unset: the caller says so and does nothing else."""
        token = self.token
        return GitHubReleases(self.api, self.uploads, token) if token else None

    def no_token_note(self) -> str:
        return (
            f"no GitHub token in ${self.token_env}: nothing attached to the release in "
            f"{self.repository}"
        )


def find_or_create(
    client: GitHubReleases, repo: Repository, tag: str, name: str, body: str, draft: bool
) -> tuple[dict[str, Any], bool]:
    """The release of `tag` (a draft too), made if there is none; (release, made by us)."""
    release = client.release_by_tag(repo, tag)
    if release is not None:
        return release, False
    try:
        return client.create_release(repo, tag, name, body, draft), True
    except GitHubError as error:
        if "already_exists" not in str(error):
            raise
    release = client.release_by_tag(repo, tag)  # someone else made it in between
    if release is None:
        raise GitHubError(f"the release of {tag} in {repo} exists but cannot be read")
    return release, False
