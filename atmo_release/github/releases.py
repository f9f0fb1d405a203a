"""GitHub releases, release assets and deployments: the calls that keep the release record.

Why a subclass of `github.GitHubClient` with a call of its own: same headers and session, but
other shapes (raw bytes to the upload host, query strings, answers that are lists, a 404 that
means "none yet"). The token is only ever in the Authorization header; an error names the call
and GitHub's message, never the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from atmo_release.github.pull_requests import GitHubClient, GitHubError

MAX_DESCRIPTION = 140


@dataclass(frozen=True)
class Repository:
    owner: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Repository:
        owner, _, name = text.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"{text!r} is not OWNER/REPOSITORY, e.g. cyverse/atmosphere")
        return cls(owner, name)

    @property
    def path(self) -> str:
        return f"/repos/{self.owner}/{self.name}"

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


class GitHubReleases(GitHubClient):
    """Releases (`/releases*`), their assets (upload host) and deployments with statuses."""

    def __init__(
        self,
        api_url: str,
        uploads_url: str,
        token: str,
        session: requests.Session | None = None,
        timeout: float = 30,
    ) -> None:
        super().__init__(api_url, token, session, timeout)
        self.uploads_url = uploads_url.rstrip("/")

    def _send(
        self, method: str, url: str, expect: tuple[int, ...], what: str, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {**self._headers, **kwargs.pop("headers", {})}
        try:
            response = self._session.request(
                method, url, headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise GitHubError(f"{what}: {type(error).__name__}") from None
        try:
            data = response.json()
        except ValueError:
            data = {"message": response.text[:200]}
        if response.status_code not in expect:
            message = data.get("message", "") if isinstance(data, dict) else ""
            codes = [e.get("code", "") for e in (data.get("errors") or [])] if message else []
            detail = f"{message} {', '.join(codes)}".strip()
            raise GitHubError(f"{what} answered {response.status_code}: {detail}")
        return response.status_code, data

    # -- releases -------------------------------------------------------------------------------

    def release_by_tag(self, repo: Repository, tag: str) -> dict[str, Any] | None:
        """The release of `tag`, published or draft (GitHub finds drafts only in the list)."""
        status, data = self._send(
            "GET",
            f"{self.api_url}{repo.path}/releases/tags/{tag}",
            (200, 404),
            f"GET the release of {tag} in {repo}",
        )
        if status == 200:
            return data
        for page in range(1, 11):
            _, listed = self._send(
                "GET",
                f"{self.api_url}{repo.path}/releases",
                (200,),
                f"list the releases of {repo}",
                params={"per_page": 100, "page": page},
            )
            found = [r for r in listed if r.get("tag_name") == tag]
            if found or len(listed) < 100:
                return found[0] if found else None
        return None

    def create_release(
        self, repo: Repository, tag: str, name: str, body: str, draft: bool
    ) -> dict[str, Any]:
        _, data = self._send(
            "POST",
            f"{self.api_url}{repo.path}/releases",
            (201,),
            f"create the release of {tag} in {repo}",
            json={
                "tag_name": tag,
                "name": name,
                "body": body,
                "draft": draft,
                "make_latest": "false",
            },
        )
        return data

    def update_release(self, repo: Repository, release_id: int, **fields: Any) -> dict[str, Any]:
        _, data = self._send(
            "PATCH",
            f"{self.api_url}{repo.path}/releases/{release_id}",
            (200,),
            f"update release {release_id} of {repo}",
            json=fields,
        )
        return data

    def assets(self, repo: Repository, release_id: int) -> list[dict[str, Any]]:
        """Every page: each run adds four assets, so a release outgrows one page of 100."""
        found: list[dict[str, Any]] = []
        for page in range(1, 101):
            _, listed = self._send(
                "GET",
                f"{self.api_url}{repo.path}/releases/{release_id}/assets",
                (200,),
                f"list the assets of release {release_id} of {repo}",
                params={"per_page": 100, "page": page},
            )
            found += listed
            if len(listed) < 100:
                break
        return found

    def upload_asset(
        self, repo: Repository, release_id: int, name: str, data: bytes, content_type: str
    ) -> dict[str, Any]:
        """Bytes, not a stream, so that Content-Length is sent as GitHub requires."""
        _, asset = self._send(
            "POST",
            f"{self.uploads_url}{repo.path}/releases/{release_id}/assets",
            (201,),
            f"upload {name} to release {release_id} of {repo}",
            params={"name": name},
            data=bytes(data),
            headers={"Content-Type": content_type},
        )
        return asset

    # -- deployments ----------------------------------------------------------------------------

    def create_deployment(
        self, repo: Repository, ref: str, environment: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """A deployment of a tag: no merge of the default branch, no status checks required."""
        _, data = self._send(
            "POST",
            f"{self.api_url}{repo.path}/deployments",
            (201,),
            f"create a deployment of {ref} to {environment} in {repo}",
            json={
                "ref": ref,
                "task": "deploy:atmo-release",
                "environment": environment,
                "auto_merge": False,
                "required_contexts": [],
                "payload": payload,
                "production_environment": environment in ("production", "jetstream"),
            },
        )
        return data

    def set_status(
        self, repo: Repository, deployment_id: int, state: str, description: str, log_url: str = ""
    ) -> dict[str, Any]:
        body = {"state": state, "description": description[:MAX_DESCRIPTION]}
        if log_url:
            body["log_url"] = log_url
        _, data = self._send(
            "POST",
            f"{self.api_url}{repo.path}/deployments/{deployment_id}/statuses",
            (201,),
            f"set deployment {deployment_id} of {repo} to {state}",
            json=body,
        )
        return data

    def statuses(self, repo: Repository, deployment_id: int) -> list[dict[str, Any]]:
        """Newest first, as GitHub lists them."""
        _, data = self._send(
            "GET",
            f"{self.api_url}{repo.path}/deployments/{deployment_id}/statuses",
            (200,),
            f"list the statuses of deployment {deployment_id} of {repo}",
        )
        return list(data)
