""" "Use and test" in the record: the smoke checks' results and the browser journey, in record.md
(the screenshots linked beside it) and record.html (the screenshots inline: still one file)."""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

from atmo_release.record.run_record import ReleaseRecord
from atmo_release.redact import MASK, Redactor

TOKEN = "tok-0123456789abcdef"


def png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def record_with_use_and_test() -> ReleaseRecord:
    record = ReleaseRecord("atmobeta", "v37-3", "Ann", "Bob", "local", "run1")
    record.begin_step("Use and test", "Then the smoke checks hold")
    record.end_step("passed")
    record.facts["smoke_checks"] = {
        "inside the maintenance window": [
            {
                "name": "instance list",
                "as": "exempt",
                "url": "http://127.0.0.1:1/api/v2/instances",
                "expected": "200 with the text '\"results\"'",
                "status": 500,
                "seconds": 0.042,
                "found": f"500: 'token {TOKEN} refused'",
                "result": "failed",
            }
        ],
        "after maintenance": [],
    }
    record.facts["browser_journey"] = {
        "ran": True,
        "ordinary user": {
            "url": "http://127.0.0.1:2/maintenance",
            "shows": "Atmosphere is under planned maintenance",
            "screenshot": "journey-ordinary-user.png",
        },
        "exempt user": {
            "url": "http://127.0.0.1:2/application",
            "shows": "Your instances: vm-12 (running)",
            "screenshot": "journey-exempt-user.png",
            "username": "atmo-release-bot",
        },
    }
    return record


def test_both_files_show_the_checks_and_the_journey(tmp_path: Path) -> None:
    (tmp_path / "journey-ordinary-user.png").write_bytes(png())
    record_with_use_and_test().write(tmp_path, Redactor([TOKEN]))
    md = (tmp_path / "record.md").read_text()
    assert "## Smoke checks\n" in md
    assert (
        "| inside the maintenance window | instance list | exempt "
        "| http://127.0.0.1:1/api/v2/instances | 200 with the text '\"results\"' "
        f"| 500: 'token {MASK} refused' | 0.042 | failed |"
    ) in md
    assert "  ![ordinary user](journey-ordinary-user.png)" in md
    assert "  ![exempt user](journey-exempt-user.png)" in md
    page = (tmp_path / "record.html").read_text()
    assert "img-src data:" in page and TOKEN not in page
    encoded = base64.b64encode(png()).decode()
    assert page.count("<img ") == 1
    assert f'<img src="data:image/png;base64,{encoded}" alt="what the ordinary user saw">' in page
    assert "Screenshot journey-exempt-user.png is not beside this record." in page
    assert '<td class="result-failed">failed</td>' in page


def test_a_journey_not_run_says_so(tmp_path: Path) -> None:
    record = ReleaseRecord("jetstream", "v37-3", "Ann", "Bob", "local", "run2")
    why = "the browser journey was not run: smoke.browser = false in jetstream.toml"
    record.facts["browser_journey"] = {"ran": False, "why": why}
    record.write(tmp_path, Redactor())
    assert f"## In a browser\n\n- {why}\n" in (tmp_path / "record.md").read_text()
    assert (
        f'<p id="journey-not-run" class="run-note">{why}</p>'
        in (tmp_path / "record.html").read_text()
    )


def test_a_screenshot_name_that_leaves_the_folder_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(png())
    inner = tmp_path / "run"
    record = record_with_use_and_test()
    record.facts["browser_journey"]["ordinary user"]["screenshot"] = "../secret.png"
    record.write(inner, Redactor())
    assert "<img " not in (inner / "record.html").read_text()
