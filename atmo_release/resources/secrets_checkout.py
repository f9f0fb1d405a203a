"""The secrets checkout: its branch, its settings files, and every value in them masked."""

from __future__ import annotations

import os

from atmo_release import secrets
from atmo_release.checks import require
from atmo_release.commands import git
from atmo_release.resources import Resource


class SecretsCheckout(Resource):
    def load(self) -> None:
        """Learn every secret value before anything is printed, and the database password."""
        directory = self.env.secrets_dir
        values = secrets.all_branch_secrets(self.target, directory)
        path, _, key = self.env.database.password_from.partition(":")
        settings = secrets.read_settings(self.target, directory, path)
        require(
            bool(settings.get(key)),
            f"{directory / path} has no {key}: the database password is needed",
        )
        self.deployment.password = settings[key]
        smoke = [os.environ.get(name, "") for name in self.env.smoke.variables()]
        self.target.redactor.add([*values, self.deployment.password, *smoke])
        self.note(f"{len(self.target.redactor)} secret values are masked in every report")

    def check_out(self) -> None:
        directory = self.env.secrets_dir
        self.state.secrets_head_before = self.run(
            git.rev_parse(directory, "HEAD"), "git rev-parse"
        ).stdout.strip()
        # what a rollback checks out again (a detached HEAD: its commit)
        branch = self.target.run(git.current_branch(directory)).stdout.strip()
        self.state.release_files["secrets_branch"] = branch or self.state.secrets_head_before
        self.record.facts["release_files"] = self.state.release_files
        self.run(
            git.checkout(directory, self.env.secrets_branch),
            f"checkout of secrets branch {self.env.secrets_branch}",
        )

    def is_on_branch(self) -> bool:
        """On the environment's branch, with nothing uncommitted."""
        directory = self.env.secrets_dir
        branch = self.target.run(git.current_branch(directory)).stdout.strip()
        clean = not self.target.run(git.status(directory)).stdout.strip()
        return branch == self.env.secrets_branch and clean

    def check(self) -> None:
        directory = self.env.secrets_dir
        branch = self.target.run(git.current_branch(directory)).stdout.strip()
        require(
            branch == self.env.secrets_branch,
            f"secrets checkout is on {branch or 'a detached HEAD'}, expected "
            f"{self.env.secrets_branch}",
        )
        dirty = self.target.run(git.status(directory)).stdout.strip()
        require(not dirty, f"secrets checkout has uncommitted changes: {dirty.splitlines()[:5]}")
        settings = {
            path: secrets.read_settings(self.target, directory, path)
            if self.target.exists(directory / path)
            else None
            for path in secrets.SETTINGS_FILES
        }
        missing = secrets.lacking(settings, self.env.required_keys)
        require(not missing, f"the secrets checkout lacks {', '.join(missing)}")
        self.target.redactor.add(
            v for s in settings.values() for v in secrets.secret_values(s or {})
        )

    def check_branch(self) -> None:
        """Preflight: the branch "Check out the secrets" will check out, read from the
        repository without touching the working tree, has what the apps need."""
        directory, branch = self.env.secrets_dir, self.env.secrets_branch
        require(
            self.target.run(git.has_branch(directory, branch)).ok,
            f"the secrets checkout {directory} has no branch {branch}: fetch it, or correct "
            f"secrets.branch in {self.env.path}; nothing was changed",
        )
        settings = secrets.files_at(self.target, directory, f"refs/heads/{branch}")
        self.target.redactor.add(
            v for s in settings.values() for v in secrets.secret_values(s or {})
        )
        missing = secrets.lacking(settings, self.env.required_keys)
        require(
            not missing,
            f"the secrets branch {branch} lacks {', '.join(missing)}: commit it to the branch "
            "in the secrets checkout, then run again; nothing was changed",
        )
        self.note(f"the secrets branch {branch} has every key the apps need")

    def list_changes(self, last_commit: str | None) -> dict[str, list[str]]:
        """Keys changed since the last recorded deployment (or the previous checkout)."""
        directory = self.env.secrets_dir
        head = self.run(
            git.rev_parse(directory, "HEAD"), f"reading the commit checked out in {directory}"
        ).stdout.strip()
        since = "the last recorded deployment"
        if not last_commit or not self.target.run(git.has_commit(directory, last_commit)).ok:
            last_commit, since = self.state.secrets_head_before, "the commit checked out before"
        changes = secrets.key_changes(
            secrets.settings_at(self.target, directory, last_commit),
            secrets.settings_at(self.target, directory, head),
        )
        self.record.facts["secrets_commit"] = head
        self.record.facts["secrets_changes"] = {"since": f"{last_commit} ({since})", **changes}
        for kind, keys in changes.items():
            self.note(f"secrets keys {kind} since {since}: {', '.join(keys) or 'none'}")
        return changes
