"""The record of a pre-release feature: masked like the deploy record, whatever the secret holds."""

import html
import json
from datetime import date
from pathlib import Path

import pytest

from atmo_release.record.run_record import ReleaseRecord
from atmo_release.redact import MASK, Redactor
from atmo_release.weeks_before.feature_runs import PreReleaseRun


def new_run(tmp_path: Path, secret: str) -> PreReleaseRun:
    return PreReleaseRun(
        "prepare",
        ReleaseRecord("atmobeta", "v37-3", "Ann Chief", "Bob Driver", "local", "run123"),
        tmp_path,
        Redactor([secret]),
    )


def written(tmp_path: Path, secret: str) -> tuple[str, str, str]:
    run = new_run(tmp_path, secret)
    run.record.begin_step("Notice", "When the notice is sent")
    run.record.note(f"signed in with {secret}")
    run.fact("statusio", {"api_key": secret})
    run.finish()
    json_path, md_path, html_path = run.paths
    return json_path.read_text(), md_path.read_text(), html_path.read_text()


@pytest.mark.parametrize("secret", ['pa"ss-word', "back\\slash-pw", "pässwörd"])
def test_secrets_that_json_escapes_are_masked(tmp_path: Path, secret: str) -> None:
    json_text, md_text, html_text = written(tmp_path, secret)
    data = json.loads(json_text)
    assert data["steps"][0]["notes"] == [f"signed in with {MASK}"]
    assert data["facts"] == {"statusio": {"api_key": MASK}}
    for text in (json_text, md_text, html_text):
        assert secret not in text and json.dumps(secret)[1:-1] not in text
        assert html.escape(secret) not in text


def test_the_feature_leads_the_json_and_names_the_files(tmp_path: Path) -> None:
    json_text, md_text, html_text = written(tmp_path, "hunter2-pw")
    assert next(iter(json.loads(json_text))) == "feature"
    assert {p.name for p in tmp_path.iterdir()} == {
        "prepare-record.json",
        "prepare-record.md",
        "prepare-record.html",
    }
    assert md_text.startswith("# Release record: v37-3 on atmobeta (prepare)\n")
    assert "<h1>Release record: v37-3 on atmobeta (prepare)</h1>" in html_text


def test_values_json_cannot_hold_are_written_as_masked_strings(tmp_path: Path) -> None:
    secret = "hunter2-pw"
    run = new_run(tmp_path, secret)
    run.fact("release_date", date(2026, 12, 1))
    run.fact("checkout", tmp_path / secret)
    run.write()
    assert run.read_back()["facts"] == {
        "release_date": "2026-12-01",
        "checkout": str(tmp_path / MASK),
    }
