"""Gates in front of a production deployment: a typed-out confirmation and an atmobeta pass."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from atmo_release.environment import Environment
from atmo_release.record.history import facts, read_records
from atmo_release.release import Release

CONFIRM_VARIABLE = "ATMO_RELEASE_CONFIRM"


class GateRefused(ValueError):
    """A deployment that may not start; the message says how to get through."""


def require_confirmation(env: Environment, confirm: str | None, environ: Mapping[str, str]) -> str:
    """Production needs its name typed out (or set for automation); returns how it was given."""
    if not env.production:
        return "not a production environment"
    if confirm == env.name:
        return "--confirm"
    if environ.get(CONFIRM_VARIABLE) == env.name:
        return CONFIRM_VARIABLE
    raise GateRefused(
        f"{env.name} is a production environment: confirm with --confirm={env.name} "
        f"(or {CONFIRM_VARIABLE}={env.name} for automation); nothing was touched"
    )


def atmobeta_pass(records_dir: Path, release: Release) -> Path | None:
    """The record of a passed deploy.feature run of `release` on atmobeta, if there is one."""
    return next(
        (
            path
            for path, data in read_records(records_dir, "atmobeta")
            if data.get("release") == str(release)
            and data.get("outcome") == "passed"
            and not facts(data).get("rolls_back")
        ),
        None,
    )


def require_atmobeta_pass(
    env: Environment, release: Release, records_dir: Path, skip_reason: str | None
) -> str:
    """Production deploys only what atmobeta has passed, unless a stated reason overrides."""
    if not env.production:
        return "not a production environment"
    if skip_reason:
        return f"skipped: {skip_reason}"
    found = atmobeta_pass(records_dir, release)
    if found is None:
        raise GateRefused(
            f"no passed deploy.feature run of {release} on atmobeta in {records_dir}: deploy it "
            f'to atmobeta first, or override with --skip-atmobeta-gate "<reason>"; nothing was '
            "touched"
        )
    return f"passed on atmobeta: {found}"
