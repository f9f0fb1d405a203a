"""The compose file's image tags: the only lines a run edits in the deploy checkout."""

from __future__ import annotations

import hashlib

from atmo_release import compose_tags
from atmo_release.checks import CheckFailed, require
from atmo_release.commands import git
from atmo_release.resources import Resource
from atmo_release.resources.private_files import private_file


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

    def release_tags(self) -> dict[str, str]:
        return {app: self.deployment.release.image_tag for app in self.apps}

    def set_release_tags(self) -> None:
        self.state.compose_edited = True
        self.set_tags(self.release_tags())

    def check_upstream_release_tags(self) -> None:
        """Preflight: upstream's compose file with the release's tags, the file `up -d` will
        read after the pull, shows the release's images in compose's own `config`, before
        anything changes. Inside the window the edited file is judged by this reading when it
        is the same text with the same `.env` (compose's whole input for an image line)."""
        path = self.env.compose_path
        upstream = self.run(
            git.show(self.env.deploy_dir, "@{u}", self.env.compose_file),
            "git show of upstream's compose file",
        ).stdout
        try:
            text = compose_tags.set_image_tags(upstream, self.release_tags())
        except compose_tags.ComposeFileError as error:
            raise CheckFailed(
                f"{path.name} upstream cannot take the release's tags: {error}"
            ) from error
        command = f"{self.compose.name} config of upstream's {path.name} with the release's tags"
        if self.deployment.planning:
            self.note(f"{command} would be read")
            return
        with private_file(self.deployment, path.name, text, 0o644) as copy:
            config = self.run(self.compose.config_of(str(copy), str(path.parent)), command)
        self._require_release_images(config.stdout, command)
        self.state.config_read_ahead = self._inputs(text)
        self.note(f"{command} shows the release's images")

    def check_release_tags(self) -> None:
        """Compose's `config` shows the release's images, and only image lines changed. Read
        by meaning, the images per service: v1 and v2 print the file differently."""
        command = f"{self.compose.name} config"
        text = self.target.read_text(self.env.compose_path)
        if self.state.config_read_ahead and self.state.config_read_ahead == self._inputs(text):
            self.note(
                f"{command}: the compose file and .env are, byte for byte, what it read in "
                "preflight, where it showed the release's images; not run again"
            )
        else:
            self._require_release_images(self.run(self.compose.config(), command).stdout, command)
        for number, old, new in compose_tags.changed_lines(self.committed_text(), text):
            require(
                old.strip().startswith("image:") and new.strip().startswith("image:"),
                f"the compose edit changed line {number} which is not an image line: "
                f"{old.strip()!r} -> {new.strip()!r}",
            )

    def _require_release_images(self, printed: str, command: str) -> None:
        try:
            images = compose_tags.config_images(printed)
        except compose_tags.ComposeFileError as error:
            raise CheckFailed(f"{command} printed what cannot be read: {error}") from error
        for app in self.apps:
            shown = images.get(app)
            require(
                shown == self.release_image(app),
                f"{command} shows {app} image {shown!r}, expected {self.release_image(app)!r}",
            )

    def _inputs(self, text: str) -> dict[str, str]:
        """Digests of what compose reads to print an image line: the file and the `.env` beside
        it (none: "")."""
        dotenv = self.env.compose_path.parent / ".env"
        env_text = self.target.read_text(dotenv) if self.target.exists(dotenv) else ""
        return {
            "compose": hashlib.sha256(text.encode()).hexdigest(),
            ".env": hashlib.sha256(env_text.encode()).hexdigest() if env_text else "",
        }
