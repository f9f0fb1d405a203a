"""The faults that turn each check of prepare.feature red (see prove_probe)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from atmo_release.weeks_before.feature_runs import Prepare
from steps.prepare import _window
from tests.rehearsal.faults import rewritten

ROLES = "the record names the crew chief and the driver"
MAIL = "the mail server received the notice naming the release and its date"
BANNER = "someone attested the maintenance banner on the user manual"
CALENDAR = "someone attested the maintenance window on the CyVerse maintenance calendar"
JETSTREAM = (
    "someone attested that the Jetstream tech team knows the date and time and told their users"
)
STATUSIO = "status.io lists exactly one upcoming maintenance for the release on the release date"


@contextmanager
def record_without_driver(prepare_run: Prepare) -> Iterator[None]:
    """The written record's driver emptied on disk."""
    path = prepare_run.run.paths[0]
    written = json.loads(path.read_text())
    with rewritten(path, json.dumps({**written, "driver": ""}).encode()):
        yield


@contextmanager
def mail_lost(prepare_run: Prepare) -> Iterator[None]:
    """The mail server lost what it received."""
    received = list(prepare_run.sink.received)
    prepare_run.sink.received.clear()
    try:
        yield
    finally:
        prepare_run.sink.received.extend(received)


def _unattested(what: str) -> Callable[[Prepare], AbstractContextManager[None]]:
    @contextmanager
    def fault(prepare_run: Prepare) -> Iterator[None]:
        """Nobody attested `what` (no --attest WHAT=NAME)."""
        attested = prepare_run.attestations.pop(what, None)
        try:
            yield
        finally:
            if attested is not None:
                prepare_run.attestations[what] = attested

    return fault


@contextmanager
def maintenance_scheduled_twice(prepare_run: Prepare) -> Iterator[None]:
    """A second maintenance of the same name scheduled on status.io (a run not finding the
    first)."""
    statusio = prepare_run.statusio
    assert statusio is not None
    second = statusio.schedule(*_window(prepare_run))
    try:
        yield
    finally:
        statusio._call(  # status.io's delete, which the release itself never needs
            "POST",
            "/v2/maintenance/delete",
            {"statuspage_id": statusio.statuspage_id, "maintenance_id": second},
        )


FAULTS = {
    ROLES: record_without_driver,
    MAIL: mail_lost,
    BANNER: _unattested("banner"),
    CALENDAR: _unattested("calendar"),
    JETSTREAM: _unattested("jetstream"),
    STATUSIO: maintenance_scheduled_twice,
}
