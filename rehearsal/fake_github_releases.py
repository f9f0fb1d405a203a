"""The local GitHub stand-in with releases, release assets and deployments, beside pull requests.

GitHub serves uploads from a host of its own (uploads.github.com): so does this stand-in, on a
second port (`uploads_url`). It rejects what GitHub rejects: an upload without `Content-Type` or
`name`, a second asset of the same name (422 already_exists), an asset on a published immutable
release, a second release of a tag, a status description past 140 characters. A draft is not
found by tag, only in the list. Every uploaded byte is kept (`uploaded`) for the tests to scan.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from rehearsal.fake_github import FakeGitHub
from rehearsal.http_fake import FakeServer, Reply

_REPO = r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_RELEASES = re.compile(_REPO + r"/releases$")
_BY_TAG = re.compile(_REPO + r"/releases/tags/(?P<tag>[^/]+)$")
_RELEASE = re.compile(_REPO + r"/releases/(?P<id>\d+)$")
_ASSETS = re.compile(_REPO + r"/releases/(?P<id>\d+)/assets$")
_DEPLOYMENTS = re.compile(_REPO + r"/deployments$")
_STATUSES = re.compile(_REPO + r"/deployments/(?P<id>\d+)/statuses$")
STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
_RELEASE_FIELDS = ("tag_name", "target_commitish", "name", "body", "draft", "prerelease")


class _Uploads(FakeServer):
    """The upload host: it takes the asset's bytes as they are."""

    def decode(self, path: str, headers: dict[str, str], raw: bytes) -> Any:
        return raw


class FakeGitHubReleases(FakeGitHub):
    def __init__(self, token: str, heads: dict[str, str] | None = None) -> None:
        self.releases: dict[int, dict[str, Any]] = {}
        self.deployments: dict[int, dict[str, Any]] = {}
        self.uploaded: list[bytes] = []
        super().__init__(token, heads or {})
        self.uploads = _Uploads(self._upload)

    @property
    def uploads_url(self) -> str:
        return self.uploads.url

    def __enter__(self) -> FakeGitHubReleases:
        super().__enter__()
        self.uploads.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uploads.__exit__(*exc)
        super().__exit__(*exc)

    # -- what a test or the rehearsal sets up and reads back ------------------------------------

    def add_release(self, owner: str, repo: str, tag: str, **fields: Any) -> dict[str, Any]:
        """A release as someone made it by hand (`immutable=True` for an immutable one)."""
        number = len(self.releases) + 1
        release = {
            "id": number,
            "owner": owner,
            "repo": repo,
            "tag_name": tag,
            "name": fields.get("name", tag),
            "body": fields.get("body", ""),
            "draft": bool(fields.get("draft", False)),
            "prerelease": bool(fields.get("prerelease", False)),
            "immutable": bool(fields.get("immutable", False)),
            "html_url": f"https://github.com/{owner}/{repo}/releases/tag/{tag}",
            "upload_url": f"{self.uploads_url}/repos/{owner}/{repo}/releases/{number}"
            "/assets{?name,label}",
            "assets": [],
        }
        self.releases[number] = release
        return release

    def release_of(self, owner: str, repo: str, tag: str) -> dict[str, Any] | None:
        return next(
            (
                r
                for r in self.releases.values()
                if (r["owner"], r["repo"], r["tag_name"]) == (owner, repo, tag)
            ),
            None,
        )

    # -- the API host ---------------------------------------------------------------------------

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply | None:
        checked = super()._route(method, path, headers, body)
        if checked is not None:
            return checked
        parts = urlsplit(path)
        query, path = dict(parse_qsl(parts.query)), parts.path
        for pattern, handler in (
            (_RELEASES, self._releases),
            (_BY_TAG, self._by_tag),
            (_RELEASE, self._release),
            (_ASSETS, self._assets),
            (_DEPLOYMENTS, self._deployments),
            (_STATUSES, self._statuses),
        ):
            match = pattern.match(path)
            if match:
                return handler(method, {**query, **match.groupdict()}, body)
        return None

    def _public(self, release: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in release.items() if k not in ("owner", "repo")}

    def _mine(self, where: dict[str, str], number: str) -> dict[str, Any] | None:
        release = self.releases.get(int(number))
        if release is None or (release["owner"], release["repo"]) != (
            where["owner"],
            where["repo"],
        ):
            return None
        return release

    def _releases(self, method: str, where: dict[str, str], body: Any) -> Reply | None:
        owner, repo = where["owner"], where["repo"]
        if method == "GET":
            found = [r for r in self.releases.values() if (r["owner"], r["repo"]) == (owner, repo)]
            return 200, [self._public(r) for r in reversed(found)]
        if method != "POST":
            return None
        if not isinstance(body, dict) or not isinstance(body.get("tag_name"), str):
            return self._problem(422, "Validation Failed: tag_name is required")
        unknown = set(body) - {*_RELEASE_FIELDS, "make_latest", "generate_release_notes"}
        if unknown:
            return self._problem(422, f"Validation Failed: unknown fields {sorted(unknown)}")
        if self.release_of(owner, repo, body["tag_name"]) is not None:
            self.problems.append("already_exists")
            return 422, {
                "message": "Validation Failed",
                "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
            }
        fields = {k: body[k] for k in ("name", "body", "draft", "prerelease") if k in body}
        return 201, self._public(self.add_release(owner, repo, body["tag_name"], **fields))

    def _by_tag(self, method: str, where: dict[str, str], body: Any) -> Reply | None:
        release = self.release_of(where["owner"], where["repo"], where["tag"])
        if method != "GET":
            return None
        if release is None or release["draft"]:
            return 404, {"message": "Not Found"}
        return 200, self._public(release)

    def _release(self, method: str, where: dict[str, str], body: Any) -> Reply | None:
        release = self._mine(where, where["id"])
        if release is None:
            return 404, {"message": "Not Found"}
        if method == "PATCH":
            if not isinstance(body, dict) or set(body) - set(_RELEASE_FIELDS):
                return self._problem(422, "Validation Failed: unknown release fields")
            release.update(body)
        elif method != "GET":
            return None
        return 200, self._public(release)

    def _assets(self, method: str, where: dict[str, str], body: Any) -> Reply | None:
        release = self._mine(where, where["id"])
        if release is None:
            return 404, {"message": "Not Found"}
        if method != "GET":
            return None
        size, page = int(where.get("per_page", 30)), int(where.get("page", 1))
        return 200, release["assets"][(page - 1) * size : page * size]

    def _deployments(self, method: str, where: dict[str, str], body: Any) -> Reply | None:
        if method != "POST":
            return None
        if not isinstance(body, dict) or not isinstance(body.get("ref"), str):
            return self._problem(422, "Validation Failed: ref is required")
        number = len(self.deployments) + 1
        deployment = {
            "id": number,
            "ref": body["ref"],
            "task": body.get("task", "deploy"),
            "environment": body.get("environment", "production"),
            "payload": body.get("payload", {}),
            "description": body.get("description"),
            "statuses": [],
        }
        self.deployments[number] = deployment
        return 201, {k: v for k, v in deployment.items() if k != "statuses"}

    def _statuses(self, method: str, where: dict[str, str], body: Any) -> Reply | None:
        deployment = self.deployments.get(int(where["id"]))
        if deployment is None:
            return 404, {"message": "Not Found"}
        if method == "GET":
            return 200, list(reversed(deployment["statuses"]))
        if not isinstance(body, dict) or body.get("state") not in STATES:
            return self._problem(422, "Validation Failed: state")
        if len(body.get("description") or "") > 140:
            return self._problem(422, "Validation Failed: description is too long (maximum 140)")
        status = {"id": len(deployment["statuses"]) + 1, **body}
        status.setdefault("target_url", body.get("log_url", ""))
        deployment["statuses"].append(status)
        return 201, status

    # -- the upload host ------------------------------------------------------------------------

    def _upload(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply | None:
        checked = FakeGitHub._route(self, method, urlsplit(path).path, headers, None)
        if checked is not None:
            return checked
        match = _ASSETS.match(urlsplit(path).path)
        if method != "POST" or not match:
            return None
        release = self._mine(match.groupdict(), match["id"])
        if release is None:
            return 404, {"message": "Not Found"}
        name = (parse_qs(urlsplit(path).query).get("name") or [""])[0]
        if not name:
            return self._problem(422, "Validation Failed: name is required")
        if not headers.get("content-type"):
            return self._problem(422, "Validation Failed: Content-Type header is required")
        if release["immutable"] and not release["draft"]:
            return self._problem(422, "Cannot upload assets to an immutable release")
        if any(asset["name"] == name for asset in release["assets"]):
            self.problems.append(f"already_exists {name}")
            return 422, {
                "message": "Validation Failed",
                "errors": [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}],
            }
        data = bytes(body or b"")
        self.uploaded.append(data)
        owner, repo, tag = release["owner"], release["repo"], release["tag_name"]
        asset = {
            "id": 1000 + len(self.uploaded),
            "name": name,
            "label": (parse_qs(urlsplit(path).query).get("label") or [""])[0],
            "state": "uploaded",
            "content_type": headers["content-type"],
            "size": len(data),
            "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "browser_download_url": f"https://github.com/{owner}/{repo}/releases/download/"
            f"{tag}/{name}",
        }
        release["assets"].append(asset)
        return 201, asset
