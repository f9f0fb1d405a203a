"""record.html in a real headless browser (Debian's chromium through chromedriver): the record
of a passed and of a halted run, each made by a run through the plugin (tests/plugin_runs.py),
opens without a console message or any network request but the file itself, and shows the
outcome and the maintenance window. Screenshots: reports/artifacts/record-<outcome>.png."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from atmo_release.redact import MASK
from tests.plugin_runs import OUTCOMES, ROOT, SECRET, run_deployment

pytest_plugins = ["pytester"]

ARTIFACTS = ROOT / "reports" / "artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are not installed: run scripts/setup.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1200,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def requests_made(driver: WebDriver) -> tuple[list[str], list[str]]:
    """Every URL the page asked for, and every request that failed, from the DevTools log."""
    asked, failed = [], []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            asked.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.loadingFailed":
            failed.append(message["params"].get("errorText", "failed"))
    return asked, failed


def full_page_screenshot(driver: WebDriver, path: Path) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1200, max(900, int(height) + 40))
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path)), f"no screenshot written to {path}"


@pytest.mark.parametrize("halting", [False, True], ids=["passed", "halted"])
def test_the_record_opens_offline_and_shows_the_outcome_and_the_window(
    pytester: pytest.Pytester, browser: WebDriver, halting: bool
) -> None:
    result, reports = run_deployment(pytester, halting)
    outcome = "halted" if halting else "passed"
    result.assert_outcomes(**OUTCOMES[halting])
    page = reports / "record.html"
    driver = browser
    driver.get_log("browser"), driver.get_log("performance")  # drop the previous page's
    driver.get(page.as_uri())
    find = driver.find_element

    assert driver.get_log("browser") == []
    asked, failed = requests_made(driver)
    assert asked == [page.as_uri()] and failed == []
    assert driver.find_elements(By.CSS_SELECTOR, "script, link, img, iframe") == []
    shown = find(By.ID, "outcome")
    assert shown.is_displayed() and shown.text == outcome
    window = find(By.ID, "window").text
    assert window.startswith("Maintenance window: ")
    assert ("to still on when the run ended (" in window) is halting
    band = find(By.CSS_SELECTOR, ".bar .window")
    assert band.is_displayed() and band.size["width"] > 0
    marks = [mark.text for mark in driver.find_elements(By.CSS_SELECTOR, "tr .mark")]
    assert marks[0] == "opens here" and marks[-1] == ("inside" if halting else "closes here")
    if halting:
        halted = find(By.ID, "halted").text
        assert halted.startswith("Halted at: Start the new images / Then the new release answers")
        assert f"(password {MASK})" in halted
    text = find(By.TAG_NAME, "body").text
    assert SECRET not in text and MASK in text
    full_page_screenshot(driver, ARTIFACTS / f"record-{outcome}.png")
