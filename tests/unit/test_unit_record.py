"""The release record: steps, commands and notes, written as JSON and Markdown, secrets masked."""

import html
import json
import shlex
import time
from pathlib import Path

import pytest

from atmo_release.record.plan_record import write_plan
from atmo_release.record.render import render_markdown
from atmo_release.record.run_record import ReleaseRecord, redact_data
from atmo_release.redact import MASK, Redactor
from atmo_release.target import Result
from tests.unit.interrupting import ctrl_c_raising, interrupted_work

PASSWORD = "hunter2-db-password"
TOKEN = "tok-0123456789abcdef"


def new_record() -> ReleaseRecord:
    return ReleaseRecord(
        env="atmobeta",
        release="v37-3",
        crew_chief="Ann Chief",
        driver="Bob Driver",
        target="local",
        run_id="run123",
    )


def result(argv: tuple[str, ...], rc: int = 0, stdout: str = "", stderr: str = "") -> Result:
    return Result(argv, rc, stdout, stderr, 0.123456)


def strings(value: object) -> list[str]:
    """Every string held anywhere in a JSON value (keys included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [*value, *(s for v in value.values() for s in strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@pytest.fixture
def redactor() -> Redactor:
    return Redactor([PASSWORD, TOKEN])


@pytest.fixture
def written(tmp_path: Path, redactor: Redactor) -> tuple[ReleaseRecord, str, str, str]:
    record = new_record()
    record.begin_step("Maintenance", "When maintenance is started on troposphere")
    record.on_command(result(("docker-compose", "exec", "-T", "troposphere", "true")), redactor)
    record.note("maintenance started")
    record.end_step("passed")
    record.begin_step("Backups", "When the databases are dumped")
    record.on_command(
        result(
            ("env", f"PGPASSWORD={PASSWORD}", "pg_dump", "-d", "atmo_prod"),
            rc=1,
            stderr=f"line 1\nline 2\nauthentication failed for password {PASSWORD}\n",
        ),
        redactor,
    )
    record.note(f"used token {TOKEN} for the check")
    record.end_step("failed", error=f"pg_dump failed: password {PASSWORD} refused")
    record.halted_at = "Backups: When the databases are dumped"
    record.next_safe_command = "docker-compose -f docker-compose.prod.yml up -d"
    record.stack_state = {"maintenance": "on", "containers": "stopped"}
    record.facts = {"token_seen": TOKEN}
    record.outcome = "failed"
    paths = record.write(tmp_path / "reports" / "atmobeta-v37-3-x", redactor)
    assert [path.name for path in paths] == ["record.json", "record.md", "record.html"]
    assert {path.parent for path in paths} == {tmp_path / "reports" / "atmobeta-v37-3-x"}
    return record, *(path.read_text() for path in paths)  # type: ignore[return-value]


def test_no_secret_in_any_file(written: tuple[ReleaseRecord, str, str, str]) -> None:
    _, json_text, md_text, html_text = written
    assert not any(PASSWORD in s or TOKEN in s for s in strings(json.loads(json_text)))
    for text in (json_text, md_text, html_text):
        assert PASSWORD not in text
        assert TOKEN not in text
        assert MASK in text


def test_json_holds_the_steps_and_redacted_commands(
    written: tuple[ReleaseRecord, str, str, str],
) -> None:
    _, json_text, _, _ = written
    data = json.loads(json_text)
    assert data["env"] == "atmobeta" and data["release"] == "v37-3"
    assert data["outcome"] == "failed"
    assert data["halted_at"] == "Backups: When the databases are dumped"
    assert data["next_safe_command"] == "docker-compose -f docker-compose.prod.yml up -d"
    assert [s["result"] for s in data["steps"]] == ["passed", "failed"]
    first, second = data["steps"]
    assert first["notes"] == ["maintenance started"]
    assert first["commands"] == [
        {
            "argv": ["docker-compose", "exec", "-T", "troposphere", "true"],
            "rc": 0,
            "seconds": 0.123,
            "output_tail": "",
            "changes": False,
            "planned": False,
        }
    ]
    command = second["commands"][0]
    assert command["argv"] == ["env", f"PGPASSWORD={MASK}", "pg_dump", "-d", "atmo_prod"]
    assert command["rc"] == 1
    assert command["output_tail"] == f"line 1\nline 2\nauthentication failed for password {MASK}"
    assert second["notes"] == [f"used token {MASK} for the check"]
    assert second["error"] == f"pg_dump failed: password {MASK} refused"
    assert data["facts"] == {"token_seen": MASK}


def test_markdown_shows_the_step_table_and_where_it_halted(
    written: tuple[ReleaseRecord, str, str, str],
) -> None:
    record, _, md, _ = written
    assert md.startswith("# Release record: v37-3 on atmobeta\n")
    assert "- Outcome: **failed**" in md
    assert "- crew chief: Ann Chief\n- driver: Bob Driver\n" in md
    assert "- target: local\n" in md
    assert "| result | section | step | seconds |\n|---|---|---|---|\n" in md
    s1, s2 = record.steps
    assert (
        f"| passed | Maintenance | When maintenance is started on troposphere | {s1.seconds} |"
        in md
    )
    assert f"| failed | Backups | When the databases are dumped | {s2.seconds} |" in md
    assert "**Halted at:** Backups: When the databases are dumped" in md
    assert "**Next safe command:** `docker-compose -f docker-compose.prod.yml up -d`" in md
    assert "- maintenance: on\n- containers: stopped" in md
    assert f"```sh\nenv 'PGPASSWORD={MASK}' pg_dump -d atmo_prod  # rc 1 in 0.123 s\n" in md
    assert f"# authentication failed for password {MASK}\n```" in md
    assert f"- error: pg_dump failed: password {MASK} refused" in md
    assert f"- note: used token {MASK} for the check" in md


def test_markdown_without_a_halt(tmp_path: Path) -> None:
    record = new_record()
    record.begin_step("Prepare", "Given the environment is loaded")
    record.end_step("passed")
    md = render_markdown(record.to_dict())
    assert "Halted at" not in md
    assert "Next safe command" not in md
    assert "| passed | Prepare | Given the environment is loaded |" in md
    assert "### " not in md  # a step with no command, note or error has no detail section


def test_end_step_note_and_command_without_a_step_are_ignored(redactor: Redactor) -> None:
    record = new_record()
    record.end_step("passed")
    record.note("nothing")
    record.on_command(result(("true",)), redactor)
    assert record.steps == []
    assert record.commands() == []


def test_begin_and_end_step(redactor: Redactor) -> None:
    record = new_record()
    step = record.begin_step("S", "a step")
    assert step.result == "running" and step.started
    record.on_command(result(("echo", TOKEN)), redactor)
    record.on_command(result(("false",), rc=1, stdout="out"), redactor)
    record.end_step("passed")
    assert step.result == "passed"
    assert step.seconds >= 0
    assert record.commands() == [["echo", MASK], ["false"]]
    assert step.commands[1].output_tail == "out"


def test_written_even_with_no_steps(tmp_path: Path, redactor: Redactor) -> None:
    json_path, md_path, _ = new_record().write(tmp_path, redactor)
    assert json.loads(json_path.read_text())["steps"] == []
    assert "## Steps" in md_path.read_text()


@pytest.mark.parametrize("secret", ['pa"ss-word', "back\\slash-pw", "pässwörd"])
def test_secrets_json_escapes_are_masked_too(tmp_path: Path, secret: str) -> None:
    redactor = Redactor([secret])
    record = new_record()
    record.begin_step("S", "a step")
    record.note(f"the password is {secret}")
    json_path, _, _ = record.write(tmp_path, redactor)
    assert not any(secret in text for text in strings(json.loads(json_path.read_text())))


@pytest.mark.parametrize("secret", ['pa"ss-word', "back\\slash-pw", 'q"uote\\back-pw'])
def test_the_plan_files_mask_a_secret_found_after_its_command(tmp_path: Path, secret: str) -> None:
    """The plan goes through the record writer: a secret the redactor learnt after the command
    was recorded is masked in plan.json too, where JSON escapes its quote or backslash."""
    record = new_record()
    record.begin_step("Secrets", "When the secrets are checked out")
    record.on_command(
        Result(("git", "clone", f"https://x:{secret}@git.invalid/s"), 0, "", "", 0.1, True),
        Redactor(),
    )
    text = write_plan(record, tmp_path, Redactor([secret]))
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan[0]["commands"] == [["git", "clone", f"https://x:{MASK}@git.invalid/s"]]
    assert text == (tmp_path / "plan.md").read_text() and MASK in text
    for path in tmp_path.iterdir():
        assert secret not in path.read_text() and json.dumps(secret)[1:-1] not in path.read_text()


def windowed_record(redactor: Redactor) -> ReleaseRecord:
    """Four sections; maintenance opens in the second and closes in the fourth; facts nest."""
    record = new_record()
    for section in ("Preflight", "Start maintenance", "Start the new images", "End maintenance"):
        record.begin_step(section, f"When {section.lower()} runs")
        if section == "Start maintenance":
            record.open_window()
        if section == "End maintenance":
            record.close_window()
        record.on_command(result(("sh", "-c", f"echo '{PASSWORD}' | psql -d 'a b'")), redactor)
        record.end_step("passed")
    record.facts = {"dumps": [{"file": "atmo.sql", "rows": {"core_event": 30}}], "ok": True}
    record.stack_state = {"maintenance on": {"atmosphere": False}, "backups": ["a", "b"]}
    return record


def test_markdown_marks_the_window_and_has_no_python_repr(redactor: Redactor) -> None:
    record = windowed_record(redactor)
    md = render_markdown(json.loads(json.dumps(record.to_dict())))
    marks = [line.rsplit("|", 2)[1].strip() for line in md.splitlines() if "| passed |" in line]
    assert marks[:4] == ["", "opens", "inside", "closes"]
    assert "- maintenance on:\n  - atmosphere: no\n- backups: a, b" in md
    assert "- dumps:\n  - #1:\n    - file: atmo.sql\n    - rows:\n      - core_event: 30" in md
    assert not any(mark in md for mark in ("{'", "['", "True", "None"))
    line = shlex.join(["sh", "-c", f"echo '{MASK}' | psql -d 'a b'"])
    assert f"\n{line}  # rc 0 in 0.123 s\n" in md
    assert shlex.split(line)[2] == f"echo '{MASK}' | psql -d 'a b'"  # pastes back as it ran


def test_html_escapes_what_it_shows_and_loads_nothing(tmp_path: Path) -> None:
    secret = "pw\"<b>&'-1"
    redactor = Redactor([secret])
    record = windowed_record(redactor)
    record.steps[-1].error = f"answered <script>alert(1)</script> with {secret}"
    record.outcome = "halted"
    _, _, html_path = record.write(tmp_path, redactor)
    page = html_path.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert not any(tag in page for tag in ("<link", "<img", "src=", "href=", "@import", "url("))
    assert '<p id="outcome" class="outcome halted">halted</p>' in page
    assert page.count('<span class="mark">') == 3
    assert secret not in page and html.escape(secret) not in page


def test_a_step_masked_once_is_kept_until_a_secret_is_learnt(tmp_path: Path) -> None:
    """The checkpoint after each step masks only what may still change (the step running), and
    what it writes is what masking the whole record writes, also once a secret is learnt."""
    redactor = Redactor(["first-secret"])
    record = ReleaseRecord("atmobeta", "v37-3", "Ada", "Grace", "local", "r1")
    for step in ("one", "two", "three"):
        record.begin_step("Preflight", step)
        record.on_command(
            Result(("echo", "first-secret", "later-secret"), 0, "", "", 0.1), Redactor()
        )
        record.end_step("passed")
        record.write(tmp_path, redactor, rendered=False)
        assert json.loads((tmp_path / "record.json").read_text()) == json.loads(
            json.dumps(redact_data(record.to_dict(), redactor))
        )
    assert record.masked(redactor)["steps"][0] is record.masked(redactor)["steps"][0]
    redactor.add(["later-secret"])
    record.write(tmp_path, redactor, rendered=False)
    text = (tmp_path / "record.json").read_text()
    assert "later-secret" not in text and "first-secret" not in text
    assert text.count(MASK) == 6


class _GrowingWhileCopied(dict):  # type: ignore[type-arg]
    """Facts that a check read ahead adds to while the checkpoint copies them, once."""

    grew = False

    def items(self):  # type: ignore[no-untyped-def]
        if not type(self).grew:
            type(self).grew = True
            raise RuntimeError("dictionary changed size during iteration")
        return super().items()


def test_a_fact_added_while_the_checkpoint_copies_the_record_is_copied_again(
    tmp_path: Path,
) -> None:
    record = ReleaseRecord("atmobeta", "v37-3", "Ada", "Grace", "local", "r1")
    record.facts = _GrowingWhileCopied(versions_after={"atmosphere": "abc"})
    record.write(tmp_path, Redactor(), rendered=False)
    written = json.loads((tmp_path / "record.json").read_text())
    assert written["facts"] == {"versions_after": {"atmosphere": "abc"}}


def test_work_side_by_side_is_recorded_in_the_items_order(redactor: Redactor) -> None:
    record = new_record()
    record.begin_step("Stop the containers", "Then each window dump holds the rows")

    def work(name: str) -> str:
        time.sleep(0.3 if name == "atmo_prod" else 0.0)  # the second item ends first
        record.on_command(result(("psql", "-d", name)), redactor)
        record.note(f"{name}: proven")
        return name.upper()

    assert record.side_by_side(work, ["atmo_prod", "troposphere"]) == ["ATMO_PROD", "TROPOSPHERE"]
    step = record.steps[-1]
    assert [c.argv[-1] for c in step.commands] == ["atmo_prod", "troposphere"]
    assert step.notes == ["atmo_prod: proven", "troposphere: proven"]
    record.note("after")  # the caller records where it did before
    assert step.notes[-1] == "after"


def test_work_side_by_side_that_fails_still_records_every_item(redactor: Redactor) -> None:
    record = new_record()
    record.begin_step("Use and test", "And every row is kept")

    def work(name: str) -> None:
        record.note(f"{name}: read")
        if name == "atmo_prod":
            raise ValueError("lost a row")

    with pytest.raises(ValueError, match="lost a row"):
        record.side_by_side(work, ["atmo_prod", "troposphere"])
    assert record.steps[-1].notes == ["atmo_prod: read", "troposphere: read"]


def test_work_side_by_side_interrupted_records_what_each_item_ran(redactor: Redactor) -> None:
    """Ctrl-C while both copies load: the command still running ends, and is in the record."""
    record = new_record()
    record.begin_step("Stop the containers", "Then each window dump holds the rows")

    def ran(name: str) -> None:
        record.on_command(result(("psql", "-d", name)), redactor)

    with ctrl_c_raising(), pytest.raises(KeyboardInterrupt):
        record.side_by_side(interrupted_work("atmo_prod", ran), ["atmo_prod", "troposphere"])
    assert [c.argv[-1] for c in record.steps[-1].commands] == ["atmo_prod", "troposphere"]
