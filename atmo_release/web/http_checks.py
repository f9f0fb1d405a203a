"""What users see: version endpoints, the maintenance page and the 503s, read over HTTP."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from atmo_release.checks import CheckFailed

ATMOSPHERE_VERSION = "/api/v2/version"
TROPOSPHERE_VERSION = "/tropo-api/version"
MAINTENANCE_BANNER = "Atmosphere is under planned maintenance"
_TIMEOUT = 10


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    location: str


def get(url: str, headers: dict[str, str] | None = None, timeout: float = _TIMEOUT) -> Answer:
    """One GET, redirects not followed (a redirect is what the check sees); 0: no answer."""
    try:
        response = requests.get(url, headers=headers, allow_redirects=False, timeout=timeout)
    except requests.RequestException as error:
        return Answer(0, f"{type(error).__name__}: {error}", "")
    return Answer(response.status_code, response.text, response.headers.get("Location", ""))


def version(url: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    answer = get(url, headers)
    if answer.status != 200:
        raise CheckFailed(f"{url} answered {answer.status or 'nothing'}: {answer.body[:200]}")
    try:
        data = requests.models.complexjson.loads(answer.body)
    except ValueError as error:
        raise CheckFailed(f"{url} did not answer JSON: {answer.body[:200]}") from error
    if not isinstance(data, dict) or "git_sha" not in data:
        raise CheckFailed(f"{url} answered without git_sha: {answer.body[:200]}")
    return data


def atmosphere_in_maintenance(base_url: str, title: str, message: str) -> None:
    url = base_url + ATMOSPHERE_VERSION
    answer = get(url)
    if answer.status != 503:
        raise CheckFailed(
            f"{url} answered {answer.status or 'nothing'}, expected 503 during maintenance"
        )
    expected = f"{title}: {message}"
    try:
        detail = requests.models.complexjson.loads(answer.body).get("detail")
    except ValueError:
        detail = None
    if detail != expected:
        raise CheckFailed(f"{url} answered 503 with detail {detail!r}, expected {expected!r}")


def _redirects(base_url: str, path: str, to: str, when: str = "") -> None:
    answer = get(base_url + path)
    if answer.status != 302 or not answer.location.rstrip("/").endswith(to):
        raise CheckFailed(
            f"{base_url}{path} answered {answer.status or 'nothing'} "
            f"to {answer.location or '-'}, expected 302 to {to}{when}"
        )


def _serves(base_url: str, path: str, when: str = "") -> Answer:
    answer = get(base_url + path)
    if answer.status != 200:
        raise CheckFailed(
            f"{base_url}{path} answered {answer.status or 'nothing'}, expected 200{when}"
        )
    return answer


def troposphere_in_maintenance(base_url: str, message: str) -> None:
    _redirects(base_url, "/application", "/maintenance")
    text = html.unescape(_serves(base_url, "/maintenance").body)
    if MAINTENANCE_BANNER not in text or message not in text:
        raise CheckFailed(
            f"{base_url}/maintenance shows {text[:300]!r}, expected the banner "
            f"{MAINTENANCE_BANNER!r} and the message {message!r}"
        )


def atmosphere_open(base_url: str) -> None:
    version(base_url + ATMOSPHERE_VERSION)


def troposphere_open(base_url: str) -> None:
    _redirects(base_url, "/maintenance", "/login", " after maintenance")
    _serves(base_url, "/application", " after maintenance")


def atmosphere_ready(base_url: str) -> bool:
    """Up and reading its database: 200, or the maintenance 503 that carries a detail."""
    answer = get(base_url + ATMOSPHERE_VERSION)
    return answer.status == 200 or (answer.status == 503 and '"detail"' in answer.body)


def troposphere_ready(base_url: str) -> bool:
    return get(base_url + TROPOSPHERE_VERSION).status == 200


def wait_until(
    probes: dict[str, Callable[[], bool]], interval_s: float, timeout_s: float
) -> dict[str, float]:
    """Seconds until each probe held; raises naming the probes that never did."""
    started = time.monotonic()
    ready: dict[str, float] = {}
    while True:
        for name, probe in probes.items():
            if name not in ready and probe():
                ready[name] = round(time.monotonic() - started, 2)
        if len(ready) == len(probes):
            return ready
        if time.monotonic() - started > timeout_s:
            waiting = ", ".join(sorted(set(probes) - set(ready)))
            raise CheckFailed(
                f"not ready within {timeout_s:g} s (polled every {interval_s:g} s): {waiting}"
            )
        time.sleep(interval_s)
