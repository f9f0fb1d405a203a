"""Use and test's checks, read ahead: they only read the release just started, so they start
together with the scenario's first step and each step takes its own verdict.

The row check starts first and alone but for the logs: its change markers trust no table
while another session is busy in the database, and every other check reaches it (an app
request reads the maintenance table, `migrate --check` connects). The smoke checks and the
browser journey sign in, and signing in writes, so they start after it too."""

from __future__ import annotations

from collections.abc import Callable

from atmo_release.release_day.deployment import Deployment

# Each check and the checks it starts after.
AFTER: dict[str, tuple[str, ...]] = {
    "rows": (),
    "logs": (),
    "versions": ("rows",),
    "migrations": ("rows",),
    "smoke": ("rows",),
    "browser": ("rows", "smoke"),
}


def checks(d: Deployment) -> dict[str, Callable[[], object]]:
    return {
        "rows": d.databases.check_rows_kept,
        "logs": d.readiness.check_logs,
        "versions": d.readiness.check_new_versions,
        "migrations": d.readiness.check_migrations,
        "smoke": lambda: d.smoke_checks.check("window"),
        "browser": d.browser_journey.check,
    }


def take(d: Deployment, key: str) -> None:
    """The verdict of `key`; the scenario's first step starts every check, once the step
    before it (the apps ready) has ended. A plan runs each in its step."""
    if not d.planning and key not in d.reads_ahead.started:
        d.reads_ahead.start(checks(d), AFTER)
    d.reads_ahead.take(key, checks(d)[key])
