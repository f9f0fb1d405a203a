"""A local GitHub REST API with the two pull-request calls a release candidate makes.

Checks the documented request shapes: `Accept: application/vnd.github+json`, `Authorization:
Bearer <token>`, `X-GitHub-Api-Version`; `POST /repos/{owner}/{repo}/pulls` with string `title`,
`head`, `base`; `PUT /repos/{owner}/{repo}/pulls/{n}/merge` with optional `commit_title`,
`sha` (must be the head) and `merge_method` in merge|squash|rebase. Answers 201/200 with the
documented fields the client reads, 401/404/405/409/422 as GitHub does.

Slated pull requests (separate routes, below): `GET /repos/{owner}/{repo}/milestones` and
`GET /repos/{owner}/{repo}/issues` with GitHub's query parameters (`state` open|closed|all,
`milestone` a number, `*` or `none`, `labels` comma separated, `per_page` up to 100, `page`);
pull requests among the issues carry a `pull_request` key with `merged_at`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rehearsal.http_fake import FakeServer, Reply

_PULLS = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls$")
_MERGE = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls/(?P<n>\d+)/merge$")
_LISTS = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/(?P<what>milestones|issues)$")


class FakeGitHub(FakeServer):
    def __init__(self, token: str, heads: dict[str, str]) -> None:
        """`heads`: branch name -> the sha GitHub would see at its head."""
        self.token, self.heads = token, heads
        self.pulls: dict[int, dict[str, Any]] = {}
        self.problems: list[str] = []
        self.milestones: dict[str, list[dict[str, Any]]] = {}  # "owner/repo" -> milestones
        self.issues: dict[str, list[dict[str, Any]]] = {}  # "owner/repo" -> issues and pulls
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
        if method == "GET":
            return self._list(path)
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

    # -- slated pull requests: milestones and the issues list ---------------------------------

    def add_milestone(self, repo: str, title: str) -> int:
        """A milestone of `repo` ("owner/name"); its number."""
        milestones = self.milestones.setdefault(repo, [])
        number = len(milestones) + 1
        milestones.append({"number": number, "title": title, "state": "open"})
        return number

    def add_issue(
        self,
        repo: str,
        title: str,
        milestone: int | None = None,
        labels: tuple[str, ...] = (),
        pull: bool = True,
        state: str = "open",
    ) -> int:
        """An issue, or a pull request (`pull`), of `repo`; its number. Closed pulls are merged."""
        issues = self.issues.setdefault(repo, [])
        number = 400 + len(issues) + 1
        found = {m["number"]: m for m in self.milestones.get(repo, [])}
        issue: dict[str, Any] = {
            "number": number,
            "title": title,
            "state": state,
            "html_url": f"https://github.com/{repo}/{'pull' if pull else 'issues'}/{number}",
            "labels": [{"name": name} for name in labels],
            "milestone": found[milestone] if milestone else None,
        }
        if pull:
            issue["pull_request"] = {
                "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
                "merged_at": "2026-11-20T17:00:00Z" if state == "closed" else None,
            }
        issues.append(issue)
        return number

    def merge_slated(self, repo: str, number: int) -> None:
        """What a person merging the pull request on github.com leaves behind."""
        issue = next(i for i in self.issues[repo] if i["number"] == number)
        issue["state"] = "closed"
        issue["pull_request"]["merged_at"] = "2026-11-27T09:00:00Z"

    def _list(self, path: str) -> Reply | None:
        parts = urlsplit(path)
        found = _LISTS.match(parts.path)
        if not found:
            return None
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"state", "milestone", "labels", "per_page", "page", "direction"}
        if unknown:
            return self._problem(422, f"Validation Failed: unknown parameter {sorted(unknown)}")
        if query.get("state", "open") not in ("open", "closed", "all"):
            return self._problem(422, "Validation Failed: state")
        per_page, page = query.get("per_page", "30"), query.get("page", "1")
        if not (per_page.isdigit() and 1 <= int(per_page) <= 100 and page.isdigit()):
            return self._problem(422, "Validation Failed: per_page (1 to 100) and page")
        milestone = query.get("milestone", "*")
        if milestone not in ("*", "none") and not milestone.isdigit():
            return self._problem(422, "Validation Failed: milestone (a number, * or none)")
        repo = f"{found['owner']}/{found['repo']}"
        if repo not in set(self.milestones) | set(self.issues):
            return None
        items = self.milestones if found["what"] == "milestones" else self.issues
        selected = [i for i in items.get(repo, []) if _selected(i, query)]
        start = (max(int(page), 1) - 1) * int(per_page)
        return 200, selected[start : start + int(per_page)]


def _selected(item: dict[str, Any], query: dict[str, str]) -> bool:
    """Whether an issue or milestone passes GitHub's filters of the issues list."""
    state = query.get("state", "open")
    if state != "all" and item["state"] != state:
        return False
    milestone = query.get("milestone", "*")
    if milestone != "*":
        number = (item.get("milestone") or {}).get("number")
        if (milestone == "none" and number is not None) or (
            milestone != "none" and str(number) != milestone
        ):
            return False
    labels = [name for name in query.get("labels", "").split(",") if name]
    names = {label["name"] for label in item.get("labels", [])}
    return all(name in names for name in labels)
