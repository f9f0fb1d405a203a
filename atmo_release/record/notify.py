"""Live messages to the crew chief: a Slack-compatible webhook (`POST {"text": ...}`) told when
each section starts and ends, where the run halted and what is safe next, and how it ended.

Best effort by design: a dead, failing or slow webhook costs at most one short timeout, leaves
one note in the record and on the terminal, and is not called again in the run; the
deployment's outcome never depends on it. The webhook URL is a secret (Slack's holds the
token in its path): it comes from the variable the environment file names and is masked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from atmo_release.record.run_record import ReleaseRecord
from atmo_release.redact import Redactor

DEFAULT_TIMEOUT_S = 3.0
MAX_TIMEOUT_S = 10.0


class NotifyError(ValueError):
    """A [notify] table that cannot be used; the message says how to fix it."""


@dataclass
class Notifier:
    url: str
    record: ReleaseRecord
    redactor: Redactor
    say: Callable[[str], None]
    next_safe_command: Callable[[], str] = lambda: ""
    timeout_s: float = DEFAULT_TIMEOUT_S
    sent: list[str] = field(default_factory=list)
    failed: str = ""
    _halt_sent: bool = False

    @property
    def _head(self) -> str:
        return f"[{self.record.env} {self.record.release}]"

    def post(self, text: str) -> bool:
        """Send one message unless the webhook already failed; False if this one failed now
        (then the record holds the note, and the caller may want to write it again)."""
        if self.failed:
            return True
        text = self.redactor(text)
        try:
            response = requests.post(self.url, json={"text": text}, timeout=self.timeout_s)
            ok = 200 <= response.status_code < 300
            reason = f"answered {response.status_code}"
        except requests.RequestException as error:
            ok, reason = False, type(error).__name__  # its message would carry the URL's path
        if ok:
            self.sent.append(text)
            return True
        self.failed = (
            f"notify: the webhook failed ({reason}) at the message {text.splitlines()[0]!r}; "
            "no more messages in this run, the deployment goes on"
        )
        self.record.notes.append(self.failed)
        self.say(self.failed)
        return False

    def section_started(self, section: str) -> None:
        self.post(f"{self._head} started: {section}")

    def section_ended(self, section: str, result: str, reason: str = "") -> None:
        self.post(f"{self._head} {result}: {section}" + (f" ({reason})" if reason else ""))

    def halted(self, where: str, reason: str) -> None:
        """Once per run, at the first halt: the step, why, and the next safe command."""
        if self._halt_sent:
            return
        self._halt_sent = True
        self.post(
            f"{self._head} HALTED at {where}\nWhy: {reason}\n"
            f"Next safe command: {self.next_safe_command() or 'none recorded'}"
        )

    def finished(self, link: str) -> bool:
        """The outcome, who ran it and the link to the record; False if this message failed."""
        record = self.record
        return self.post(
            f"{self._head} run {record.run_id} {record.outcome} (crew chief {record.crew_chief}, "
            f"driver {record.driver})\nRecord: {link}"
        )


def notifier_for(
    table: dict[str, Any] | None,
    record: ReleaseRecord,
    redactor: Redactor,
    say: Callable[[str], None],
    next_safe_command: Callable[[], str] = lambda: "",
) -> Notifier | None:
    """The notifier of an environment's [notify] table, or None without one. The URL and its
    path (what a connection error quotes) join the redactor before anything can leak them."""
    if not table:
        return None
    variable = table["webhook_url_env"]
    url = os.environ.get(variable, "").strip()
    if not url:
        raise NotifyError(
            f"[notify] webhook_url_env names {variable}, which is not set: export {variable} "
            "with the webhook URL, or remove [notify] from the environment file"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NotifyError(
            f"the variable {variable} does not hold an http(s) URL: set it to the webhook URL"
        )
    redactor.add([url, parts.path + (f"?{parts.query}" if parts.query else "")])
    timeout = float(table.get("timeout_s", DEFAULT_TIMEOUT_S))
    return Notifier(url, record, redactor, say, next_safe_command, timeout)
