"""The browser journey through Troposphere while maintenance is on: an ordinary user is sent to
the maintenance page with the message; the exempt user signs in and sees their instances,
which the application page loads from the Atmosphere API through Troposphere's proxy. Both
screenshots go into the reports and inline into record.html."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from atmo_release.checks import CheckFailed, require
from atmo_release.resources import Resource
from atmo_release.web import http_checks

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

    from atmo_release.resources.run import Run
    from atmo_release.web.journey import Visit

WINDOW = (900, 560)  # a small window: the screenshots stay legible in the record
SCREENSHOTS = {
    "ordinary user": "journey-ordinary-user.png",
    "exempt user": "journey-exempt-user.png",
}


class BrowserJourney(Resource):
    def __init__(self, deployment: Run) -> None:
        super().__init__(deployment)
        self.started = ExitStack()
        self.warming: Future[WebDriver] | None = None

    def warm(self) -> None:
        """Chromium started beside the run, long before the window (it starts in about a
        second): the journey inside the window then only browses. `close()` quits it."""
        from atmo_release.web import browser

        if not self.env.smoke.browser or self.deployment.planning or browser.missing():
            return
        beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self.warming = beside.submit(self.started.enter_context, browser.chromium(*WINDOW))
        beside.shutdown(wait=False)

    def close(self) -> None:
        """Quit the warm Chromium (its profile goes whatever quitting says: one that died is
        gone already)."""
        if self.warming is not None:
            self.warming.exception()  # started or failed: either way, nothing left starting
            self.warming = None
        with suppress(Exception):
            self.started.close()

    @contextmanager
    def _chromium(self) -> Iterator[WebDriver]:
        """The warm Chromium, once, with an empty profile still; else one started now."""
        from atmo_release.web import browser

        warming, self.warming = self.warming, None
        if warming is not None and warming.exception() is None:
            yield warming.result()
            return
        with browser.chromium(*WINDOW) as driver:
            yield driver

    def check(self) -> None:
        smoke = self.env.smoke
        if not smoke.browser:
            why = f"the browser journey was not run: smoke.browser = false in {self.env.path}"
            self.record.facts["browser_journey"] = {"ran": False, "why": why}
            self.note(why)
            if why not in self.record.notes:
                self.record.notes.append(why)
            return
        from selenium.common.exceptions import WebDriverException

        from atmo_release.web import journey

        names = self._instances_the_api_lists()
        troposphere = self.service("troposphere").url.rstrip("/")
        reports = self.deployment.reports_dir
        facts: dict[str, Any] = {"ran": True}
        self.record.facts["browser_journey"] = facts
        try:
            with self._chromium() as driver:
                ordinary = journey.open_page(
                    driver, f"{troposphere}/application", reports / SCREENSHOTS["ordinary user"]
                )
                exempt = journey.sign_in_and_look(
                    driver,
                    f"{troposphere}/login",
                    smoke.username,
                    os.environ.get(smoke.password_env, ""),
                    names,
                    reports / SCREENSHOTS["exempt user"],
                )
        except (journey.JourneyError, WebDriverException) as error:
            said = error.msg if isinstance(error, WebDriverException) else str(error)
            raise CheckFailed(
                f"the browser journey as {smoke.username} could not go on: "
                + self.target.redactor(str(said).splitlines()[0] if said else repr(error))
            ) from error
        unseen = journey.not_shown(exempt.text, names)
        for who, visit in (("ordinary user", ordinary), ("exempt user", exempt)):
            facts[who] = {
                "url": visit.url,
                "shows": self.target.redactor(visit.said),
                "screenshot": visit.screenshot.name,
            }
        facts["exempt user"].update(username=smoke.username, instances_from_the_api=names)
        facts["exempt user"]["instances_shown"] = [name for name in names if name not in unseen]
        problems = [self._ordinary_problem(ordinary), self._exempt_problem(exempt, names, unseen)]
        found = "; ".join(self.target.redactor(problem) for problem in problems if problem)
        require(not found, found)
        self.note(
            f"an ordinary user met the maintenance page; {smoke.username} signed in and saw "
            f"{len(names)} instances from the API ({', '.join(names)})"
        )

    def _instances_the_api_lists(self) -> list[str]:
        """The exempt user's instances, read from the API with their token: what the page
        must show. Without one the journey could not tell data from an empty page."""
        url = self.service("atmosphere").url.rstrip("/") + "/api/v2/instances"
        token = os.environ.get(self.env.api_token_env, "")
        answer = http_checks.get(url, {"Authorization": f"Token {token}"})
        if answer.status != 200:
            raise CheckFailed(
                f"the API's instance list for {self.env.smoke.username} could not be read "
                f"({url} answered {answer.status or 'nothing'}: {answer.body[:160]}): the "
                "journey compares the application page with it"
            )
        try:
            names = [str(row["name"]) for row in json.loads(answer.body)["results"]]
        except (ValueError, KeyError, TypeError) as error:
            raise CheckFailed(f"{url} answered no instance list: {answer.body[:160]}") from error
        require(
            bool(names),
            f"the API lists no instance for {self.env.smoke.username}: the journey needs an "
            "exempt user with at least one instance, to see data from the API on the page",
        )
        return names

    def _ordinary_problem(self, visit: Visit) -> str:
        message = self.env.maintenance_message
        banner = http_checks.MAINTENANCE_BANNER
        if (
            urlsplit(visit.url).path.rstrip("/") == "/maintenance"
            and banner in visit.text
            and message in visit.text
        ):
            return ""
        return (
            f"an ordinary user opening /application was shown {visit.url} saying "
            f"{visit.said!r}; expected the maintenance page with {banner!r} and the message"
        )

    def _exempt_problem(self, visit: Visit, names: list[str], unseen: list[str]) -> str:
        username, path = self.env.smoke.username, urlsplit(visit.url).path.rstrip("/")
        if path == "/login":
            return (
                f"signing in to troposphere as {username} failed: the browser is still at "
                f"{visit.url}, which says {visit.said!r}"
            )
        if path == "/maintenance":
            return (
                f"troposphere sent the exempt user {username} to the maintenance page "
                f"({visit.url}): is {username} in MAINTENANCE_EXEMPT_USERNAMES?"
            )
        if unseen:
            return (
                f"the application page at {visit.url} shows {len(names) - len(unseen)} of the "
                f"{len(names)} instances the API lists for {username} (not {', '.join(unseen)}); "
                f"it says {visit.said!r}"
            )
        return ""
