"""record.html in a real headless browser (Debian's chromium through chromedriver): the record
of a passed and of a halted run, each made by a run through the plugin (tests/plugin_runs.py),
opens without a console message or any network request but the file itself, and shows the
outcome and the maintenance window; a record with the browser journey shows its screenshots
inline and the smoke checks. Screenshots: reports/artifacts/record-<outcome>.png."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from atmo_release.record.run_record import ReleaseRecord
from atmo_release.redact import MASK, Redactor
from atmo_release.web import browser as chromium
from tests.plugin_runs import OUTCOMES, ROOT, SECRET, run_deployment

pytest_plugins = ["pytester"]

ARTIFACTS = ROOT / "reports" / "artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if chromium.missing():
        pytest.skip(f"{chromium.missing()}: run scripts/setup.sh")
    logs = {"goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"}}
    with chromium.chromium(capabilities=logs) as driver:
        yield driver


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


def test_the_journeys_screenshots_are_inline_and_the_smoke_checks_shown(
    browser: WebDriver, tmp_path: Path
) -> None:
    driver = browser
    for who, colour in (("ordinary", "orange"), ("exempt", "teal")):
        driver.get(f"data:text/html,<body style='background:{colour}'><h1>{who}</h1></body>")
        driver.save_screenshot(str(tmp_path / f"journey-{who}-user.png"))
    record = ReleaseRecord("rehearsal", "v37-3", "Lin", "Ada", "local", "run9")
    checked = {"name": "instance list", "as": "exempt", "url": "http://127.0.0.1:1/api/v2/x"}
    checked.update(expected="200", status=200, seconds=0.01, found=f"200 {SECRET}")
    record.facts["smoke_checks"] = {"inside the window": [{**checked, "result": "passed"}]}
    record.facts["browser_journey"] = {"ran": True}
    for who in ("ordinary", "exempt"):
        record.facts["browser_journey"][f"{who} user"] = {
            "url": f"http://127.0.0.1:2/{who}",
            "shows": who,
            "screenshot": f"journey-{who}-user.png",
        }
    record.write(tmp_path, Redactor([SECRET]))
    page = tmp_path / "record.html"
    driver.get_log("browser"), driver.get_log("performance")
    driver.get(page.as_uri())
    assert driver.get_log("browser") == []
    asked, failed = requests_made(driver)
    assert [url for url in asked if not url.startswith("data:image/png;base64,")] == [page.as_uri()]
    assert failed == []
    shots = driver.find_elements(By.CSS_SELECTOR, "#use-and-test figure img")
    assert len(shots) == 2
    for shot in shots:
        assert shot.get_attribute("src").startswith("data:image/png;base64,")
        assert driver.execute_script("return arguments[0].naturalWidth", shot) > 0
    rows = driver.find_element(By.ID, "smoke-checks").text
    assert "instance list exempt" in rows and f"200 {MASK}" in rows and SECRET not in rows
    full_page_screenshot(driver, ARTIFACTS / "record-use-and-test.png")
