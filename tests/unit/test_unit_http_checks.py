"""wait_until polls probes and reports the seconds each took, or names those that never held."""

import time

import pytest

from atmo_release.checks import CheckFailed
from atmo_release.web import http_checks
from atmo_release.web.http_checks import wait_until
from tests.unit.refusals import refusal


def after(calls: int):
    """A probe that holds from its `calls`-th call on."""
    count = {"n": 0}

    def probe() -> bool:
        count["n"] += 1
        return count["n"] >= calls

    return probe


def test_returns_seconds_per_probe() -> None:
    ready = wait_until({"atmosphere": lambda: True, "troposphere": after(3)}, 0.01, 2)
    assert set(ready) == {"atmosphere", "troposphere"}
    assert ready["atmosphere"] == 0.0
    assert 0.01 <= ready["troposphere"] < 1
    assert all(isinstance(v, float) for v in ready.values())


def test_a_probe_that_held_is_not_asked_again() -> None:
    calls = []
    wait_until({"a": lambda: calls.append(1) or True, "b": after(3)}, 0.001, 2)
    assert len(calls) == 1


def test_no_probes_returns_at_once() -> None:
    assert wait_until({}, 10, 10) == {}


def test_names_the_probes_that_never_held() -> None:
    started = time.monotonic()
    with pytest.raises(CheckFailed) as caught:
        wait_until(
            {"troposphere": lambda: False, "atmosphere": lambda: True, "celery": lambda: False},
            0.01,
            0.05,
        )
    assert time.monotonic() - started < 1
    message = str(caught.value)
    assert message.endswith(": celery, troposphere")
    assert "atmosphere" not in message
    assert "0.05 s" in message


def _site(monkeypatch: pytest.MonkeyPatch, pages: dict[str, http_checks.Answer]) -> None:
    monkeypatch.setattr(http_checks, "get", lambda url, *a, **k: pages[url.removeprefix(BASE)])


BASE = "http://tropo"
BANNER = f"<p>{http_checks.MAINTENANCE_BANNER}</p><p>Back at noon</p>"


def test_troposphere_in_maintenance_sends_the_app_to_the_page_with_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = http_checks.Answer(200, BANNER, "")
    _site(monkeypatch, {"/application": http_checks.Answer(302, "", "/maintenance/"),
                        "/maintenance": page})  # fmt: skip
    http_checks.troposphere_in_maintenance(BASE, "Back at noon")
    _site(monkeypatch, {"/application": http_checks.Answer(200, "app", ""), "/maintenance": page})
    assert refusal(lambda: http_checks.troposphere_in_maintenance(BASE, "Back at noon")) == (
        "http://tropo/application answered 200 to -, expected 302 to /maintenance"
    )
    _site(monkeypatch, {"/application": http_checks.Answer(302, "", "/maintenance"),
                        "/maintenance": http_checks.Answer(0, "refused", "")})  # fmt: skip
    assert refusal(lambda: http_checks.troposphere_in_maintenance(BASE, "Back at noon")) == (
        "http://tropo/maintenance answered nothing, expected 200"
    )


def test_troposphere_open_sends_the_page_to_login_and_serves_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login = http_checks.Answer(302, "", "/login")
    _site(monkeypatch, {"/maintenance": login, "/application": http_checks.Answer(200, "", "")})
    http_checks.troposphere_open(BASE)
    _site(monkeypatch, {"/maintenance": http_checks.Answer(200, BANNER, ""),
                        "/application": http_checks.Answer(200, "", "")})  # fmt: skip
    assert refusal(lambda: http_checks.troposphere_open(BASE)) == (
        "http://tropo/maintenance answered 200 to -, expected 302 to /login after maintenance"
    )
    _site(monkeypatch, {"/maintenance": login, "/application": http_checks.Answer(503, "", "")})
    assert refusal(lambda: http_checks.troposphere_open(BASE)) == (
        "http://tropo/application answered 503, expected 200 after maintenance"
    )
