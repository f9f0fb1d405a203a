"""The crew chief's live messages, rehearsed: a stand-in deployment runs through the run plugin
(tests/plugin_runs.py) against a local Slack-compatible webhook, which is read back in order;
a dead, failing or slow webhook never stops the run nor slows it noticeably."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import pytest
import requests

from atmo_release.record.notify import NotifyError, notifier_for
from atmo_release.record.run_record import ReleaseRecord
from atmo_release.redact import MASK, Redactor
from rehearsal.shell import free_port
from rehearsal.webhook_sink import WebhookSink
from tests.plugin_runs import OUTCOMES, SECRET, record, run_deployment

pytest_plugins = ["pytester"]

VARIABLE = "ATMO_TEST_WEBHOOK_URL"
HEAD = "[rehearsal v37-3]"
# The dead webhook's timeout: the shortest an environment file may give (0.1 s) would let a
# loaded machine turn the 500 into a timeout.
TIMEOUT_S = 0.25


def with_webhook(monkeypatch: pytest.MonkeyPatch, url: str, timeout_s: float = 2.0) -> None:
    monkeypatch.setenv("NOTIFY_VARIABLE", VARIABLE)
    monkeypatch.setenv("NOTIFY_TIMEOUT", str(timeout_s))
    monkeypatch.setenv(VARIABLE, url)


def leaks(text: str, url: str) -> list[str]:
    path = url.split("/", 3)[3]
    forms = {SECRET, json.dumps(SECRET)[1:-1], html.escape(SECRET), url, path}
    return [form for form in forms if form in text]


def rehearsed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, halting: bool
) -> tuple[WebhookSink, pytest.RunResult, Path]:
    """The stand-in deployment told to a live sink; what the sink got, the run, its reports."""
    with WebhookSink() as sink:
        with_webhook(monkeypatch, sink.url)
        result, reports = run_deployment(pytester, halting, pause_s=0)
    return sink, result, reports


def test_a_passing_run_tells_each_section_and_the_end_in_order(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, result, reports = rehearsed(pytester, monkeypatch, halting=False)
    result.assert_outcomes(**OUTCOMES[False])
    assert sink.messages == [
        f"{HEAD} started: Preflight",
        f"{HEAD} passed: Preflight",
        f"{HEAD} started: Start maintenance",
        f"{HEAD} passed: Start maintenance",
        f"{HEAD} started: Start the new images",
        f"{HEAD} passed: Start the new images",
        f"{HEAD} started: End maintenance",
        f"{HEAD} passed: End maintenance",
        f"{HEAD} started: Roll back",
        f"{HEAD} skipped: Roll back (no rollback needed: the run did not halt)",
        f"{HEAD} run run7 passed (crew chief Lin, driver Ada)\nRecord: {reports}/record.html",
    ]
    assert sink.refused == []
    assert (reports / "record.html").is_file()
    rollback = record(reports)["steps"][-1]
    assert (rollback["result"], rollback["notes"]) == (
        "skipped",
        ["no rollback needed: the run did not halt"],
    )


def test_a_halt_tells_the_step_why_and_the_next_safe_command(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, result, reports = rehearsed(pytester, monkeypatch, halting=True)
    result.assert_outcomes(**OUTCOMES[True])
    assert sink.messages[4:] == [
        f"{HEAD} started: Start the new images",
        f"{HEAD} failed: Start the new images",
        f"{HEAD} HALTED at Start the new images / Then the new release answers 500\n"
        f"Why: /api/v2/version answered 500 <html> (password {MASK})\n"
        "Next safe command: docker-compose -f docker-compose.prod.yml logs; "
        "then roll back as the record says",
        f"{HEAD} started: Roll back",
        f"{HEAD} passed: Roll back",
        f"{HEAD} run run7 halted (crew chief Lin, driver Ada)\nRecord: {reports}/record.html",
    ]
    assert record(reports)["outcome"] == "halted"
    every_byte = "\n".join(sink.messages) + "".join(path.read_text() for path in reports.iterdir())
    assert leaks(every_byte, sink.url) == []


@pytest.mark.parametrize(
    "webhook, reason",
    [("refused", "ConnectionError"), ("500", "answered 500"), ("slow", "ReadTimeout")],
)
def test_a_dead_webhook_leaves_one_note_and_the_run_goes_on(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, webhook: str, reason: str
) -> None:
    """Connection refused, a 500 and a webhook slower than the timeout: each costs at most that
    timeout once, then no more calls; the run passes and says so once."""
    status, delay = (500, 0.0) if webhook == "500" else (200, 5.0)
    started = time.monotonic()
    run_deployment(pytester, halting=False, pause_s=0)[0].assert_outcomes(**OUTCOMES[False])
    alone = time.monotonic() - started
    with WebhookSink(status=status, delay_s=delay) as sink:
        dead = f"http://127.0.0.1:{free_port()}/services/T0/B0/dead-0123"
        url = dead if webhook == "refused" else sink.url
        with_webhook(monkeypatch, url, timeout_s=TIMEOUT_S)
        started = time.monotonic()
        result, reports = run_deployment(pytester, halting=False, pause_s=0)
        added = time.monotonic() - started - alone
    print(f"{webhook} webhook added {added:+.2f} s to a run of {alone:.2f} s without one")
    result.assert_outcomes(**OUTCOMES[False])
    assert sink.messages == []
    notes = record(reports)["notes"]
    assert len(notes) == 1 and notes[0].startswith(f"notify: the webhook failed ({reason}) ")
    assert notes[0] in result.stdout.str()
    assert f"Note: {notes[0]}" in (reports / "record.md").read_text()
    assert record(reports)["outcome"] == "passed"
    assert added < TIMEOUT_S + 0.5, f"the webhook added {added:.2f} s to {alone:.2f} s"
    assert leaks(result.stdout.str() + notes[0], url) == []


def test_the_sink_refuses_what_slack_refuses() -> None:
    with WebhookSink() as sink:
        form = requests.post(sink.url, data={"text": "x"}, timeout=5)
        no_text = requests.post(sink.url, json={"blocks": []}, timeout=5)
        elsewhere = requests.post(sink.url + "x", json={"text": "x"}, timeout=5)
    assert (form.status_code, no_text.status_code, elsewhere.status_code) == (400, 400, 404)
    assert sink.messages == [] and len(sink.refused) == 3


def new_record() -> ReleaseRecord:
    return ReleaseRecord("atmobeta", "v37-3", "Lin", "Ada", "local", "run1")


def test_without_a_notify_table_there_is_no_notifier() -> None:
    assert notifier_for(None, new_record(), Redactor(), print) is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("", "names ATMO_TEST_WEBHOOK_URL, which is not set: export ATMO_TEST_WEBHOOK_URL"),
        ("hooks.slack.com/services/x", "does not hold an http(s) URL"),
    ],
)
def test_a_webhook_that_cannot_work_is_refused_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv(VARIABLE, value)
    with pytest.raises(NotifyError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        notifier_for({"webhook_url_env": VARIABLE}, new_record(), Redactor(), print)


def test_the_url_and_the_path_a_connection_error_quotes_are_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
    monkeypatch.setenv(VARIABLE, url)
    redactor = Redactor()
    notifier_for({"webhook_url_env": VARIABLE}, new_record(), redactor, print)
    assert redactor(f"posting to {url}") == f"posting to {MASK}"
    assert redactor("with url: /services/T000/B000/XXXXsecretXXXX") == f"with url: {MASK}"
