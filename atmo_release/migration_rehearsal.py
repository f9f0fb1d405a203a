"""The release's migrations, run on a restored copy of the proven dump before the window.

The new image runs `manage.py migrate` against the throwaway server that holds the dump, with
the environment's own settings except the database, which points at the copy, one migration at
a time in the order `showmigrations --plan` gives, the copy read after each. A migration that
fails there fails before anyone is locked out; one that succeeds tells, table by table, what the
real upgrade will change, which migration changes it, and how long each takes (a prediction of
the window).
"""

from __future__ import annotations

import configparser
import io
import re
from dataclasses import dataclass, field

from atmo_release.commands import Read, docker, read
from atmo_release.environment import Service

SETTINGS_SECTION = "local.py"
# Django's `migrate -v 2` prints "  Applying core.0002_x... OK (0.123s)".
_APPLIED_LINE = re.compile(r"Applying (\S+)\.\.\. OK \((\d+(?:\.\d+)?)s\)")
# `showmigrations --plan` prints "[ ]  core.0002_x" for one not applied yet, in order.
_UNAPPLIED_LINE = re.compile(r"^\[ \]\s+(\S+)", re.MULTILINE)


def settings_for_copy(
    ini_text: str, host: str, port: int, name: str, user: str, password: str
) -> str:
    """The app's settings ini with only its database pointed at the copy."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str  # type: ignore[assignment,method-assign]
    ini.read_string(ini_text)
    if not ini.has_section(SETTINGS_SECTION):
        ini.add_section(SETTINGS_SECTION)
    for key, value in {
        "DATABASE_HOST": host,
        "DATABASE_PORT": str(port),
        "DATABASE_NAME": name,
        "DATABASE_USER": user,
        "DATABASE_PASSWORD": password,
    }.items():
        ini.set(SETTINGS_SECTION, key, value)
    out = io.StringIO()
    ini.write(out)
    return out.getvalue()


def manage_argv(
    image: str,
    service: Service,
    server_container: str,
    settings_path: str,
    labels: dict[str, str],
    *command: str,
    detach: bool = False,
) -> Read:
    """`manage.py <command>` in a new container of `image` sharing the copy's network (the
    copy answers on 127.0.0.1:5432), its settings file mounted read-only where the app reads
    it, removed when it exits (detached: once waited for). It changes the throwaway copy
    only, never the deployment."""
    return read(
        docker.run_once(
            image,
            [f"{service.workdir}/manage.py", *command],
            entrypoint=f"{service.venv}/bin/python",
            network=f"container:{server_container}",
            mounts={settings_path: f"{service.workdir}/variables.ini"},
            labels=labels,
            detach=detach,
        )
    )


def unapplied(showmigrations_plan: str) -> list[str]:
    """`app.name` of each migration not applied yet, in the order Django applies them."""
    return _UNAPPLIED_LINE.findall(showmigrations_plan)


def applied_timings(stdout: str) -> dict[str, float]:
    """Seconds per applied migration, from `migrate -v 2`'s output."""
    return {name: float(seconds) for name, seconds in _APPLIED_LINE.findall(stdout)}


@dataclass
class RehearsedMigrations:
    """What the release's migrations did to one copy: which ran, how long, what changed."""

    database: str
    migrations: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    changes: dict[str, dict[str, object]] = field(default_factory=dict)
    tables_by_migration: dict[str, list[str]] = field(default_factory=dict)
    # from a second run on the same data: {table: {column: [migrations]}} whose values differ
    stamped: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    stamped_by_migration: dict[str, list[str]] = field(default_factory=dict)
    rows_differ_between_runs: list[str] = field(default_factory=list)
    second_run_seconds: float | None = None

    def summary(self) -> str:
        """`atmo_prod: core.0003_x (0.12 s; core_event, core_allocation), ... in 3.4 s; ...`,
        with what the second run told of stamped columns."""
        ran = ", ".join(
            f"{m} ({self.timings.get(m, 0):g} s; "
            f"{', '.join(self.tables_by_migration.get(m, [])) or 'no table changed'})"
            for m in self.migrations
        )
        text = f"{self.database}: {ran or 'no migration'}, in {self.seconds:.1f} s"
        if self.second_run_seconds is None:
            return text
        stamped = "; ".join(
            f"{', '.join(columns)} by {migration}"
            for migration, columns in self.stamped_by_migration.items()
        )
        text += f"; run again on a copy ({self.second_run_seconds:g} s): " + (
            f"stamped by the clock or chance: {stamped}" if stamped else "no column stamped"
        )
        if self.rows_differ_between_runs:
            text += "; rows differ between the runs in " + ", ".join(self.rows_differ_between_runs)
        return text
