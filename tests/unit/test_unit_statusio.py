"""The status.io client against a local server that checks the documented request shapes."""

from collections.abc import Iterator
from datetime import datetime

import pytest

from atmo_release.weeks_before.statusio import StatusIO, StatusIOError, Window
from rehearsal.fake_statusio import FakeStatusIO

WINDOW = Window(
    "2026-12-01 v37-6 deployment",
    "Atmosphere is down",
    datetime(2026, 12, 1, 16, 0),
    datetime(2026, 12, 1, 23, 0),
)


@pytest.fixture
def status() -> Iterator[FakeStatusIO]:
    with FakeStatusIO("page-1", "id-1234", "key-5678") as server:
        yield server


def test_schedules_once_then_finds_it(status: FakeStatusIO) -> None:
    client = StatusIO(status.url, "page-1", "id-1234", "key-5678")
    first, created = client.find_or_schedule(WINDOW, ["comp-cont"])
    again, created_again = client.find_or_schedule(WINDOW, ["comp-cont"])
    assert (created, created_again) == (True, False) and first == again
    assert status.problems == []
    method, path, body = status.calls[1]
    assert (method, path) == ("POST", "/v2/maintenance/schedule")
    assert body["date_planned_start"] == "12/01/2026" and body["time_planned_end"] == "23:00"
    assert body["all_infrastructure_affected"] == "0"
    assert body["infrastructure_affected"] == ["comp-cont"]
    assert [m.name for m in client.maintenances()] == [WINDOW.name]


def test_wrong_key_fails_without_showing_it(status: FakeStatusIO) -> None:
    client = StatusIO(status.url, "page-1", "id-1234", "not-the-key")
    with pytest.raises(StatusIOError, match="Authentication failed") as error:
        client.maintenances()
    assert "not-the-key" not in str(error.value)


def test_server_rejects_a_badly_shaped_schedule(status: FakeStatusIO) -> None:
    client = StatusIO(status.url, "page-1", "id-1234", "key-5678")
    backwards = Window("x", "y", WINDOW.end, WINDOW.start)
    with pytest.raises(StatusIOError, match="not after"):
        client.schedule(backwards, ["comp-cont"])
    with pytest.raises(StatusIOError, match="invalid"):
        client._call("POST", "/v2/maintenance/schedule", {
            "statuspage_id": "page-1", "maintenance_name": "x", "maintenance_details": "y",
            "all_infrastructure_affected": True, "automation": "0",
            "maintenance_notify_now": "0", "maintenance_notify_72_hr": "0",
            "maintenance_notify_24_hr": "0", "maintenance_notify_1_hr": "0",
            "date_planned_start": "2026-12-01", "time_planned_start": "16:00",
            "date_planned_end": "12/01/2026", "time_planned_end": "23:00",
        })  # fmt: skip
