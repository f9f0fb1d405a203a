"""Release a Keep a Changelog file: move the Unreleased items under a new release heading.

CyVerse's CHANGELOG.md files are hand-edited and irregular (template comments, code-named
releases, skipped numbers, CRLF, trailing spaces), so the rewrite owns exactly two things: the
compare link of the Unreleased heading and two inserted lines (a blank line and the new heading).
Every other line is kept byte for byte, in order.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from atmo_release.release import Release, ReleaseError

# Up to three spaces of indent still make an ATX heading (CommonMark); more is a code block.
_SECTION_END = re.compile(r"^ {0,3}#{1,2}(?:[ \t]|$)")
_LEVEL2 = re.compile(r"^ {0,3}##[ \t]+(?P<title>.*?)[ \t]*$")
_UNRELEASED = re.compile(r"^ {0,3}##[ \t]+\[Unreleased\]", re.IGNORECASE)
_COMPARE_HEAD = re.compile(
    r"\((?P<url>[^()\s]*?/compare/)(?P<base>[^()\s]+?)\.\.\.HEAD\)", re.IGNORECASE
)
_GITHUB = re.compile(r"github\.com/(?P<owner>[^/\s]+)/(?P<repo>[^/\s]+)/compare/$", re.IGNORECASE)
_SUBHEADING = re.compile(r"^ {0,3}#{3,6}(?:[ \t]|$)")
_LIST_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d+[.)])(?:[ \t]|$)")
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")
_LINK = re.compile(r"\([^()\s]*/[^()\s]*\)")
_NUMBER = re.compile(
    r"(?<![\w.-])(?:release-)?(?:v?(?P<major>\d+)-(?P<minor>\d+)|v(?P<bare>\d+))(?![\w-])",
    re.IGNORECASE,
)


class ChangelogError(ValueError):
    """A changelog that cannot be released as asked; the text is left as it was."""


@dataclass(frozen=True)
class ReleasedChangelog:
    """The rewritten text plus what the command reports about it."""

    text: str
    heading: str
    items: int
    note: str = ""  # a skip of release numbers, said aloud but accepted


def _split_lines(text: str) -> list[str]:
    """Lines with their own endings, split on LF only, so CR, CRLF and a last line stay exact."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _body(line: str) -> str:
    return line.rstrip("\r\n")


def _ending(line: str) -> str:
    return line[len(_body(line)) :]


def _markdown_lines(lines: list[str]) -> list[bool]:
    """For each line, whether it starts outside an HTML comment and a code fence.

    Why: the template heading kept inside `<!-- ... -->` must not be taken for a real heading.
    """
    live: list[bool] = []
    in_comment = in_fence = False
    for line in lines:
        body = _body(line)
        live.append(not in_comment and not in_fence)
        if not in_comment and _FENCE.match(body):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        position = 0
        while True:
            marker = "-->" if in_comment else "<!--"
            found = body.find(marker, position)
            if found < 0:
                break
            in_comment = not in_comment
            position = found + len(marker)
    return live


def _label(title: str) -> str:
    """The name part of a heading title: `[v37-5](link) - date` -> `v37-5`."""
    if title.startswith("["):
        end = title.find("]")
        return title[1:end] if end > 0 else title
    return re.split(r"\s+-\s+|\(", title, maxsplit=1)[0]


def _names_release(title: str, release: Release) -> bool:
    """Whether a heading is for `release`, also as `Comet (v37-6)` or `release-v37-6`.

    Old majors were tagged without a minor (`v29`, `v30`); such a heading is taken as `-0`.
    """
    name = rf"v?{release.major}-{release.minor}"
    if release.minor == 0:
        name = rf"(?:{name}|v{release.major})"
    pattern = rf"(?<![\w.-])(?:release-)?{name}(?![\w-])"
    return re.search(pattern, _label(title), re.IGNORECASE) is not None


def _releases_named(lines: list[str], live: list[bool], start: int) -> list[tuple[Release, int]]:
    """(release, line index) of every release a level-2 heading other than Unreleased names;
    links are left out, since a compare link also names the release before."""
    found: list[tuple[Release, int]] = []
    for n, line in enumerate(lines):
        title = _LEVEL2.match(_body(line))
        if not live[n] or n == start or not title:
            continue
        words = _LINK.sub(" ", title["title"])
        for match in _NUMBER.finditer(words):
            major = match["major"] or match["bare"]
            found.append((Release(int(major), int(match["minor"] or 0)), n))
    return found


def _order(wanted: Release, previous: Release, named: list[tuple[Release, int]]) -> str:
    """Refuse a release not later than the last one in the changelog; a note when it skips.

    Why a skip is accepted: CyVerse numbers the repositories' releases together, so one
    repository may go from v34-1 straight to v37-0.
    """
    last, where = previous, "the Unreleased compare link"
    for release, n in named:
        if release > last:
            last, where = release, f"line {n + 1}"
    if wanted <= last:
        raise ChangelogError(
            f"{wanted.name} is not later than {last.name}, the last release in the changelog "
            f"({where}): release {Release(last.major, last.minor + 1).name} or later"
        )
    following = (Release(last.major, last.minor + 1), Release(last.major + 1, 0))
    if wanted in following:
        return ""
    return (
        f"{wanted.name} skips numbers after {last.name} "
        f"(the next would be {following[0].name} or {following[1].name})"
    )


def _count_items(section: list[str], live: list[bool]) -> tuple[int, int]:
    """(top-level list items, other content lines) of a section, ignoring comments/sub-headings."""
    indents: list[int] = []
    content = 0
    for line, is_live in zip(section, live, strict=True):
        body = _body(line)
        if not is_live or not body.strip() or _SUBHEADING.match(body):
            continue
        if body.lstrip().startswith("<!--"):
            continue
        content += 1
        item = _LIST_ITEM.match(body)
        if item:
            indents.append(len(item["indent"].expandtabs(4)))
    if not indents:
        return 0, content
    top = min(indents)
    return sum(1 for indent in indents if indent == top), content


def prepare_release(
    text: str, release: str, day: date, repo: str | None = None
) -> ReleasedChangelog:
    """Plan the release of `text`; raise ChangelogError (text untouched) when it would be wrong."""
    try:
        wanted = Release.parse(release)
    except ReleaseError as error:
        raise ChangelogError(str(error)) from None
    lines = _split_lines(text)
    live = _markdown_lines(lines)

    starts = [n for n, line in enumerate(lines) if live[n] and _UNRELEASED.match(_body(line))]
    if not starts:
        raise ChangelogError("there is no '## [Unreleased](...)' heading to release from")
    if len(starts) > 1:
        raise ChangelogError(
            f"there are {len(starts)} '## [Unreleased]' headings (lines "
            + ", ".join(str(n + 1) for n in starts)
            + "); keep only one"
        )
    start = starts[0]
    heading = _body(lines[start])

    link = _COMPARE_HEAD.search(heading)
    if not link:
        raise ChangelogError(
            "the Unreleased heading has no '(.../compare/vA-B...HEAD)' link naming the last release"
        )
    try:
        previous = Release.parse(link["base"])
    except ReleaseError:
        raise ChangelogError(
            f"the Unreleased compare link starts at {link['base']!r}, "
            "which is not a release of the form vMAJOR-MINOR"
        ) from None

    github = _GITHUB.search(link["url"])
    if repo is None:
        if not github:
            raise ChangelogError(
                f"cannot tell the repository from the link {link['url']!r}; pass the repo name"
            )
        repo = github["repo"]
    elif github and github["repo"].lower() != repo.lower():
        raise ChangelogError(
            f"the Unreleased link is for repository {github['repo']!r}, not {repo!r}"
        )
    owner = github["owner"] if github else "cyverse"

    for n, line in enumerate(lines):
        title = _LEVEL2.match(_body(line))
        if live[n] and n != start and title and _names_release(title["title"], wanted):
            raise ChangelogError(f"{wanted.name} already has a heading on line {n + 1}")

    note = _order(wanted, previous, _releases_named(lines, live, start))

    end = next(
        (
            n
            for n in range(start + 1, len(lines))
            if live[n] and _SECTION_END.match(_body(lines[n]))
        ),
        len(lines),
    )
    items, content = _count_items(lines[start + 1 : end], live[start + 1 : end])
    if not content:
        raise ChangelogError(f"the Unreleased section (line {start + 1}) has no items to release")

    eol = _ending(lines[start]) or "\n"
    base = f"https://github.com/{owner}/{repo}/compare/"
    new_heading = f"## [{wanted.name}]({base}{previous.name}...{wanted.name}) - {day.isoformat()}"
    rewritten = (
        heading[: link.start("base")]
        + wanted.name
        + heading[link.end("base") :]
        + _ending(lines[start])
    )
    out = lines[:start] + [rewritten, eol, new_heading + eol] + lines[start + 1 :]
    return ReleasedChangelog("".join(out), new_heading, items or content, note)


def release_section(text: str, release: Release) -> str:
    """The section of `release` (its heading and items, up to the next heading), as written;
    the body of the release's GitHub release."""
    lines = _split_lines(text)
    live = _markdown_lines(lines)
    for n, line in enumerate(lines):
        title = _LEVEL2.match(_body(line))
        if live[n] and title and _names_release(title["title"], release):
            end = next(
                (m for m in range(n + 1, len(lines)) if live[m] and _SECTION_END.match(lines[m])),
                len(lines),
            )
            return "\n".join(_body(item).rstrip() for item in lines[n:end]).strip() + "\n"
    raise ChangelogError(f"the changelog has no section for {release.name}")


def release_changelog(text: str, release: str, day: date, repo: str | None = None) -> str:
    """`text` with the Unreleased items moved under a heading for `release` dated `day`.

    `release` may be spelt 37-6, v37-6 or release-v37-6. The Unreleased heading keeps its
    `YYYY-MM-DD` placeholder and gets a compare link starting at the new release.
    """
    return prepare_release(text, release, day, repo).text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atmo_release.changelog",
        description="Move the Unreleased items of a CHANGELOG.md under a new release heading.",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--release", required=True, help="37-6, v37-6 or release-v37-6")
    parser.add_argument(
        "--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
    )
    parser.add_argument("--repo", default=None, help="default: from the Unreleased compare link")
    args = parser.parse_args(argv)
    day = args.date or date.today()
    try:
        # Bytes, not read_text(): universal newlines would turn CRLF into LF on the way back.
        text = args.file.read_bytes().decode("utf-8")
        result = prepare_release(text, args.release, day, args.repo)
    except (OSError, UnicodeDecodeError, ChangelogError) as error:
        message = error.strerror if isinstance(error, OSError) and error.strerror else error
        print(f"{args.file}: {message}", file=sys.stderr)
        return 2
    args.file.write_bytes(result.text.encode("utf-8"))
    noun = "item" if result.items == 1 else "items"
    print(f"{args.file}: moved {result.items} {noun} under {result.heading}")
    if result.note:
        print(f"{args.file}: note: {result.note}")
    return 0
