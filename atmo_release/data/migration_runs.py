"""The release's migrations, run on a restored copy of the proven dump before the window.

The new image runs `manage.py migrate` against the throwaway server that holds the dump, with
the environment's own settings except the database, which points at the copy, one migration at
a time in the order `showmigrations --plan` gives, the copy read after each. A migration that
fails there fails before anyone is locked out; one that succeeds tells, table by table, what the
real upgrade will change, which migration changes it, and how long each takes (a prediction of
the window).

The image gets its settings as its own entrypoint does: the ini is linked to
`<workdir>/variables.ini` and the image's `configure` renders the settings Django reads (the
real images never read the ini itself). Whatever those settings name, the container sits on the
copy's internal network, where nothing but the copy answers.
"""

from __future__ import annotations

import configparser
import io
import re
from dataclasses import dataclass, field

from atmo_release.commands import Read, docker, read
from atmo_release.environment import Service

SETTINGS_SECTION = "local.py"
# Where the secrets checkout is mounted in the app images (their entrypoint requires it there).
SECRETS_MOUNT = "/opt/dev/atmosphere-docker-secrets"
# The entrypoint's chain, as a constant script: $1 the mounted ini, $2 the code folder, $3 the
# virtualenv, then manage.py's arguments. configure's report goes to stderr: stdout stays
# manage.py's alone.
ENTRYPOINT_CHAIN = (
    'set -e; ln -sfn "$1" "$2/variables.ini"; cd "$2"; export PATH="$3/bin:$PATH"; '
    './configure >&2; shift 3; exec python ./manage.py "$@"'
)
# libpq's line for a server it never reached (a name, a route, a port, a timeout); a server that
# answered, if only to refuse the login, says FATAL.
_UNREACHED = re.compile(
    r"^(?!.*FATAL).*(could not translate host name|connection to server at .* failed|"
    r"could not connect to server|timeout expired).*$",
    re.MULTILINE,
)
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


def mounted_ini(service: Service) -> str:
    """Where the app's ini is in its container: in the secrets checkout's mount."""
    return f"{SECRETS_MOUNT}/{service.ini}"


def manage_argv(
    image: str,
    service: Service,
    network: str,
    settings_path: str,
    labels: dict[str, str],
    *command: str,
    detach: bool = False,
) -> Read:
    """`manage.py <command>` in a new container of `image` on the copy's internal `network`,
    after the entrypoint's own steps: the settings ini (mounted read-only where the secrets
    checkout has it) linked to `<workdir>/variables.ini`, then the image's `configure`. Removed
    when it exits (detached: once waited for); it reaches the throwaway copy only, never the
    deployment."""
    return read(
        docker.run_once(
            image,
            [
                "-c",
                ENTRYPOINT_CHAIN,
                "atmo-release-migrations",
                mounted_ini(service),
                service.workdir,
                service.venv,
                *command,
            ],
            entrypoint="/bin/sh",
            network=network,
            mounts={settings_path: mounted_ini(service)},
            labels=labels,
            detach=detach,
        )
    )


def unreached(output: str) -> str:
    """libpq's line saying the server was never reached, or "" when the output has none."""
    found = _UNREACHED.search(output)
    return found.group(0).strip() if found else ""


def unapplied(showmigrations_plan: str) -> list[str]:
    """`app.name` of each migration not applied yet, in the order Django applies them."""
    return _UNAPPLIED_LINE.findall(showmigrations_plan)


def applied_timings(stdout: str) -> dict[str, float]:
    """Seconds per applied migration, from `migrate -v 2`'s output."""
    return {name: float(seconds) for name, seconds in _APPLIED_LINE.findall(stdout)}


@dataclass
class MigrationRun:
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
