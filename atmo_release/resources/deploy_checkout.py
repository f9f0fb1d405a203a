"""The deploy checkout (atmosphere-docker): local edits saved, then reset to upstream."""

from __future__ import annotations

from pathlib import Path

from atmo_release.checks import CheckFailed, require
from atmo_release.commands import git
from atmo_release.data.dumps import dump_name
from atmo_release.resources import Resource


class DeployCheckout(Resource):
    def update(self) -> None:
        """Save what is local (beside the dumps on the target, and masked in the reports),
        then `git reset --hard` and pull."""
        directory = self.env.deploy_dir
        head = self.run(git.rev_parse(directory, "HEAD"), "git rev-parse HEAD").stdout.strip()
        local = self.run(git.diff(directory), "git diff").stdout
        untracked = self.run(git.status(directory), "git status").stdout
        self.run(git.fetch(directory), "git fetch")
        incoming = self.run(git.incoming(directory), "git log HEAD..@{u}").stdout
        texts = {"local.diff": local, "status.txt": untracked, "incoming.txt": incoming}
        reports = self.deployment.reports_dir
        reports.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            stem, _, suffix = name.partition(".")
            path = dump_name(
                f"deploy-checkout-{stem}",
                self.deployment.day,
                self.env.backup_dir,
                self.target.exists,
                suffix=f".{suffix}",
            )
            self.target.create_exclusive(path, text, 0o600)
            self.state.checkout_saved[name] = text
            self.state.checkout_copies[name] = str(path)
            (reports / f"deploy-checkout-{name}").write_text(self.target.redactor(text))
        self.record.facts["deploy_checkout"] = {
            "local_diff_lines": len(local.splitlines()),
            "incoming_commits": incoming.splitlines(),
            "saved_in": str(self.env.backup_dir),
            "copies_in": str(reports),
        }
        # what a rollback puts back: this commit, with these local changes applied again
        self.state.release_files.update(
            checkout_head=head, local_diff=self.state.checkout_copies["local.diff"]
        )
        self.record.facts["release_files"] = self.state.release_files
        self.note(
            f"saved {len(local.splitlines())} lines of local changes and "
            f"{len(incoming.splitlines())} incoming commits before the reset"
        )
        self.run(git.reset_hard(directory), "git reset --hard")
        self.run(git.pull(directory), "git pull")

    def check_can_fast_forward(self) -> None:
        """Preflight: the `git pull --ff-only` after the reset (HEAD stays where it is) will
        work, so the run cannot halt there with the apps stopped."""
        directory = self.env.deploy_dir
        self.run(git.fetch(directory), "git fetch of the deploy checkout")
        upstream = self.target.run(git.rev_parse(directory, "@{u}"))
        require(
            upstream.ok,
            f"the deploy checkout {directory} has no upstream branch to pull: set one with "
            "git branch --set-upstream-to; nothing was changed",
        )
        if not self.target.run(git.is_ancestor(directory, "HEAD", "@{u}")).ok:
            local = self.run(git.outgoing(directory), "git log @{u}..HEAD").stdout.splitlines()
            raise CheckFailed(
                f"the deploy checkout {directory} cannot fast-forward to its upstream: it has "
                f"{len(local)} commits upstream does not ({'; '.join(local[:3])}); "
                "push or drop them before release day, nothing was changed"
            )
        self.note(f"the deploy checkout can fast-forward to upstream {upstream.stdout.strip()}")

    def check(self) -> None:
        directory = self.env.deploy_dir
        head = self.run(git.rev_parse(directory, "HEAD"), "git rev-parse HEAD").stdout.strip()
        upstream = self.run(git.rev_parse(directory, "@{u}"), "git rev-parse @{u}").stdout.strip()
        require(
            head == upstream,
            f"deploy checkout HEAD {head[:12]} is not the upstream head {upstream[:12]}",
        )
        reports = self.deployment.reports_dir
        for name, text in self.state.checkout_saved.items():
            path = Path(self.state.checkout_copies[name])
            require(
                self.target.exists(path) and self.target.read_text(path) == text,
                f"the saved copy {path} does not hold what was local before the reset",
            )
            masked = reports / f"deploy-checkout-{name}"
            require(
                masked.is_file() and masked.read_text() == self.target.redactor(text),
                f"the report's copy {masked} does not hold what was local before the reset",
            )
