"""A real SMTP server on 127.0.0.1 (aiosmtpd in a thread) that keeps what it receives.

Why real: the notice must cross an SMTP conversation, and the test reads the message back
from what the server received, not from what the client thinks it sent.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """`with SmtpSink() as sink:` ... `sink.received`; listens on `sink.host`, `sink.port`."""

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", _free_port()
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname=self.host, port=self.port)

    @property
    def received(self) -> list[Received]:
        return self._handler.received

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
