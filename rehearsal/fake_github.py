"""A local GitHub REST API with the two pull-request calls a release candidate makes.

Checks the documented request shapes: `Accept: application/vnd.github+json`, `Authorization:
Bearer <token>`, `X-GitHub-Api-Version`; `POST /repos/{owner}/{repo}/pulls` with string `title`,
`head`, `base`; `PUT /repos/{owner}/{repo}/pulls/{n}/merge` with optional `commit_title`,
`sha` (must be the head) and `merge_method` in merge|squash|rebase. Answers 201/200 with the
documented fields the client reads, 401/404/405/409/422 as GitHub does.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rehearsal.http_fake import FakeServer, Reply

_PULLS = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls$")
_MERGE = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls/(?P<n>\d+)/merge$")


class FakeGitHub(FakeServer):
    def __init__(self, token: str, heads: dict[str, str]) -> None:
        """`heads`: branch name -> the sha GitHub would see at its head."""
        self.token, self.heads = token, heads
        self.pulls: dict[int, dict[str, Any]] = {}
        self.problems: list[str] = []
        super().__init__(self._route)

    def _problem(self, status: int, message: str) -> Reply:
        self.problems.append(message)
        return status, {"message": message, "documentation_url": "https://docs.github.com/rest"}

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply | None:
        if headers.get("authorization") != f"Bearer {self.token}":
            return self._problem(401, "Bad credentials")
        if headers.get("accept") != "application/vnd.github+json":
            return self._problem(415, "Accept must be application/vnd.github+json")
        if not headers.get("x-github-api-version"):
            return self._problem(400, "X-GitHub-Api-Version missing")
        pulls, merge = _PULLS.match(path), _MERGE.match(path)
        if method == "POST" and pulls:
            return self._create(pulls["owner"], pulls["repo"], body)
        if method == "PUT" and merge:
            return self._merge(int(merge["n"]), body)
        return None

    def _create(self, owner: str, repo: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            return self._problem(400, "Problems parsing JSON")
        for key in ("title", "head", "base"):
            if not isinstance(body.get(key), str) or not body[key]:
                return self._problem(422, f"Validation Failed: {key} is required")
        if body["head"] not in self.heads:
            return self._problem(422, f"Validation Failed: head {body['head']} does not exist")
        number = len(self.pulls) + 1
        sha = self.heads[body["head"]]
        self.pulls[number] = {**body, "sha": sha, "merged": False}
        return 201, {
            "number": number,
            "state": "open",
            "html_url": f"https://github.com/{owner}/{repo}/pull/{number}",
            "head": {"ref": body["head"], "sha": sha},
            "base": {"ref": body["base"]},
        }

    def _merge(self, number: int, body: Any) -> Reply:
        pull = self.pulls.get(number)
        if pull is None:
            return self._problem(404, "Not Found")
        body = body or {}
        if body.get("merge_method", "merge") not in ("merge", "squash", "rebase"):
            return self._problem(422, "Validation Failed: merge_method")
        if "sha" in body and body["sha"] != pull["sha"]:
            return self._problem(409, "Head branch was modified. Review and try the merge again.")
        if pull["merged"]:
            return self._problem(405, "Pull Request is not mergeable")
        pull["merged"] = True
        merge_sha = hashlib.sha1(f"merge {number} {pull['sha']}".encode()).hexdigest()
        return 200, {
            "sha": merge_sha,
            "merged": True,
            "message": "Pull Request successfully merged",
        }
