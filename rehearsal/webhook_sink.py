"""A Slack-compatible incoming webhook on 127.0.0.1 that keeps the messages it accepts.

Why: the crew chief's live messages must cross real HTTP, be read back in the order the sink
got them, and be refused the way Slack refuses a wrongly shaped one (400 `invalid_payload` for
a body that is not JSON with a `text` string, 404 `no_service` for another path). It can also
play a failing (`status=500`) or slow (`delay_s`) webhook.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from rehearsal.http_fake import FakeServer, Reply


class WebhookSink:
    """`with WebhookSink() as sink:` ... `sink.url` (a secret, as Slack's is), `sink.messages`."""

    def __init__(self, status: int = 200, delay_s: float = 0.0) -> None:
        self.path = f"/services/T0REHEARSAL/B0REHEARSAL/{secrets.token_hex(12)}"
        self.status, self.delay_s = status, delay_s
        self.messages: list[str] = []
        self.refused: list[tuple[str, Any]] = []
        self._server = FakeServer(self._route)

    @property
    def url(self) -> str:
        return self._server.url + self.path

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any) -> Reply:
        time.sleep(self.delay_s)
        if method != "POST" or path != self.path:
            self.refused.append((f"{method} {path}", body))
            return 404, "no_service"
        text = body.get("text") if isinstance(body, dict) else None
        json_type = headers.get("content-type", "").startswith("application/json")
        if not json_type or not isinstance(text, str) or not text:
            self.refused.append((f"{method} {path}", body))
            return 400, "invalid_payload"
        if self.status >= 300:
            return self.status, "server_error"
        self.messages.append(text)
        return 200, "ok"

    def __enter__(self) -> WebhookSink:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)
