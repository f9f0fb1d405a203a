"""Pure helpers of a deployment: the maintenance title and the last recorded secrets commit."""

import json
from datetime import date
from pathlib import Path

import pytest

from atmo_release.release import Release
from atmo_release.release_day.deployment import (
    Deployment,
    last_recorded_secrets_commit,
    maintenance_title,
)
from fixtures.deployment import DeployRun


def test_maintenance_title() -> None:
    assert maintenance_title(Release.parse("37-3"), date(2026, 12, 1)) == (
        "2026-12-01 v37-3 deployment"
    )
    assert maintenance_title(Release.parse("release-v36-10"), date(2026, 1, 9)) == (
        "2026-01-09 v36-10 deployment"
    )


def record(root: Path, directory: str, env: str, outcome: str, started: str, commit: str) -> None:
    path = root / directory / "record.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "env": env,
                "outcome": outcome,
                "started": started,
                "facts": {"secrets_commit": commit} if commit else {},
            }
        )
    )


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    record(
        tmp_path,
        "atmobeta-v37-1-20261001T100000Z",
        "atmobeta",
        "passed",
        "2026-10-01T10:00:00+00:00",
        "old-passed",
    )
    # the newest passed run sits in a directory that sorts first
    record(
        tmp_path,
        "atmobeta-v37-2-00000000T000000Z",
        "atmobeta",
        "passed",
        "2026-11-01T10:00:00+00:00",
        "newest-passed",
    )
    record(
        tmp_path,
        "atmobeta-v37-3-20261126T140000Z",
        "atmobeta",
        "failed",
        "2026-11-26T14:00:00+00:00",
        "newer-but-failed",
    )
    record(
        tmp_path,
        "atmobeta-v37-3-20261127T140000Z",
        "atmobeta",
        "running",
        "2026-11-27T14:00:00+00:00",
        "still-running",
    )
    record(
        tmp_path,
        "atmobeta-v37-3-20261128T140000Z",
        "atmobeta",
        "passed",
        "2026-11-28T14:00:00+00:00",
        "",
    )
    record(
        tmp_path,
        "production-v37-3-20261130T140000Z",
        "production",
        "passed",
        "2026-11-30T14:00:00+00:00",
        "other-env",
    )
    broken = tmp_path / "atmobeta-v37-3-broken" / "record.json"
    broken.parent.mkdir()
    broken.write_text("{not json")
    return tmp_path


def test_picks_the_newest_passed_record_of_the_env(reports: Path) -> None:
    assert last_recorded_secrets_commit(reports, "atmobeta") == "newest-passed"
    assert last_recorded_secrets_commit(reports, "production") == "other-env"


def test_none_without_a_passed_record(reports: Path, tmp_path: Path) -> None:
    assert last_recorded_secrets_commit(reports, "jetstream") is None
    assert last_recorded_secrets_commit(tmp_path / "missing", "atmobeta") is None


def test_an_env_whose_name_extends_another_is_not_mixed_in(tmp_path: Path) -> None:
    record(
        tmp_path,
        "jetstream-v37-2-20261001T100000Z",
        "jetstream",
        "passed",
        "2026-10-01T10:00:00+00:00",
        "jetstream-commit",
    )
    record(
        tmp_path,
        "jetstream-test-v37-3-20261101T100000Z",
        "jetstream-test",
        "passed",
        "2026-11-01T10:00:00+00:00",
        "jetstream-test-commit",
    )
    assert last_recorded_secrets_commit(tmp_path, "jetstream") == "jetstream-commit"


def test_a_malformed_record_is_skipped(reports: Path) -> None:
    odd = reports / "atmobeta-v37-3-odd" / "record.json"
    odd.parent.mkdir()
    odd.write_text('{"outcome": "passed", "facts": null, "started": "2027"}')
    assert last_recorded_secrets_commit(reports, "atmobeta") == "newest-passed"


def test_inside_the_window_a_checkpoint_writes_the_json_and_renders_every_few_seconds(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a resumed run reads is written after every step; rendering md and html after each
    step cost ~0.07 s of a window users are locked out of."""
    run = DeployRun(deployment, tmp_path, print)
    record = deployment.record
    record.begin_step("Start maintenance", "maintenance is started on troposphere")
    clock = iter([100.0, 101.0, 105.0, 106.0, 107.0])
    monkeypatch.setattr("fixtures.deployment.time.monotonic", lambda: next(clock))
    rendered = []
    for step in range(4):
        record.note(f"step {step}")
        if step == 1:
            record.open_window()
        (tmp_path / "record.md").unlink(missing_ok=True)
        run.checkpoint()
        assert f"step {step}" in (tmp_path / "record.json").read_text()
        rendered.append((tmp_path / "record.md").exists())
    assert rendered == [True, False, True, False]  # before, inside at +1 s, +5 s, +1 s
    record.close_window()
    run.checkpoint()
    assert (tmp_path / "record.md").exists()
