"""The deploy and secrets repositories of a first deployment: cloned into fresh directories,
on the environment's branch, at their upstream heads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from atmo_release.checks import require
from atmo_release.commands import git, read
from atmo_release.resources import Resource
from atmo_release.resources.secrets_checkout import SecretsCheckout

if TYPE_CHECKING:
    from atmo_release.resources.run import Run


@dataclass(frozen=True)
class Sources:
    """Where the two repositories are cloned from (URLs, or paths in the rehearsal)."""

    deploy: str
    secrets: str


class FreshClones(Resource):
    def __init__(self, deployment: Run, sources: Sources) -> None:
        super().__init__(deployment)
        self.sources = sources

    def _fresh(self, directory: Path) -> None:
        first = self.target.run(
            read(["find", str(directory), "-mindepth", "1", "-maxdepth", "1", "-print", "-quit"])
        )
        require(
            not first.ok or not first.stdout.strip(),
            f"{directory} exists and is not empty: a first deployment clones into a fresh "
            "directory (move the old one aside)",
        )

    def clone(self) -> None:
        deploy_dir, secrets_dir = self.env.deploy_dir, self.env.secrets_dir
        self._fresh(deploy_dir)
        self._fresh(secrets_dir)
        self.run(git.clone(self.sources.deploy, deploy_dir), "git clone atmosphere-docker")
        self.run(
            git.clone(self.sources.secrets, secrets_dir), "git clone atmosphere-docker-secrets"
        )
        self.run(
            git.checkout(secrets_dir, self.env.secrets_branch),
            f"git checkout {self.env.secrets_branch} in the secrets",
        )
        self.resource(SecretsCheckout).load()

    def _upstream_head(self, source: str, ref: str) -> str:
        lines = self.run(git.ls_remote(source, ref), f"git ls-remote {ref}").stdout.split()
        require(bool(lines), f"the upstream {source} has no {ref}")
        return lines[0]

    def _head(self, directory: Path) -> str:
        return self.run(
            git.rev_parse(directory, "HEAD"), f"git rev-parse in {directory}"
        ).stdout.strip()

    def check(self) -> None:
        deploy_dir, secrets_dir = self.env.deploy_dir, self.env.secrets_dir
        branch = self.env.secrets_branch
        heads: dict[str, str] = {}
        for directory, source, ref in (
            (deploy_dir, self.sources.deploy, "HEAD"),
            (secrets_dir, self.sources.secrets, f"refs/heads/{branch}"),
        ):
            require(self.target.exists(directory / ".git"), f"{directory} is not a git checkout")
            head, upstream = self._head(directory), self._upstream_head(source, ref)
            require(
                head == upstream,
                f"{directory} is at {head[:12]}, the upstream's {ref} is at {upstream[:12]}",
            )
            dirty = self.run(git.status(directory), f"git status in {directory}").stdout
            require(not dirty.strip(), f"{directory} has local changes: {dirty.strip()[:200]}")
            heads[directory.name] = head
        on = self.run(git.current_branch(secrets_dir), "git symbolic-ref").stdout.strip()
        require(on == branch, f"the secrets checkout is on {on or 'a detached HEAD'}, not {branch}")
        require(
            self.target.exists(self.env.compose_path),
            f"the deploy checkout has no {self.env.compose_file}",
        )
        self.record.facts["checkout_heads"] = heads
