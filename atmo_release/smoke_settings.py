"""The operator's smoke checks and the browser journey's settings: the `[smoke]` table and its
`[[smoke.checks]]`, read with the environment file, before any action. A malformed check is
refused in one sentence naming the file, the check and the key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AS = ("exempt", "anonymous")
# When a check runs: inside the maintenance window ("Use and test"), once maintenance has
# ended ("End maintenance"), or both. Exempt users pass maintenance; anonymous ones meet it.
WHEN = ("window", "after", "both")
DEFAULT_WHEN = {"exempt": "window", "anonymous": "both"}
PHASES = {"window": "inside the maintenance window", "after": "after maintenance"}
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 120.0
_KEYS: dict[str, Any] = {
    "name": str,
    "url": str,
    "as": str,
    "status": int,
    "contains?": str,
    "timeout_s?": (int, float),
    "when?": str,
}
_SERVICE_URL = re.compile(r"^(?P<service>[A-Za-z][A-Za-z0-9_-]*):(?P<path>/.*)$")
_FULL_URL = re.compile(r"^https?://[^/\s]+(/\S*)?$")


@dataclass(frozen=True)
class SmokeCheck:
    name: str
    url: str  # as written: "<service>:/<path>" or a full http(s) URL
    as_: str
    status: int
    contains: str = ""
    timeout_s: float = DEFAULT_TIMEOUT_S
    when: str = "window"

    def runs(self, phase: str) -> bool:
        return self.when in (phase, "both")

    def resolve(self, base_urls: dict[str, str]) -> str:
        """The URL to ask: a service's path under that service's url."""
        match = _SERVICE_URL.match(self.url)
        if match and not _FULL_URL.match(self.url):
            return base_urls[match["service"]].rstrip("/") + match["path"]
        return self.url

    @property
    def expected(self) -> str:
        text = f" with the text {self.contains!r}" if self.contains else ""
        return f"{self.status}{text}"


@dataclass(frozen=True)
class SmokeSettings:
    """`[smoke]`: the exempt user's API token variable, the browser journey (its user signs
    in with the password in `password_env`), and the operator's checks."""

    api_token_env: str
    browser: bool = True
    username: str = ""
    password_env: str = ""
    checks: tuple[SmokeCheck, ...] = ()

    def variables(self) -> tuple[str, ...]:
        """The variables whose values are secrets: masked wherever the run writes."""
        return tuple(name for name in (self.api_token_env, self.password_env) if name)


class SmokeError(ValueError):
    """A `[smoke]` table that cannot be used; the message names the check and the key."""


def parse_smoke(path: Path, table: dict[str, Any], services: tuple[str, ...]) -> SmokeSettings:
    """`table` has passed the environment schema's key and type checks; this checks what only
    the smoke table can say (the checks, the journey's user) and builds the settings."""
    browser = table.get("browser", True)
    username, password_env = table.get("username", ""), table.get("password_env", "")
    if browser and not (username and password_env):
        given = {"username": username, "password_env": password_env}
        missing = " and smoke.".join(key for key, value in given.items() if not value)
        raise SmokeError(
            f"{path}: smoke.browser is on but smoke.{missing} is missing: name the exempt user "
            "the browser journey signs in as and the variable holding their password, or set "
            "smoke.browser = false where the runner has no browser"
        )
    raw = table.get("checks", [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise SmokeError(f"{path}: smoke.checks must be tables, written [[smoke.checks]]")
    checks = tuple(_check(path, number, item, services) for number, item in enumerate(raw, 1))
    names = [check.name for check in checks]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise SmokeError(f"{path}: two smoke checks are named {twice[0]!r}: give each its own name")
    return SmokeSettings(table["api_token_env"], browser, username, password_env, checks)


def _check(path: Path, number: int, item: dict[str, Any], services: tuple[str, ...]) -> SmokeCheck:
    name = item.get("name")
    label = f"{path}: smoke check {name!r}" if isinstance(name, str) and name else ""
    label = label or f"{path}: smoke check #{number} (in the order of [[smoke.checks]])"

    def refuse(text: str) -> SmokeError:
        return SmokeError(f"{label}: {text}")

    known = {key.rstrip("?") for key in _KEYS}
    for key in item:
        if key not in known:
            raise refuse(f"unknown key {key}; known keys here: {', '.join(sorted(known))}")
    for spec, kind in _KEYS.items():
        key = spec.rstrip("?")
        if key not in item:
            if spec.endswith("?"):
                continue
            raise refuse(f"missing value for {key}")
        value = item[key]
        if key == "status" and not (isinstance(value, int) and not isinstance(value, bool)):
            raise refuse(f"status must be a number such as 200, not {value!r}")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise refuse(f"{key} has the wrong type ({value!r})")
        if value == "":
            raise refuse(f"missing value for {key} (it is empty)")
    if not 100 <= item["status"] <= 599:
        raise refuse(f"status must be an HTTP status from 100 to 599, not {item['status']}")
    if item["as"] not in AS:
        raise refuse(f'as must be "exempt" or "anonymous", not {item["as"]!r}')
    when = item.get("when", DEFAULT_WHEN[item["as"]])
    if when not in WHEN:
        raise refuse(f'when must be "window", "after" or "both", not {when!r}')
    timeout = float(item.get("timeout_s", DEFAULT_TIMEOUT_S))
    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise refuse(f"timeout_s is {timeout:g}; give more than 0 and at most {MAX_TIMEOUT_S:g}")
    _check_url(item["url"], services, refuse)
    return SmokeCheck(
        name=item["name"],
        url=item["url"],
        as_=item["as"],
        status=item["status"],
        contains=item.get("contains", ""),
        timeout_s=timeout,
        when=when,
    )


def _check_url(url: str, services: tuple[str, ...], refuse: Any) -> None:
    if _FULL_URL.match(url):
        return
    match = _SERVICE_URL.match(url)
    if match is None:
        raise refuse(
            f"url {url!r} is neither <service>:/<path> (e.g. atmosphere:/api/v2/instances) "
            "nor a full http(s) URL"
        )
    if match["service"] not in services:
        raise refuse(
            f"url names the service {match['service']!r}, which [services] does not describe "
            f"(it has {', '.join(services)})"
        )


def judge(check: SmokeCheck, status: int, body: str, location: str) -> tuple[bool, str]:
    """Whether an answer holds what `check` expects, and what was found, said briefly
    (`status` 0: no answer, `body` then says why)."""
    begins = " ".join(body.split())[:160]
    if status == 0:
        return False, f"no answer ({begins})"
    if status != check.status:
        to = f" to {location}" if location else ""
        return False, f"{status}{to}: {begins!r}" if begins else f"{status}{to}"
    if check.contains and check.contains not in body:
        return False, f"{status} without the text; the body begins {begins!r}"
    return True, f"{status} with the text" if check.contains else str(status)
