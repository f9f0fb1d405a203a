""" "Use and test" in a browser, as CyVerse's operation-sanity did it: a user opens Troposphere,
signs in through its form (fields `username` and `password`), and reads what the page shows.
Only what a person sees is read (the address and the visible text), never the page's markup,
so the same journey reads the stand-ins and the real Troposphere."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

# How long a page may take to show what is expected (its script loads data after the page).
SEE_TIMEOUT_S = 10.0
_POLL_S = 0.2


@dataclass(frozen=True)
class Visit:
    """Where the browser ended, what the page said there, and its screenshot."""

    url: str
    text: str
    screenshot: Path

    @property
    def said(self) -> str:
        return " ".join(self.text.split())[:300]


class JourneyError(Exception):
    """The journey could not go on (no sign-in form, a form that leads nowhere)."""


def not_shown(text: str, names: list[str]) -> list[str]:
    """The names `text` does not show as words of their own (vm-1 is not in vm-12)."""
    return [name for name in names if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)]


def open_page(driver: WebDriver, url: str, screenshot: Path) -> Visit:
    """`url` opened by a user without a session, as an ordinary user meets it."""
    driver.delete_all_cookies()
    driver.get(url)
    return _visit(driver, screenshot)


def sign_in_and_look(
    driver: WebDriver,
    login_url: str,
    username: str,
    password: str,
    names: list[str],
    screenshot: Path,
    timeout_s: float | None = None,
) -> Visit:
    """Sign in through the form at `login_url`, then wait until the page the sign-in leads to
    shows every one of `names` (or the time is up); the visit as it was then. Back at the
    form's own address the sign-in was refused: nothing to wait for."""
    from selenium.common.exceptions import NoSuchElementException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    timeout = SEE_TIMEOUT_S if timeout_s is None else timeout_s
    driver.delete_all_cookies()
    driver.get(login_url)
    form_page = driver.find_element(By.TAG_NAME, "html")
    try:
        driver.find_element(By.NAME, "username").send_keys(username)
        secret = driver.find_element(By.NAME, "password")
    except NoSuchElementException as error:
        said = " ".join(_text(driver).split())[:200]
        raise JourneyError(
            f"{driver.current_url} shows no sign-in form with the fields username and "
            f"password; it says {said!r}"
        ) from error
    secret.send_keys(password)
    secret.submit()
    try:
        WebDriverWait(driver, SEE_TIMEOUT_S).until(lambda _: _left(form_page))
    except TimeoutException as error:
        raise JourneyError(
            f"the sign-in form at {driver.current_url} led nowhere within {SEE_TIMEOUT_S:g} s"
        ) from error
    if urlsplit(driver.current_url).path == urlsplit(login_url).path:
        return _visit(driver, screenshot)  # the form again: the sign-in was refused
    deadline = time.monotonic() + timeout
    while not_shown(_text(driver), names) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    return _visit(driver, screenshot)


def _left(page: WebElement) -> bool:
    """Whether the browser has left the page `page` is the root of. Chromium says so either
    as a stale element or, while the next page replaces it, as a node that "does not belong
    to the document"."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        page.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def _text(driver: WebDriver) -> str:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    try:
        return str(driver.find_element(By.TAG_NAME, "body").text)
    except WebDriverException:  # between two pages
        return ""


def _visit(driver: WebDriver, screenshot: Path) -> Visit:
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(screenshot))
    return Visit(str(driver.current_url), _text(driver), screenshot)
