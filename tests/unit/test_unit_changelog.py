"""Releasing a changelog moves only the Unreleased items and keeps every other byte."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from atmo_release.weeks_before.changelog_edit import (
    ChangelogError,
    main,
    prepare_release,
    release_changelog,
)

DATA = Path(__file__).parent / "data" / "changelogs"
ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 12, 1)
FILES = {
    "atmosphere.md": "atmosphere",
    "troposphere-crlf.md": "troposphere",
    "template-comment.md": "atmosphere",
}


def read(name: str) -> str:
    return (DATA / name).read_bytes().decode("utf-8")


def lines_of(text: str) -> list[str]:
    """Lines with their endings (LF split only, so CRLF and a missing last newline show)."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def unreleased_index(lines: list[str]) -> int:
    """The real Unreleased heading: the one at the start of a line (not inside `<!-- `)."""
    found = [n for n, line in enumerate(lines) if line.startswith("## [Unreleased]")]
    assert len(found) == 1, found
    return found[0]


def section(lines: list[str], start: int) -> list[str]:
    """The lines after heading `start` up to the next level-2 heading or the end."""
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), len(lines))
    return lines[start + 1 : end]


def with_crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


@pytest.mark.parametrize("name", FILES)
def test_every_original_line_is_kept_in_order(name: str) -> None:
    before = read(name)
    after = release_changelog(before, "v37-6", DAY)
    old, new = lines_of(before), lines_of(after)
    start = unreleased_index(old)
    assert unreleased_index(new) == start
    eol = "\r\n" if old[start].endswith("\r\n") else "\n"
    repo = FILES[name]

    # The owned lines: the rewritten link, and a blank line plus the new heading after it.
    assert new[start] == old[start].replace("/v37-5...HEAD)", "/v37-6...HEAD)")
    assert new[start].rstrip("\r\n").endswith(old[start].rstrip("\r\n")[-20:])
    assert "YYYY-MM-DD" in new[start]
    assert new[start + 1] == eol
    assert new[start + 2] == (
        f"## [v37-6](https://github.com/cyverse/{repo}/compare/v37-5...v37-6) - 2026-12-01{eol}"
    )

    kept = new[:start] + [old[start]] + new[start + 3 :]
    assert kept == old
    assert Counter(kept) == Counter(old)
    assert len(new) == len(old) + 2


@pytest.mark.parametrize("name", FILES)
def test_new_section_holds_exactly_the_unreleased_items(name: str) -> None:
    before = read(name)
    old = lines_of(before)
    new = lines_of(release_changelog(before, "37-6", DAY))
    start = unreleased_index(old)
    assert section(new, start + 2) == section(old, start)
    assert section(new, start) == [new[start + 1]]  # Unreleased keeps only a blank line
    assert new[start + 1].strip() == ""


def test_crlf_trailing_whitespace_and_missing_final_newline_survive() -> None:
    before = read("troposphere-crlf.md")
    assert "\r\n" in before and not before.endswith("\n"), "test data lost its CRLF shape"
    after = release_changelog(before, "v37-6", DAY)
    assert after.count("\r\n") == before.count("\r\n") + 2
    assert after.count("\n") == after.count("\r\n")
    assert not after.endswith("\n")
    assert after.endswith(before[-60:])
    assert "- YYYY-MM-DD  \r\n" in after
    assert "(#850)   \r\n" in after


def test_crlf_variant_of_the_atmosphere_file() -> None:
    before = with_crlf(read("atmosphere.md"))
    after = release_changelog(before, "v37-6", DAY)
    assert after == with_crlf(release_changelog(read("atmosphere.md"), "v37-6", DAY))


def test_template_heading_inside_html_comment_is_not_the_real_one() -> None:
    before = read("template-comment.md")
    after = release_changelog(before, "v37-6", DAY)
    comment = before[: before.index("-->")]
    assert after.startswith(comment)
    assert (
        "<!-- ## [Unreleased](https://github.com/cyverse/atmosphere/compare/vA-B...HEAD)" in after
    )


def test_comment_only_unreleased_heading_is_no_heading() -> None:
    text = read("template-comment.md").replace("\n## [Unreleased]", "\n## [Unreleasd]")
    with pytest.raises(ChangelogError, match="no '## \\[Unreleased\\]"):
        release_changelog(text, "v37-6", DAY)


@pytest.mark.parametrize("spelling", ["37-6", "v37-6", "release-v37-6"])
def test_all_release_spellings_give_the_same_text(spelling: str) -> None:
    before = read("atmosphere.md")
    assert release_changelog(before, spelling, DAY) == release_changelog(before, "v37-6", DAY)


def test_major_bump_follows_the_last_release() -> None:
    after = release_changelog(read("atmosphere.md"), "v38-0", DAY)
    assert "compare/v38-0...HEAD) - YYYY-MM-DD\n\n## [v38-0](" in after
    assert (
        "## [v38-0](https://github.com/cyverse/atmosphere/compare/v37-5...v38-0) - 2026-12-01\n"
        in after
    )


ANSIBLE = (
    "# Changelog\n\n"
    "## [Unreleased](https://github.com/cyverse/atmosphere-ansible/compare/v34-1...HEAD)"
    " - YYYY-MM-DD\n### Fixed\n  - Pin the Guacamole version\n\n"
    "## [v34-1](https://github.com/cyverse/atmosphere-ansible/compare/v34-0...v34-1)"
    " - 2019-05-02\n### Fixed\n  - Retry apt on lock\n"
)


@pytest.mark.parametrize(
    ("text", "release", "last"),
    [
        (read("atmosphere.md"), "v37-8", "v37-5"),
        (read("atmosphere.md"), "v38-1", "v37-5"),
        (ANSIBLE, "v37-0", "v34-1"),
    ],
)
def test_a_skip_is_accepted_with_a_note_naming_both_numbers(
    text: str, release: str, last: str
) -> None:
    done = prepare_release(text, release, DAY)
    assert done.note.startswith(f"{release} skips numbers after {last} (the next would be ")
    assert done.text == release_changelog(text, release, DAY)
    assert f"/compare/{last}...{release}) - 2026-12-01\n" in done.text


def test_a_following_release_has_no_note() -> None:
    assert prepare_release(read("atmosphere.md"), "v37-6", DAY).note == ""
    assert prepare_release(read("atmosphere.md"), "v38-0", DAY).note == ""


def test_a_heading_later_than_the_link_is_the_last_release() -> None:
    """atmosphere's own history: its link said v37-0 while a v37-2 heading stood below."""
    before = read("atmosphere.md").replace("v37-5...HEAD", "v37-0...HEAD")
    done = prepare_release(before, "v37-7", DAY)
    assert done.note.startswith("v37-7 skips numbers after v37-5")
    assert prepare_release(before, "v37-6", DAY).note == ""


def test_command_says_the_skip(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_bytes((DATA / "atmosphere.md").read_bytes())
    done = run(path, "--release", "v37-8", "--date", "2026-12-01")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == (
        f"{path}: note: v37-8 skips numbers after v37-5 (the next would be v37-6 or v38-0)"
    )


def test_repo_argument_names_the_link_and_must_agree_with_it() -> None:
    before = read("atmosphere.md")
    assert release_changelog(before, "v37-6", DAY, repo="atmosphere") == release_changelog(
        before, "v37-6", DAY
    )
    with pytest.raises(ChangelogError, match="troposphere"):
        release_changelog(before, "v37-6", DAY, repo="troposphere")


def test_repo_argument_is_used_when_the_link_does_not_name_one() -> None:
    text = "# Changelog\n\n## [Unreleased](../../compare/v37-5...HEAD) - YYYY-MM-DD\n  - item\n"
    with pytest.raises(ChangelogError, match="repo"):
        release_changelog(text, "v37-6", DAY)
    after = release_changelog(text, "v37-6", DAY, repo="troposphere")
    assert "## [Unreleased](../../compare/v37-6...HEAD) - YYYY-MM-DD\n\n" in after
    assert "(https://github.com/cyverse/troposphere/compare/v37-5...v37-6)" in after


def test_item_count_is_top_level_items() -> None:
    assert prepare_release(read("atmosphere.md"), "v37-6", DAY).items == 3
    assert prepare_release(read("troposphere-crlf.md"), "v37-6", DAY).items == 2
    assert prepare_release(read("template-comment.md"), "v37-6", DAY).items == 1


def _emptied(text: str) -> str:
    """The atmosphere file with its Unreleased items deleted, sub-headings left."""
    lines = lines_of(text)
    start = unreleased_index(lines)
    body = section(lines, start)
    kept = [line for line in body if not line.startswith(" ")]
    return "".join(lines[: start + 1] + kept + lines[start + 1 + len(body) :])


REFUSALS = {
    "no heading": (
        lambda t: t.replace("## [Unreleased]", "## Unreleased"),
        "v37-6",
        "no '## \\[Unreleased\\]",
    ),
    "blank section": (
        lambda t: re.sub(r"(YYYY-MM-DD\n).*?(\n## \[v37-5\])", r"\1\n\2", t, flags=re.S),
        "v37-6",
        "no items",
    ),
    "empty sub-headings": (_emptied, "v37-6", "no items"),
    "already has a heading": (lambda t: t, "v37-5", "already has a heading on line 29"),
    "goes backwards": (lambda t: t, "v37-4", "already has a heading"),
    "not later, never released": (
        lambda t: t,
        "v37-3",
        "v37-3 is not later than v37-5, the last release in the changelog "
        "\\(the Unreleased compare link\\): release v37-6 or later",
    ),
    "not later than a heading": (
        lambda t: t.replace("v37-5...HEAD", "v37-2...HEAD"),
        "v37-3",
        "v37-3 is not later than v37-5, the last release in the changelog \\(line 29\\)",
    ),
    "bad spelling": (lambda t: t, "37.6", "not of the form"),
    "two unreleased": (
        lambda t: t.replace(
            "## [v37-5]", "## [Unreleased](https://x/compare/v1-0...HEAD)\n\n## [v37-5]"
        ),
        "v37-6",
        "2 '## \\[Unreleased\\]' headings",
    ),
    "base not a release": (
        lambda t: t.replace("v37-5...HEAD", "v31...HEAD"),
        "v37-6",
        "starts at 'v31'",
    ),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refusals_leave_the_text_untouched(case: str) -> None:
    edit, release, message = REFUSALS[case]
    text = edit(read("atmosphere.md"))
    copy = str(text)
    with pytest.raises(ChangelogError, match=message) as caught:
        release_changelog(text, release, DAY)
    assert text == copy
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


def test_released_file_cannot_be_released_twice() -> None:
    once = release_changelog(read("atmosphere.md"), "v37-6", DAY)
    with pytest.raises(ChangelogError, match="v37-6 already has a heading"):
        release_changelog(once, "v37-6", DAY)
    with pytest.raises(ChangelogError, match="no items"):
        release_changelog(once, "v37-7", DAY)


def test_existing_code_named_heading_counts() -> None:
    text = read("atmosphere.md").replace("v37-5...HEAD", "v28-9...HEAD")
    with pytest.raises(ChangelogError, match="v29-0 already has a heading"):
        release_changelog(text, "v29-0", DAY)


# The command.


def run(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atmo_release.changelog", str(path), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("name", FILES)
def test_command_rewrites_in_place_and_says_what_moved(name: str, tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_bytes((DATA / name).read_bytes())
    done = run(path, "--release", "v37-6", "--date", "2026-12-01")
    assert done.returncode == 0, done.stderr
    assert path.read_bytes().decode() == release_changelog(read(name), "v37-6", DAY)
    assert done.stdout.count("\n") == 1
    assert done.stdout.startswith(f"{path}: moved ")
    assert "## [v37-6](" in done.stdout and "- 2026-12-01" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize("case", REFUSALS)
def test_command_refusal_keeps_the_file_and_exits_2(case: str, tmp_path: Path) -> None:
    edit, release, message = REFUSALS[case]
    path = tmp_path / "CHANGELOG.md"
    original = edit(read("atmosphere.md")).encode()
    path.write_bytes(original)
    done = run(path, "--release", release, "--date", "2026-12-01")
    assert done.returncode == 2
    assert path.read_bytes() == original
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"{path}: ")
    assert re.search(message, done.stderr)


def test_command_refusal_keeps_a_crlf_file(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    original = (DATA / "troposphere-crlf.md").read_bytes()
    path.write_bytes(original)
    done = run(path, "--release", "v37-1")
    assert done.returncode == 2
    assert path.read_bytes() == original
    assert done.stderr.strip() == (
        f"{path}: v37-1 is not later than v37-5, the last release in the changelog "
        "(the Unreleased compare link): release v37-6 or later"
    )


def test_command_date_defaults_to_today(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_bytes((DATA / "atmosphere.md").read_bytes())
    assert main([str(path), "--release", "release-v37-6", "--repo", "atmosphere"]) == 0
    assert f"- {date.today().isoformat()}\n" in path.read_text()
    assert capsys.readouterr().out.startswith(f"{path}: moved 3 items under ## [v37-6](")


def test_command_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "CHANGELOG.md"
    assert main([str(path), "--release", "v37-6"]) == 2
    assert capsys.readouterr().err == f"{path}: No such file or directory\n"


def test_minor_less_major_heading_counts_as_minor_zero() -> None:
    text = read("atmosphere.md").replace("v37-5...HEAD", "v34-9...HEAD")
    with pytest.raises(ChangelogError, match="v35-0 already has a heading on line 55"):
        release_changelog(text, "v35-0", DAY)
