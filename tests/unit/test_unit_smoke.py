"""[smoke] and its [[smoke.checks]]: read with the environment file, a malformed check refused
naming the file, the check and the key; what a check expects and how an answer is judged."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from atmo_release.environment import parse_environment
from atmo_release.release_day.deployment import Deployment
from atmo_release.smoke_settings import SmokeCheck, SmokeSettings, judge
from atmo_release.web import browser
from rehearsal.environment_file import smoke_checks_toml
from tests.unit.refusals import refusal
from tests.unit.test_unit_environment import ATMOBETA, refused, variant

ROOT = Path(__file__).resolve().parents[2]
FIRST = """[[smoke.checks]]
name = "instance list"
url = "atmosphere:/api/v2/instances"
as = "exempt"
status = 200
"""


def with_first_check(tmp_path: Path, replacement: str) -> Path:
    """atmobeta.toml with its first [[smoke.checks]] table's head replaced."""
    return variant(tmp_path, FIRST, replacement, "smoke")


def one_sentence_refusal(path: Path) -> str:
    message = refused(path)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    return message


def test_the_shipped_checks_load_with_their_defaults() -> None:
    smoke = parse_environment(ROOT / "environments" / "atmobeta.toml").smoke
    assert (smoke.browser, smoke.username) == (True, "atmo-release-bot")
    assert smoke.variables() == ("ATMO_RELEASE_API_TOKEN", "ATMO_RELEASE_EXEMPT_PASSWORD")
    checks = {check.name: check for check in smoke.checks}
    assert set(checks) == {"instance list", "celery status", "troposphere application page"}
    assert checks["instance list"].when == "window" and checks["instance list"].timeout_s == 10
    assert checks["celery status"].when == "both"
    assert checks["troposphere application page"].when == "after"
    assert [c.name for c in smoke.checks if c.runs("window")] == ["instance list", "celery status"]
    assert [c.name for c in smoke.checks if c.runs("after")] == [
        "celery status",
        "troposphere application page",
    ]


def test_jetstream_runs_no_browser() -> None:
    smoke = parse_environment(ROOT / "environments" / "jetstream.toml").smoke
    assert smoke.browser is False and smoke.variables() == ("ATMO_RELEASE_API_TOKEN",)


def test_the_rehearsal_runs_atmobetas_checks() -> None:
    rehearsal = tomllib.loads("[smoke]\n" + smoke_checks_toml())["smoke"]["checks"]
    assert rehearsal == tomllib.loads(ATMOBETA)["smoke"]["checks"]


CHECK = "smoke check 'instance list'"
MALFORMED = [
    (
        FIRST.replace("atmosphere:", "atmos:"),
        f"{CHECK}: url names the service 'atmos', which [services] does not describe "
        "(it has atmosphere, troposphere)",
    ),
    (
        FIRST.replace("status = 200", 'status = "200"'),
        f"{CHECK}: status must be a number such as 200, not '200'",
    ),
    (
        FIRST.replace("status = 200", "status = 42"),
        f"{CHECK}: status must be an HTTP status from 100 to 599, not 42",
    ),
    (
        FIRST.replace('as = "exempt"', 'as = "admin"'),
        f'{CHECK}: as must be "exempt" or "anonymous", not \'admin\'',
    ),
    (
        FIRST + "statuss = 201\n",
        f"{CHECK}: unknown key statuss; known keys here: as, contains, name, status, "
        "timeout_s, url, when",
    ),
    (
        FIRST.replace('name = "instance list"\n', ""),
        "smoke check #1 (in the order of [[smoke.checks]]): missing value for name",
    ),
    (FIRST.replace('as = "exempt"\n', ""), f"{CHECK}: missing value for as"),
    (FIRST.replace('as = "exempt"', 'as = ""'), f"{CHECK}: missing value for as (it is empty)"),
    (
        FIRST + 'when = "later"\n',
        f'{CHECK}: when must be "window", "after" or "both", not \'later\'',
    ),
    (FIRST + "timeout_s = 0\n", f"{CHECK}: timeout_s is 0; give more than 0 and at most 120"),
    (
        FIRST.replace("atmosphere:/api", "atmosphere/api"),
        f"{CHECK}: url 'atmosphere/api/v2/instances' is neither <service>:/<path>",
    ),
    (
        FIRST.replace("instance list", "celery status"),
        "two smoke checks are named 'celery status': give each its own name",
    ),
]


@pytest.mark.parametrize(("replacement", "said"), MALFORMED)
def test_a_malformed_check_is_refused_naming_the_check_and_the_key(
    tmp_path: Path, replacement: str, said: str
) -> None:
    assert said in one_sentence_refusal(with_first_check(tmp_path, replacement))


def test_a_full_url_is_asked_as_written_and_a_service_path_under_its_url() -> None:
    urls = {"atmosphere": "https://atmo.example.org/", "troposphere": "http://127.0.0.1:8001"}
    service = SmokeCheck("a", "troposphere:/application", "anonymous", 200)
    full = SmokeCheck("b", "https://status.example.org/health", "anonymous", 200)
    assert service.resolve(urls) == "http://127.0.0.1:8001/application"
    assert full.resolve(urls) == "https://status.example.org/health"
    assert SmokeCheck("c", "atmosphere:/x", "exempt", 200).resolve(urls) == (
        "https://atmo.example.org/x"
    )


def test_the_browser_needs_the_user_and_the_password_variable(tmp_path: Path) -> None:
    path = variant(tmp_path, 'username = "atmo-release-bot"', "")
    message = one_sentence_refusal(path)
    assert "smoke.browser is on but smoke.username is missing" in message
    assert "or set smoke.browser = false" in message


@pytest.mark.parametrize(
    ("status", "body", "location", "held", "found"),
    [
        (200, '{"results": []}', "", True, "200 with the text"),
        (500, '{"detail": "boom"}', "", False, '500: \'{"detail": "boom"}\''),
        (302, "", "/maintenance", False, "302 to /maintenance"),
        (200, '{"count": 0}', "", False, "200 without the text; the body begins '{\"count\": 0}'"),
        (0, "ConnectionError: refused", "", False, "no answer (ConnectionError: refused)"),
    ],
)
def test_an_answer_is_judged_and_said_briefly(
    status: int, body: str, location: str, held: bool, found: str
) -> None:
    check = SmokeCheck("instance list", "atmosphere:/api", "exempt", 200, contains='"results"')
    assert judge(check, status, body, location) == (held, found)
    assert check.expected == "200 with the text '\"results\"'"


def test_a_malformed_check_stops_the_run_before_any_action(tmp_path: Path) -> None:
    """One sentence, a non-zero exit, from the command line, before the lock or any command."""
    path = with_first_check(tmp_path, FIRST.replace("status = 200", 'status = "ok"'))
    runs = sorted((ROOT / "reports").glob("atmobeta-*"))
    argv = ["features/deploy.feature", f"--env={path}", "--release=v37-3", "--crew-chief=Ann"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *argv, "--driver=Bob"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR: ")]
    assert errors == [
        f"ERROR: {path}: smoke check 'instance list': status must be a number such as 200, not 'ok'"
    ]
    assert sorted((ROOT / "reports").glob("atmobeta-*")) == runs  # no reports: nothing ran


def test_the_runner_is_checked_before_anything_changes(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token and the password in their variables, and a browser: else one sentence."""
    monkeypatch.delenv("ATMO_RELEASE_API_TOKEN", raising=False)
    monkeypatch.delenv("ATMO_RELEASE_EXEMPT_PASSWORD", raising=False)
    assert refusal(deployment.smoke_checks.check_runner) == (
        "export ATMO_RELEASE_API_TOKEN and ATMO_RELEASE_EXEMPT_PASSWORD: [smoke] in "
        f"{deployment.env.path} signs in and checks as the exempt user atmo-release-bot"
    )
    monkeypatch.setenv("ATMO_RELEASE_API_TOKEN", "t0ken")
    monkeypatch.setenv("ATMO_RELEASE_EXEMPT_PASSWORD", "passw0rd")
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert refusal(deployment.smoke_checks.check_runner).startswith(
        "this runner has no chromium and no chromedriver: the browser journey needs it "
        "(scripts/setup.sh installs it), or set smoke.browser = false in "
    )
    monkeypatch.setattr(deployment, "env", replace(deployment.env, smoke=NO_BROWSER))
    deployment.smoke_checks.check_runner()


NO_BROWSER = SmokeSettings("ATMO_RELEASE_API_TOKEN", browser=False)


def test_a_journey_the_file_turns_off_is_said_not_run(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deployment, "env", replace(deployment.env, smoke=NO_BROWSER))
    deployment.record.begin_step("Use and test", "the journey")
    deployment.browser_journey.check()
    why = f"the browser journey was not run: smoke.browser = false in {deployment.env.path}"
    assert deployment.record.facts["browser_journey"] == {"ran": False, "why": why}
    assert deployment.record.notes == [why] and deployment.record.steps[-1].notes == [why]
    deployment.browser_journey.check()
    assert deployment.record.notes == [why]


def test_a_warm_browser_serves_one_journey_then_the_next_starts_its_own_and_close_quits_it(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    quit_: list[str] = []

    @contextmanager
    def chromium(*_: int) -> Iterator[str]:
        name = f"chromium {len(started) + 1}"
        started.append(name)
        yield name
        quit_.append(name)

    monkeypatch.setattr(browser, "chromium", chromium)
    monkeypatch.setattr(browser, "missing", lambda: "")
    journey = deployment.browser_journey
    journey.warm()
    with journey._chromium() as first:
        assert first == "chromium 1" and quit_ == []
    with journey._chromium() as second:
        assert second == "chromium 2"
    assert quit_ == ["chromium 2"], "the warm one stays up until the run closes it"
    journey.close()
    assert quit_ == ["chromium 2", "chromium 1"]


def test_no_browser_is_warmed_where_the_journey_is_off_or_cannot_run(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser, "missing", lambda: "this runner has no chromium")
    deployment.browser_journey.warm()
    assert deployment.browser_journey.warming is None
    monkeypatch.setattr(browser, "missing", lambda: "")
    monkeypatch.setattr(deployment, "env", replace(deployment.env, smoke=NO_BROWSER))
    deployment.browser_journey.warm()
    assert deployment.browser_journey.warming is None


@pytest.mark.parametrize(
    ("raised", "left"),
    [
        (None, False),
        ("stale", True),
        (
            "unknown error: unhandled inspector error: Node with given id does not belong to "
            "the document",
            True,
        ),
    ],
    ids=["still-there", "stale", "replaced"],
)
def test_a_page_being_replaced_counts_as_left(raised: str | None, left: bool) -> None:
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    from atmo_release.web.journey import _left

    class Page:
        def is_enabled(self) -> bool:
            if raised == "stale":
                raise StaleElementReferenceException("stale")
            if raised:
                raise WebDriverException(raised)
            return True

    assert _left(Page()) is left  # type: ignore[arg-type]


def test_another_browser_error_while_waiting_for_the_next_page_is_raised() -> None:
    from selenium.common.exceptions import WebDriverException

    from atmo_release.web.journey import _left

    class Page:
        def is_enabled(self) -> bool:
            raise WebDriverException("chrome not reachable")

    with pytest.raises(WebDriverException, match="chrome not reachable"):
        _left(Page())  # type: ignore[arg-type]
