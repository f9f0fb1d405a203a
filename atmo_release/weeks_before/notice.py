"""The maintenance notice to atmosphere-users, sent by SMTP (CyVerse, "Two Weeks Prior")."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid

from atmo_release.release import Release


@dataclass(frozen=True)
class NoticeSettings:
    """`[notice]` of an environment file."""

    smtp_host: str
    smtp_port: int
    sender: str
    to: str
    window: str = "9am - 4pm MST"


def subject(release: Release, day: date) -> str:
    return f"Atmosphere maintenance on {day.isoformat()}: release {release.name}"


def compose(settings: NoticeSettings, release: Release, day: date) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(release, day)
    message["From"] = settings.sender
    message["To"] = settings.to
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(
        f"Atmosphere will be down for a scheduled maintenance on {day:%A, %B %d, %Y} "
        f"between {settings.window} while release {release.name} is deployed.\n"
        "Running instances are not affected; the web interface and API are unavailable.\n"
    )
    return message


def send(settings: NoticeSettings, message: EmailMessage, timeout: float = 30) -> str:
    """Hand the notice to the SMTP server; its Message-ID, to find it again."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        refused = smtp.send_message(message)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    return str(message["Message-ID"])
