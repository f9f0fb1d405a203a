"""The compose file's image tags: the only lines a run edits in the deploy checkout."""

from __future__ import annotations

from atmo_release import compose_tags
from atmo_release.checks import CheckFailed, require
from atmo_release.commands import git
from atmo_release.resources import Resource


class ComposeEdit(Resource):
    def committed_text(self) -> str:
        """The compose file as the deploy checkout's HEAD has it: the base of every edit."""
        return self.run(
            git.show(self.env.deploy_dir, "HEAD", self.env.compose_file),
            "git show of the committed compose file",
        ).stdout

    def known_services(self) -> set[str]:
        """The services the environment file describes (the database's, when it runs in
        the compose project)."""
        database = self.env.database
        return set(self.env.services) | (
            {database.service} if database.where == "service" else set()
        )

    def check_services_known(self) -> None:
        """Preflight: the compose file now (what `stop` acts on) and as upstream has it (what
        `up -d` starts after the pull) name only services the environment knows, which the
        run pulls, checks and rolls back; anything else would start unchecked in the window."""
        path, known = self.env.compose_path, self.known_services()
        texts = {
            f"{path}": self.target.read_text(path),
            f"{path.name} upstream": self.run(
                git.show(self.env.deploy_dir, "@{u}", self.env.compose_file),
                "git show of upstream's compose file",
            ).stdout,
        }
        for where, text in texts.items():
            try:
                unknown = sorted(set(compose_tags.services(text)) - known)
            except compose_tags.ComposeFileError as error:
                raise CheckFailed(f"{where} cannot be read: {error}") from error
            require(
                not unknown,
                f"{where} names the service {', '.join(unknown)} that {self.env.path} does not "
                f"know: add [services.<name>] there or remove it from the compose file; "
                "nothing was changed",
            )
        self.note(f"the compose file names only known services: {', '.join(sorted(known))}")

    def set_tags(self, tags: dict[str, str]) -> None:
        """Write `tags` into the image lines; a file that already has them is not written."""
        path = self.env.compose_path
        current = self.target.read_text(path)
        updated = compose_tags.set_image_tags(current, tags)
        if updated == current:
            self.note(f"{path.name} already names those images; not edited again")
            return
        self.target.write_text(path, updated)
        for number, old, new in compose_tags.changed_lines(current, updated):
            self.note(f"{path.name}:{number}: {old.strip()} -> {new.strip()}")

    def set_release_tags(self) -> None:
        self.state.compose_edited = True
        self.set_tags({app: self.deployment.release.image_tag for app in self.apps})

    def check_release_tags(self) -> None:
        """Compose's `config` shows the release's images, and only image lines changed. Read
        by meaning, the images per service: v1 and v2 print the file differently."""
        command = f"{self.compose.name} config"
        config = self.run(self.compose.config(), command)
        try:
            images = compose_tags.config_images(config.stdout)
        except compose_tags.ComposeFileError as error:
            raise CheckFailed(f"{command} printed what cannot be read: {error}") from error
        for app in self.apps:
            shown = images.get(app)
            require(
                shown == self.release_image(app),
                f"{command} shows {app} image {shown!r}, expected {self.release_image(app)!r}",
            )
        text = self.target.read_text(self.env.compose_path)
        for number, old, new in compose_tags.changed_lines(self.committed_text(), text):
            require(
                old.strip().startswith("image:") and new.strip().startswith("image:"),
                f"the compose edit changed line {number} which is not an image line: "
                f"{old.strip()!r} -> {new.strip()!r}",
            )
