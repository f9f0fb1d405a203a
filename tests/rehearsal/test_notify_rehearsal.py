"""features/deploy.feature on a rehearsal stack whose environment file has a [notify] table: the
local webhook sink receives, in order, every section's start and end (the rollback's skip with
its reason) and the end message with the record's link, and none of the rehearsal's secret
values nor the webhook's URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rehearsal.stack import RehearsalStack
from rehearsal.webhook_sink import WebhookSink
from tests.rehearsal.feature_runs import feature, finish

pytestmark = pytest.mark.docker

SECTIONS = [
    "Preflight, before anything changes",
    "Dump the databases and prove the dumps restore",
    "Start maintenance",
    "Check out the secrets",
    "Stop the containers and back them up",
    "Update the deploy checkout",
    "Start the new images",
    "Use and test",
    "End maintenance",
]
ROLLBACK = "Roll back when the new release failed its checks"  # @always: it skips itself


def test_the_crew_chief_is_told_each_section_and_the_end_in_order(
    stack: RehearsalStack, tmp_path: Path
) -> None:
    env_file = tmp_path / "rehearsal-notify.toml"
    env_file.write_text(
        stack.env_file.read_text() + '\n[notify]\nwebhook_url_env = "ATMO_TEST_WEBHOOK_URL"\n'
    )
    out = tmp_path / "run"
    with WebhookSink() as sink:
        rc, output = finish(feature(stack, out, env_file=env_file, ATMO_TEST_WEBHOOK_URL=sink.url))
    assert rc == 0, output[-3000:]
    head = "[rehearsal v37-3]"
    expected = [f"{head} {word}: {name}" for name in SECTIONS for word in ("started", "passed")]
    expected += [
        f"{head} started: {ROLLBACK}",
        f"{head} skipped: {ROLLBACK} (no rollback needed: the run did not halt)",
    ]
    assert sink.messages[:-1] == expected and sink.refused == []
    record = json.loads((out / "record.json").read_text())
    started = record["started"].replace("-", "").replace(":", "").split("+")[0]
    attached = (
        "https://github.com/cyverse/atmosphere/releases/download/v37-3/"
        f"rehearsal-{started}Z-record.html"
    )
    assert sink.messages[-1] == (
        f"{head} run {record['run_id']} passed (crew chief Lin, driver Ada)\nRecord: {attached}"
    )
    assert record["notes"] == []
    sent = "\n".join(sink.messages)
    written = "".join(path.read_text(errors="replace") for path in out.rglob("*") if path.is_file())
    for secret in [*stack.secret_values(), sink.url, sink.path]:
        assert secret not in sent and secret not in output and secret not in written
    print("\n".join(sink.messages))
