"""One delimited block per environment and run in a release's body, beside what people wrote.

Why delimiters: GitHub replaces a release body wholesale, so each run re-reads the body and
swaps only the text between its own markers; everything outside them is kept as it was.
"""

from __future__ import annotations

import re
from typing import Any

MAX_BODY = 125_000


def markers(env: str, run_id: str) -> tuple[str, str]:
    return (
        f"<!-- atmo-release:begin env={env} run={run_id} -->",
        f"<!-- atmo-release:end env={env} run={run_id} -->",
    )


def with_block(body: str, env: str, run_id: str, text: str) -> str:
    """`body` with this run's block replaced by `text`, or `text` appended as a new block."""
    begin, end = markers(env, run_id)
    block = f"{begin}\n{text.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(body):
        updated = pattern.sub(lambda _: block, body, count=1)
    else:
        updated = f"{body.rstrip()}\n\n{block}\n" if body.strip() else f"{block}\n"
    if len(updated) > MAX_BODY:
        raise ValueError(f"the release body would pass GitHub's {MAX_BODY} characters")
    return updated


def run_block(
    record: dict[str, Any], images: dict[str, str], links: dict[str, str], elsewhere: str = ""
) -> str:
    """Outcome, who, when, images, where it halted, links to the assets (or where the files
    are when none could be attached)."""
    lines = [
        f"### {record['env']}: {record['outcome']} ({record['release']}, run {record['run_id']})",
        "",
        f"- crew chief {record['crew_chief']}, driver {record['driver']}",
        f"- started {record['started']}, finished {record.get('finished') or '-'}",
    ]
    lines += [f"- image `{image}`" for image in images.values()]
    if record.get("previous_release"):
        lines.append(f"- previous release {record['previous_release']}")
    if record.get("halted_at"):
        lines.append(f"- halted at: {record['halted_at']}")
    if record.get("next_safe_command"):
        lines.append(f"- next safe command: `{record['next_safe_command']}`")
    if links:
        lines.append("- reports: " + ", ".join(f"[{n}]({url})" for n, url in links.items()))
    if elsewhere:
        lines.append(f"- reports not attached: {elsewhere}")
    return "\n".join(lines)
