"""Polling the registry API: a present tag is found, a missing one fails within the timeout."""

import time
from typing import Any

import pytest

from atmo_release.weeks_before.registry import MANIFEST_TYPES, ImageMissing, Registry
from rehearsal.http_fake import FakeServer

PRESENT = {"/v2/cyverse/atmosphere/manifests/release-v37-6"}


def route(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
    assert headers.get("accept") == MANIFEST_TYPES
    return (200, {"schemaVersion": 2}) if path in PRESENT else (404, {"errors": []})


def test_present_tag_is_found() -> None:
    with FakeServer(route) as server:
        found = Registry(server.url).wait_for([("cyverse/atmosphere", "release-v37-6")], 5, 0.1)
    assert list(found) == ["cyverse/atmosphere:release-v37-6"]


def test_missing_tag_fails_the_poll_within_the_timeout() -> None:
    with FakeServer(route) as server:
        started = time.monotonic()
        with pytest.raises(ImageMissing) as error:
            Registry(server.url).wait_for(
                [("cyverse/atmosphere", "release-v37-6"), ("cyverse/troposphere", "release-v37-6")],
                timeout_s=0.2,
                interval_s=0.05,
            )
        elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 2.2
    assert "cyverse/troposphere:release-v37-6 not in" in str(error.value)
    assert "atmosphere:" not in str(error.value).split(" not in")[0].replace("troposphere", "")
