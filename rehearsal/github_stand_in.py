"""The rehearsal's GitHub: one local stand-in with its upload host, named in environment files.

Why a token variable per stand-in: several stacks may run in one process, each with its own
GitHub; the environment file names the variable, as a real one names the operator's.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from rehearsal.fake_github_releases import FakeGitHubReleases

RECORD_REPOSITORY = "cyverse/atmosphere"


def start_github() -> FakeGitHubReleases:
    """Started, with its token exported under `token_env(github)`; stop with `__exit__`."""
    github = FakeGitHubReleases("ghp_" + secrets.token_hex(18)).__enter__()
    os.environ[token_env(github)] = github.token
    return github


def token_env(github: FakeGitHubReleases) -> str:
    port = github.url.rsplit(":", 1)[1]
    return f"ATMO_REHEARSAL_GITHUB_TOKEN_{port}"


def record_table(github: FakeGitHubReleases, draft: bool = False) -> dict[str, Any]:
    """`[release_record]` of an environment file, pointing at the stand-in."""
    return {
        "repository": RECORD_REPOSITORY,
        "draft": draft,
        "api": github.url,
        "uploads": github.uploads_url,
        "token_env": token_env(github),
    }


def record_toml(github: FakeGitHubReleases) -> str:
    table = record_table(github)
    lines = [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return "\n[release_record]\n" + "\n".join(lines) + "\n"
