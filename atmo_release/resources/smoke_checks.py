"""The operator's smoke checks ([[smoke.checks]] of the environment file) over HTTP from the
runner, as users meet the apps: inside the maintenance window, and once it has ended."""

from __future__ import annotations

import os
import time
from typing import Any

from atmo_release.checks import require
from atmo_release.resources import Resource
from atmo_release.smoke_settings import PHASES, SmokeCheck, judge
from atmo_release.web import browser, http_checks


class SmokeChecks(Resource):
    def check_runner(self) -> None:
        """What the checks and the browser journey need of the runner, before anything changes:
        the token and the password in their variables, and a browser when the file asks for
        one."""
        smoke, path = self.env.smoke, self.env.path
        needed = [smoke.password_env] if smoke.browser else []
        if any(check.as_ == "exempt" for check in smoke.checks):
            needed.insert(0, smoke.api_token_env)
        unset = [name for name in needed if not os.environ.get(name, "").strip()]
        require(
            not unset,
            f"export {' and '.join(unset)}: [smoke] in {path} signs in and checks as the exempt "
            f"user {smoke.username or '(the token of ' + smoke.api_token_env + ')'}",
        )
        if smoke.browser:
            missing = browser.missing()
            require(
                not missing,
                f"{missing}: the browser journey needs it (scripts/setup.sh installs it), or set "
                f"smoke.browser = false in {path} and the record says it was not run",
            )

    def check(self, phase: str) -> None:
        """Every check that runs in `phase` ("window" or "after"), each in the record with its
        status, seconds and what it found; fails naming every check that did not hold."""
        where = PHASES[phase]
        checks = [check for check in self.env.smoke.checks if check.runs(phase)]
        urls = {app: service.url for app, service in self.env.services.items()}
        results = [self._run(check, check.resolve(urls)) for check in checks]
        self.record.facts.setdefault("smoke_checks", {})[where] = results
        failed = [result for result in results if result["result"] != "passed"]
        if not checks:
            self.note(f"no smoke check runs {where}: [[smoke.checks]] in {self.env.path}")
        else:
            self.note(f"{len(results) - len(failed)} of {len(results)} smoke checks held {where}")
        require(
            not failed,
            f"smoke checks failed {where}: "
            + "; ".join(
                f"{r['name']!r} ({r['url']} as {r['as']}) expected {r['expected']}, "
                f"found {r['found']}"
                for r in failed
            ),
        )

    def _run(self, check: SmokeCheck, url: str) -> dict[str, Any]:
        headers = None
        if check.as_ == "exempt":
            headers = {"Authorization": f"Token {os.environ.get(self.env.api_token_env, '')}"}
        started = time.monotonic()
        answer = http_checks.get(url, headers, check.timeout_s)
        seconds = round(time.monotonic() - started, 3)
        held, found = judge(check, answer.status, answer.body, answer.location)
        return {
            "name": check.name,
            "as": check.as_,
            "url": url,
            "expected": check.expected,
            "status": answer.status or None,
            "seconds": seconds,
            "found": self.target.redactor(found),
            "result": "passed" if held else "failed",
        }
