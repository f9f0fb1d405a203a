"""The secrets checkout: its branch, its settings files (`env`, `inis/*.ini`) parsed, and every
value in them masked before anything is printed."""

from __future__ import annotations

import configparser
import os
import re
import shlex
from collections.abc import Iterable
from pathlib import Path

from atmo_release.checks import require
from atmo_release.commands import git
from atmo_release.resources import Resource
from atmo_release.target import Target

SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE", re.IGNORECASE)
SETTINGS_FILES = ("env", "inis/atmosphere.ini", "inis/troposphere.ini")


def parse_ini(text: str) -> dict[str, str]:
    """All keys of all sections, case kept; a key met again in another section keeps its value
    under `section.key`, so that no value escapes the redactor."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    values: dict[str, str] = {}
    for section in parser.sections():
        for key, value in parser.items(section):
            name = key if key not in values or values[key] == value else f"{section}.{key}"
            values[name] = value
    return values


def _shell_word(text: str) -> str:
    """The first shell word of `text`: quotes removed, `#` a comment only at a word's start."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    word = lexer.get_token()
    return "" if word is None or (word.startswith("#") and text.lstrip().startswith("#")) else word


def parse_env_file(text: str) -> dict[str, str]:
    """`KEY=value` lines of a shell file, `export` allowed, quoted values may span lines;
    other shell lines are ignored."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = re.sub(r"^\s*export\s+", "", lines[index].strip())
        index += 1
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if not match:
            continue
        value = match[2]
        while True:
            try:
                values[match[1]] = _shell_word(value)
                break
            except ValueError:
                if index >= len(lines):
                    values[match[1]] = value
                    break
                value += "\n" + lines[index]
                index += 1
    return values


class SettingsFileError(ValueError):
    """A settings file that does not parse; the text never quotes its lines (they hold secrets
    the redactor does not know yet)."""


def parse_settings(path: str, text: str) -> dict[str, str]:
    try:
        return parse_ini(text) if path.endswith(".ini") else parse_env_file(text)
    except configparser.Error as error:
        line = getattr(error, "lineno", None)
        where = f" at line {line}" if line else ""
        raise SettingsFileError(
            f"{path} is not a valid ini file ({type(error).__name__}{where}): fix it in the "
            "secrets repository"
        ) from None


def read_settings(target: Target, directory: Path, path: str) -> dict[str, str]:
    return parse_settings(path, target.read_text(directory / path))


def secret_values(settings: dict[str, str]) -> list[str]:
    return [value for key, value in settings.items() if SECRET_NAME.search(key) and value]


def files_at(target: Target, directory: Path, commit: str) -> dict[str, dict[str, str] | None]:
    """Every settings file as committed at `commit`, read without touching the checkout (None:
    missing there)."""
    found: dict[str, dict[str, str] | None] = {}
    for path in SETTINGS_FILES:
        result = target.run(git.show(directory, commit, path))
        found[path] = parse_settings(path, result.stdout) if result.ok else None
    return found


def settings_at(target: Target, directory: Path, commit: str) -> dict[str, dict[str, str]]:
    """Every settings file as committed at `commit` (files missing there are empty)."""
    return {path: values or {} for path, values in files_at(target, directory, commit).items()}


def lacking(settings: dict[str, dict[str, str] | None], required_keys: Iterable[str]) -> list[str]:
    """What the apps need that `settings` (per file; None: the file is missing) lack, each
    as a phrase: the check of the checked-out tree and the preflight's reading of the branch."""
    missing = [f"the file {path}" for path, values in settings.items() if values is None]
    for required in required_keys:
        path, _, key = required.partition(":")
        if settings.get(path) is not None and not (settings[path] or {}).get(key, "").strip():
            missing.append(f"a value for {key} in {path}")
    return missing


def all_branch_secrets(target: Target, directory: Path) -> list[str]:
    """Secret values of every local branch, so that whatever is checked out later is masked."""
    refs = target.run(git.branches(directory))
    values: list[str] = []
    for branch in refs.stdout.split():
        for settings in settings_at(target, directory, branch).values():
            values += secret_values(settings)
    return values


def key_changes(
    before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]
) -> dict[str, list[str]]:
    """Names of the keys added, removed and changed, per file: never their values."""
    changes: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, {}), after.get(path, {})
        changes["added"] += [f"{path}:{key}" for key in sorted(set(new) - set(old))]
        changes["removed"] += [f"{path}:{key}" for key in sorted(set(old) - set(new))]
        changes["changed"] += [
            f"{path}:{key}" for key in sorted(set(old) & set(new)) if old[key] != new[key]
        ]
    return changes


class SecretsCheckout(Resource):
    def load(self) -> None:
        """Learn every secret value before anything is printed, and the database password."""
        directory = self.env.secrets_dir
        values = all_branch_secrets(self.target, directory)
        path, _, key = self.env.database.password_from.partition(":")
        settings = read_settings(self.target, directory, path)
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
            path: read_settings(self.target, directory, path)
            if self.target.exists(directory / path)
            else None
            for path in SETTINGS_FILES
        }
        missing = lacking(settings, self.env.required_keys)
        require(not missing, f"the secrets checkout lacks {', '.join(missing)}")
        self.target.redactor.add(v for s in settings.values() for v in secret_values(s or {}))

    def check_branch(self) -> None:
        """Preflight: the branch "Check out the secrets" will check out, read from the
        repository without touching the working tree, has what the apps need."""
        directory, branch = self.env.secrets_dir, self.env.secrets_branch
        require(
            self.target.run(git.has_branch(directory, branch)).ok,
            f"the secrets checkout {directory} has no branch {branch}: fetch it, or correct "
            f"secrets.branch in {self.env.path}; nothing was changed",
        )
        settings = files_at(self.target, directory, f"refs/heads/{branch}")
        self.target.redactor.add(v for s in settings.values() for v in secret_values(s or {}))
        missing = lacking(settings, self.env.required_keys)
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
        changes = key_changes(
            settings_at(self.target, directory, last_commit),
            settings_at(self.target, directory, head),
        )
        self.record.facts["secrets_commit"] = head
        self.record.facts["secrets_changes"] = {"since": f"{last_commit} ({since})", **changes}
        for kind, keys in changes.items():
            self.note(f"secrets keys {kind} since {since}: {', '.join(keys) or 'none'}")
        return changes
