"""The GitHub REST calls of a release candidate: open the changelog pull request, merge it;
and list what a repository holds (its milestones and issues, for the pull requests slated).

Why not a GitHub library: two calls, whose request shapes the tests check exactly against a
local server. The token is only ever put in the Authorization header; no message carries it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
PAGE_SIZE = 100  # the most GitHub gives per page


class GitHubError(RuntimeError):
    """A GitHub call that did not do what was asked; the text has the status, never the token."""


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    head_sha: str


def token_from(variable: str) -> str:
    """The token in environment variable `variable`, or an error saying how to provide it."""
    token = os.environ.get(variable, "").strip()
    if not token:
        raise GitHubError(
            f"no GitHub token: export {variable}=<a token allowed to open and merge pull requests>"
        )
    return token


def _said(response: requests.Response) -> str:
    """GitHub's `message` of a refused call (never the request, so never the token)."""
    try:
        return str(response.json().get("message", ""))
    except ValueError:
        return response.text[:200]


class GitHubClient:
    """`POST /repos/{owner}/{repo}/pulls`, `PUT /repos/{owner}/{repo}/pulls/{n}/merge`, and GET
    lists (`list_all`)."""

    def __init__(
        self,
        api_url: str,
        token: str,
        session: requests.Session | None = None,
        timeout: float = 30,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._session = session or requests.Session()
        self._headers = {
            "Accept": ACCEPT,
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": API_VERSION,
        }
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None, expect: int) -> Any:
        url = f"{self.api_url}{path}"
        try:
            response = self._session.request(
                method, url, json=body, headers=self._headers, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise GitHubError(f"{method} {path}: {type(error).__name__}") from None
        if response.status_code != expect:
            raise GitHubError(f"{method} {path} answered {response.status_code}: {_said(response)}")
        return response.json()

    def create_pull(
        self, owner: str, repo: str, head: str, base: str, title: str, body: str = ""
    ) -> PullRequest:
        data = self._call(
            "POST",
            f"/repos/{owner}/{repo}/pulls",
            {"title": title, "head": head, "base": base, "body": body},
            201,
        )
        return PullRequest(int(data["number"]), data.get("html_url", ""), data["head"]["sha"])

    def merge_pull(
        self, owner: str, repo: str, number: int, sha: str, title: str, method: str = "merge"
    ) -> str:
        """Merge pull request `number` only if its head is still `sha`; the merge commit's sha."""
        data = self._call(
            "PUT",
            f"/repos/{owner}/{repo}/pulls/{number}/merge",
            {"commit_title": title, "sha": sha, "merge_method": method},
            200,
        )
        if not data.get("merged"):
            raise GitHubError(f"pull request #{number} was not merged: {data.get('message', '')}")
        return str(data["sha"])

    def list_all(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every item of a GitHub list (`GET path?params`), page by page, 100 at a time."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            query = urlencode({**params, "per_page": PAGE_SIZE, "page": page})
            got = self._call("GET", f"{path}?{query}", None, 200)
            if not isinstance(got, list):
                raise GitHubError(f"GET {path} answered something else than a list")
            items += got
            if len(got) < PAGE_SIZE:
                return items
            page += 1
