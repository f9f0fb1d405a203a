"""Production variables prepared: the production branch of the secrets against the atmobeta
branch that was just tested, compared key by key.

Why key names only: the two branches hold every password of both environments; what the crew
chief needs is which keys production lacks and which changed on atmobeta since the last
production deployment without production following, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from atmo_release.commands import git
from atmo_release.environment import Environment, extra_table
from atmo_release.record.history import last_passed
from atmo_release.resources import secrets_checkout
from atmo_release.target import Target

Settings = dict[str, str]  # "file:KEY" -> value


class ProductionVariablesError(AssertionError):
    """Production's variables are not ready; the text names keys, never values."""


@dataclass(frozen=True)
class ProductionVariablesSettings:
    """`[production_variables]` of the atmobeta environment file."""

    branch: str  # the production branch, as the atmobeta secrets checkout knows it
    environment: str  # the production environment, whose records date its last deployment
    atmobeta_only: tuple[str, ...]  # "file:KEY" that production is not meant to have

    @classmethod
    def of(cls, environment: Environment) -> ProductionVariablesSettings:
        table = extra_table(environment, "production_variables", "branch, environment")
        return cls(
            branch=table["branch"],
            environment=table["environment"],
            atmobeta_only=tuple(table.get("atmobeta_only", [])),
        )


@dataclass(frozen=True)
class Since:
    """The last production deployment: production's commit then, atmobeta's commit then."""

    production: str
    atmobeta: str  # "" when atmobeta has no commit that old
    when: str
    described: str


def settings_of(target: Target, directory: Path, ref: str) -> Settings:
    """Every key of every settings file at `ref`, as `file:KEY`; a file missing there is empty."""
    try:
        found = secrets_checkout.settings_at(target, directory, ref) if ref else {}
    except secrets_checkout.SettingsFileError:
        raise ProductionVariablesError(
            f"a settings file of {ref} is not a valid ini file: fix it on that branch"
        ) from None
    return {f"{path}:{key}": value for path, keys in found.items() for key, value in keys.items()}


def missing_on_production(
    atmobeta: Settings, production: Settings, atmobeta_only: tuple[str, ...] = ()
) -> list[str]:
    """Keys set on atmobeta that production lacks or leaves empty."""
    return sorted(
        key
        for key, value in atmobeta.items()
        if value.strip() and not production.get(key, "").strip() and key not in atmobeta_only
    )


def changed_only_on_atmobeta(
    atmobeta_then: Settings,
    atmobeta_now: Settings,
    production_then: Settings,
    production_now: Settings,
) -> list[str]:
    """Keys whose atmobeta value changed since then while production's stayed as it was."""
    keys = set(atmobeta_then) | set(atmobeta_now)
    return sorted(
        key
        for key in keys
        if atmobeta_then.get(key) != atmobeta_now.get(key)
        and production_then.get(key) == production_now.get(key)
    )


def _out(target: Target, argv: list[str]) -> str:
    result = target.run(argv)
    if not result.ok:
        raise ProductionVariablesError(f"{' '.join(argv[3:5])} failed: {result.tail(1)}")
    return result.stdout.strip()


def last_production_deployment(
    target: Target,
    directory: Path,
    settings: ProductionVariablesSettings,
    atmobeta_branch: str,
    records_dir: Path,
) -> Since:
    """From the newest passed production record (its secrets commit and end); without one,
    the production branch's last commit stands for it."""
    found = last_passed(records_dir, settings.environment, "secrets_commit")
    commit = found[1]["facts"]["secrets_commit"] if found else ""
    if found and target.run(git.has_commit(directory, commit)).ok:
        when = str(found[1].get("finished") or found[1].get("started"))
        described = f"the last {settings.environment} deployment ({found[0].parent.name})"
    else:
        why = (
            f"{found[0].parent.name}'s secrets commit {commit[:12]} is not in this checkout"
            if found
            else f"no passed {settings.environment} deployment in {records_dir} names its commit"
        )
        commit = _out(target, git.rev_parse(directory, settings.branch))
        when = _out(target, git.commit_date(directory, commit))
        described = f"the last commit of {settings.branch} ({why})"
    atmobeta = _out(target, git.last_commit_before(directory, atmobeta_branch, when))
    return Since(commit, atmobeta, when, described)


@dataclass(frozen=True)
class Comparison:
    missing: list[str]
    to_confirm: list[str]
    since: Since


def compare(
    target: Target,
    directory: Path,
    settings: ProductionVariablesSettings,
    atmobeta_branch: str,
    records_dir: Path,
) -> Comparison:
    """Fetch, then read both branches now and as they were at the last production deployment."""
    _out(target, git.fetch(directory))
    since = last_production_deployment(target, directory, settings, atmobeta_branch, records_dir)
    refs = (since.atmobeta, atmobeta_branch, since.production, settings.branch)
    read = [settings_of(target, directory, ref) for ref in refs]
    for found in read:
        target.redactor.add(secrets_checkout.secret_values(found))
    atmobeta_then, atmobeta_now, production_then, production_now = read
    return Comparison(
        missing=missing_on_production(atmobeta_now, production_now, settings.atmobeta_only),
        to_confirm=changed_only_on_atmobeta(
            atmobeta_then, atmobeta_now, production_then, production_now
        ),
        since=since,
    )


def require_prepared(comparison: Comparison, production_branch: str) -> None:
    if comparison.missing:
        raise ProductionVariablesError(
            f"set on atmobeta but missing or empty on {production_branch}: "
            f"{', '.join(comparison.missing)}; add them to {production_branch}, or list them in "
            "production_variables.atmobeta_only"
        )
