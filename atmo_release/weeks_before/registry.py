"""Image tags proven through the registry's HTTP API (`GET /v2/<name>/manifests/<tag>`).

Why the API and not `docker pull`: the check must not download an image or depend on the local
Docker engine, and must work for Docker Hub (anonymous bearer token) and a plain v2 registry.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import requests

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class ImageMissing(RuntimeError):
    """A tag that did not appear in the registry within the timeout."""


@dataclass(frozen=True)
class Manifest:
    reference: str
    digest: str


class Registry:
    """One registry base URL, e.g. https://registry-1.docker.io or http://localhost:5000."""

    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._tokens: dict[str, str] = {}

    def _token(self, challenge: str, name: str) -> str:
        """An anonymous pull token for a `Bearer realm=...,service=...` challenge (Docker Hub)."""
        if name not in self._tokens:
            fields = dict(_CHALLENGE.findall(challenge))
            response = self._session.get(
                fields["realm"],
                params={"service": fields.get("service", ""), "scope": f"repository:{name}:pull"},
                timeout=30,
            )
            response.raise_for_status()
            body = response.json()
            self._tokens[name] = body.get("token") or body["access_token"]
        return self._tokens[name]

    def manifest(self, name: str, tag: str) -> Manifest | None:
        """The manifest of `name:tag`, or None when the registry says it does not exist."""
        url = f"{self.base_url}/v2/{name}/manifests/{tag}"
        headers = {"Accept": MANIFEST_TYPES}
        if name in self._tokens:
            headers["Authorization"] = f"Bearer {self._tokens[name]}"
        response = self._session.get(url, headers=headers, timeout=30)
        challenge = response.headers.get("WWW-Authenticate", "")
        if response.status_code == 401 and challenge.lower().startswith("bearer"):
            headers["Authorization"] = f"Bearer {self._token(challenge, name)}"
            response = self._session.get(url, headers=headers, timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return Manifest(f"{name}:{tag}", response.headers.get("Docker-Content-Digest", ""))

    def wait_for(
        self,
        references: Iterable[tuple[str, str]],
        timeout_s: float,
        interval_s: float,
        progress: Callable[[str], None] = lambda line: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, str]:
        """Poll until every (name, tag) exists: {reference: digest}, or ImageMissing at timeout."""
        waiting = list(references)
        found: dict[str, str] = {}
        deadline = clock() + timeout_s
        while True:
            for name, tag in list(waiting):
                try:
                    manifest = self.manifest(name, tag)
                except requests.RequestException as error:
                    progress(f"registry {self.base_url}: {type(error).__name__}, retrying")
                    continue
                if manifest is not None:
                    found[manifest.reference] = manifest.digest
                    waiting.remove((name, tag))
                    progress(f"{manifest.reference} is in {self.base_url}")
            if not waiting:
                return found
            if clock() >= deadline:
                missing = ", ".join(f"{name}:{tag}" for name, tag in waiting)
                raise ImageMissing(
                    f"{missing} not in {self.base_url} after {timeout_s:g} s "
                    "(has the tagged build finished? see the registry's build page)"
                )
            sleep(min(interval_s, max(0.0, deadline - clock())))
