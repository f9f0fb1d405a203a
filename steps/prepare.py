"""Two weeks prior: roles, the notice and its timing, attestations, status.io."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pytest_bdd import then, when

from atmo_release.weeks_before import attest, notice
from atmo_release.weeks_before.feature_runs import Prepare, warn_one_person
from atmo_release.weeks_before.statusio import Window
from atmo_release.weeks_before.workdays import check_notice


@when("the crew chief and the driver are recorded")
def _(prepare_run: Prepare, tell: Callable[[str], None]) -> None:
    record = prepare_run.run.record
    warning = warn_one_person(record.crew_chief, record.driver)
    if warning:
        record.note(f"warning: {warning}")
        tell(f"  WARNING: {warning}")
    prepare_run.run.write()


@then("the record names the crew chief and the driver")
def _(prepare_run: Prepare) -> None:
    written = prepare_run.run.read_back()
    for role in ("crew_chief", "driver"):
        assert written.get(role, "").strip(), f"the record names no {role.replace('_', ' ')}"


@then("the maintenance notice date leaves enough working days before the release")
def _(prepare_run: Prepare) -> None:
    days = check_notice(
        prepare_run.notice_date,
        prepare_run.release_date,
        prepare_run.holidays,
        prepare_run.needed_days,
    )
    prepare_run.run.record.note(
        f"notice {prepare_run.notice_date} -> release {prepare_run.release_date}: "
        f"{days} working days"
    )


@when("the maintenance notice is sent to atmosphere-users")
def _(prepare_run: Prepare) -> None:
    settings = prepare_run.notice
    assert settings is not None, f"{prepare_run.environment.path} has no [notice] table"
    message = notice.compose(settings, prepare_run.release, prepare_run.release_date)
    prepare_run.sent = {
        "message_id": notice.send(settings, message),
        "subject": str(message["Subject"]),
        "to": settings.to,
        "server": f"{settings.smtp_host}:{settings.smtp_port}",
    }
    prepare_run.run.fact("notice", prepare_run.sent)


@then("the mail server received the notice naming the release and its date")
def _(prepare_run: Prepare) -> None:
    sent = prepare_run.sent
    assert sent, "no notice was sent"
    if prepare_run.sink is None:
        # Outside the rehearsal the list's mail server cannot be read: a member confirms.
        who = attest.require(
            prepare_run.attestations, "notice", "that the notice reached atmosphere-users"
        )
        prepare_run.run.record.note(f"notice receipt attested by {who.who} at {who.when}")
        return
    arrived = [
        r for r in prepare_run.sink.received if r.message["Message-ID"] == sent["message_id"]
    ]
    assert arrived, f"the SMTP server received no message {sent['message_id']}"
    message = arrived[0]
    subject = str(message.message["Subject"])
    assert sent["to"] in message.recipients, f"sent to {message.recipients}, not {sent['to']}"
    for part in (prepare_run.release.name, prepare_run.release_date.isoformat()):
        assert part in subject, f"the subject {subject!r} does not name {part}"


ATTESTED = {
    "the maintenance banner on the user manual": "banner",
    "the maintenance window on the CyVerse maintenance calendar": "calendar",
    "that the Jetstream tech team knows the date and time and told their users": "jetstream",
}


def _attested(prepare_run: Prepare, meaning: str) -> None:
    found = attest.require(prepare_run.attestations, ATTESTED[meaning], meaning)
    prepare_run.run.record.note(f"attested by {found.who} at {found.when}")
    prepare_run.run.fact(f"attested_{found.what}", {"who": found.who, "when": found.when})


@then("someone attested the maintenance banner on the user manual")
def _(prepare_run: Prepare) -> None:
    _attested(prepare_run, "the maintenance banner on the user manual")


@then("someone attested the maintenance window on the CyVerse maintenance calendar")
def _(prepare_run: Prepare) -> None:
    _attested(prepare_run, "the maintenance window on the CyVerse maintenance calendar")


@then("someone attested that the Jetstream tech team knows the date and time and told their users")
def _(prepare_run: Prepare) -> None:
    _attested(
        prepare_run, "that the Jetstream tech team knows the date and time and told their users"
    )


def _window(prepare_run: Prepare) -> tuple[Window, list[str]]:
    table = prepare_run.environment.extra["statusio"]
    day = prepare_run.release_date.isoformat()
    start = datetime.fromisoformat(f"{day}T{table['window_start_utc']}")
    end = datetime.fromisoformat(f"{day}T{table['window_end_utc']}")
    name = f"{day} {prepare_run.release.name} deployment"
    details = (
        f"Atmosphere is down for a scheduled maintenance while {prepare_run.release} is deployed."
    )
    return Window(name, details, start, end), list(table.get("infrastructure", []))


@when("the maintenance is scheduled on status.io unless it already is")
def _(prepare_run: Prepare) -> None:
    assert prepare_run.statusio is not None, f"{prepare_run.environment.path} has no [statusio]"
    window, infrastructure = _window(prepare_run)
    maintenance_id, created = prepare_run.statusio.find_or_schedule(window, infrastructure)
    prepare_run.run.fact(
        "statusio", {"id": maintenance_id, "created": created, "name": window.name}
    )
    prepare_run.run.record.note(f"{'created' if created else 'found'} {window.name}")


@then("status.io lists exactly one upcoming maintenance for the release on the release date")
def _(prepare_run: Prepare) -> None:
    assert prepare_run.statusio is not None
    window, _ = _window(prepare_run)
    listed = [m for m in prepare_run.statusio.maintenances() if m.name == window.name]
    assert len(listed) == 1, (
        f"status.io lists {len(listed)} maintenances named {window.name!r}, expected exactly 1"
    )
    start = listed[0].start
    assert start.startswith(window.start.strftime("%Y-%m-%dT%H:%M")), (
        f"{window.name!r} starts at {start}, not {window.start:%Y-%m-%d %H:%M} UTC"
    )
