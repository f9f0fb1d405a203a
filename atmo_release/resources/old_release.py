"""The release that ran before: its images, its compose file, the deploy checkout's commit with
its local changes, and the secrets branch, brought back for a rollback and read back after."""

from __future__ import annotations

from pathlib import Path

from atmo_release import compose_tags
from atmo_release.checks import CheckFailed, require
from atmo_release.commands import docker, git
from atmo_release.data import dumps
from atmo_release.resources import Resource
from atmo_release.resources.containers import Containers, image_labels


class OldRelease(Resource):
    @property
    def images(self) -> dict[str, str]:
        """The image each app ran before the release, as its container named it."""
        return dict(self.state.previous_images)

    def make_images_ready(self) -> None:
        """Each old image on the deploy host: there already, pulled, or, when the registry no
        longer has it, tagged from the backup image of its container."""
        how: dict[str, str] = {}
        for app, image in self.images.items():
            if image_labels(self.target, image) is not None:
                how[app] = "on the host"
                continue
            pulled = self.target.run(docker.pull(image), timeout=1800)
            if pulled.ok:
                how[app] = "pulled"
                continue
            backup = self.resource(Containers).backup_name(app)
            require(
                image_labels(self.target, backup) is not None,
                f"{image} is neither on the deploy host nor in its registry "
                f"({pulled.tail(1)}), and there is no backup image {backup}: publish it "
                "again; nothing was changed",
            )
            self.run(docker.tag(backup, image), f"docker tag {backup} {image}")
            how[app] = f"from the backup image {backup}"
        self.record.facts["old_images"] = how
        self.note("the old release's images: " + ", ".join(f"{a} {h}" for a, h in how.items()))

    def check_images(self) -> None:
        missing = [i for i in self.images.values() if image_labels(self.target, i) is None]
        require(
            bool(self.images) and not missing,
            f"the old release's images {', '.join(missing) or '(none recorded)'} are not on the "
            "deploy host",
        )

    def bring_back_files(self) -> None:
        """The deploy checkout back at the commit it was on before the release, its local
        changes applied again (what it holds now is saved first), and the secrets checkout
        on the branch it was on."""
        files, directory = self.state.release_files, self.env.deploy_dir
        require(
            bool(files.get("checkout_head")) and bool(files.get("secrets_branch")),
            "the deployment's record does not say which deploy checkout commit and secrets "
            "branch ran before it: put them back by hand (git reflog), then run again",
        )
        saved = dumps.dump_name(
            "deploy-checkout-rollback-local",
            self.deployment.day,
            self.env.backup_dir,
            self.target.exists,
            suffix=".diff",
        )
        self.target.create_exclusive(saved, self.run(git.diff(directory), "git diff").stdout, 0o600)
        self.run(git.reset_hard_to(directory, files["checkout_head"]), "git reset --hard")
        if self.target.read_text(Path(files["local_diff"])).strip():
            self.run(git.apply(directory, files["local_diff"]), "git apply of the local changes")
        self.run(
            git.checkout(self.env.secrets_dir, files["secrets_branch"]),
            f"checkout of the secrets branch {files['secrets_branch']}",
        )
        self.record.facts["release_files_back"] = {**files, "saved_before": str(saved)}
        self.note(
            f"deploy checkout back at {files['checkout_head'][:12]} with its local changes "
            f"(what it held is saved in {saved}); secrets on {files['secrets_branch']}"
        )

    def check_files(self) -> None:
        """Read back: the checkout's commit and local changes, the compose file's images, the
        secrets branch with a clean tree."""
        files, directory = self.state.release_files, self.env.deploy_dir
        head = self.run(git.rev_parse(directory, "HEAD"), "git rev-parse HEAD").stdout.strip()
        require(
            head == files.get("checkout_head"),
            f"the deploy checkout is at {head[:12]}, not {files.get('checkout_head', '?')[:12]} "
            "from before the release",
        )
        local = self.run(git.diff(directory), "git diff").stdout
        require(
            local == self.target.read_text(Path(files["local_diff"])),
            "the deploy checkout's local changes are not those saved before the release",
        )
        text = self.target.read_text(self.env.compose_path)
        shown = compose_tags.read_images(text)
        wrong = [f"{a}: {shown.get(a)}" for a, i in self.images.items() if shown.get(a) != i]
        require(not wrong, f"the compose file names {', '.join(wrong)}, not the old release")
        branch = self.target.run(git.current_branch(self.env.secrets_dir)).stdout.strip()
        secrets_head = self.run(
            git.rev_parse(self.env.secrets_dir, "HEAD"), "git rev-parse HEAD"
        ).stdout.strip()
        want = files["secrets_branch"]
        require(
            want in (branch, secrets_head),
            f"the secrets checkout is on {branch or secrets_head[:12]}, not {want}",
        )
        dirty = self.target.run(git.status(self.env.secrets_dir)).stdout.strip()
        if dirty:
            raise CheckFailed(f"the secrets checkout has uncommitted changes: {dirty[:200]}")
        self.note(f"read back: checkout {head[:12]} with its local changes, secrets on {want}")
