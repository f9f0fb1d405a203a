"""The GitHub deployment that carries a run: `in_progress` at its start, its outcome at the end.

Why a deployment beside the release: GitHub's Environments page then shows what ran where, and
the status's log URL opens the attached record.
"""

from __future__ import annotations

from typing import Any

from atmo_release.github.pull_requests import GitHubError
from atmo_release.github.releases import GitHubReleases, Repository
from atmo_release.release import Release


def state_of(outcome: str) -> str:
    """passed -> success; halted (rolled back or not) -> failure; anything else -> error."""
    if outcome == "passed":
        return "success"
    return "failure" if outcome.startswith("halted") else "error"


def start(client: GitHubReleases, repo: Repository, record: dict[str, Any]) -> dict[str, Any]:
    """A deployment of the tag to the environment, set `in_progress`; what the record keeps."""
    tag = Release.parse(record["release"]).git_tag
    deployment = client.create_deployment(
        repo, tag, record["env"], {"run_id": record["run_id"], "release": record["release"]}
    )
    status = client.set_status(
        repo,
        int(deployment["id"]),
        "in_progress",
        f"{record['release']} on {record['env']}, driver {record['driver']}",
    )
    return {"repository": str(repo), "id": deployment["id"], "state": status["state"]}


def finish(
    client: GitHubReleases,
    repo: Repository,
    deployment_id: int,
    outcome: str,
    log_url: str,
    halted_at: str = "",
) -> str:
    """Post the outcome's state and read it back as GitHub's newest status; that state."""
    state = state_of(outcome)
    description = f"{outcome}: halted at {halted_at}" if halted_at else outcome
    client.set_status(repo, deployment_id, state, description, log_url)
    statuses = client.statuses(repo, deployment_id)
    newest = statuses[0]["state"] if statuses else "none"
    if newest != state:
        raise GitHubError(f"deployment {deployment_id} reads back {newest}, not {state}")
    return state
