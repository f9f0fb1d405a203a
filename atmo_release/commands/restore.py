"""A restore as a job on the deploy host: psql fed by the dump file there, started detached
under `setsid` with a status file beside the dump, so that neither the runner's memory nor its
SSH connection carries or holds it. Passwords go by environment, never into argv."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from atmo_release.commands import Read
from atmo_release.commands.compose import Compose

# The job: `started <pid> <epoch>` into the status file (never over an existing one), then the
# inputs, one after the other, into the command, its output into the log, then
# `exited <rc> <epoch>`. The inputs end with the COMMIT, so input cut short commits nothing.
_JOB = (
    "status=$1; log=$2; n=$3; shift 3; set -C; "
    'printf "started %s %s\\n" "$$" "$(date -u +%s)" > "$status" || exit 1; set +C; '
    '{ ( i=0; while [ "$i" -lt "$n" ]; do cat -- "$1" || exit 1; shift; i=$((i + 1)); done ) '
    '| ( shift "$n"; exec "$@" ); } > "$log" 2>&1; '
    'rc=$?; printf "exited %s %s\\n" "$rc" "$(date -u +%s)" >> "$status"'
)
# The same, in the foreground and without a status file: each input (`f:<file>` its bytes,
# `t:<text>` the text) into the command, which gets the exit code.
_FED = (
    'n=$1; shift; ( i=0; while [ "$i" -lt "$n" ]; do case $1 in f:*) cat -- "${1#f:}" '
    '|| exit 1 ;; *) printf "%s" "${1#t:}" ;; esac; shift; i=$((i + 1)); done ) '
    '| ( shift "$n"; exec "$@" )'
)
# Detached from the caller: its own session, no terminal, none of the caller's pipes (an SSH
# session returns at once, and closing it reaches nothing of the job).
_DETACHED = 'setsid -f "$@" < /dev/null > /dev/null 2>&1'
# The process of a job is alive while its command line still names the job's status file.
_ALIVE = 'tr "\\0" "\\n" < "/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$2"'
_SETTLE = 'printf "settled %s %s\\n" "$2" "$(date -u +%s)" >> "$1"'
PSQL_FLAGS = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-w"]


def start_job(status: str, log: str, inputs: Sequence[str], argv: Sequence[str]) -> list[str]:
    """Start `argv` fed with the concatenated `inputs`, detached; returns once it runs."""
    job = ["sh", "-c", _JOB, "sh", status, log, str(len(inputs)), *inputs, *argv]
    return ["sh", "-c", _DETACHED, "sh", *job]


def fed_parts(inputs: Sequence[str], argv: Sequence[str]) -> list[str]:
    """`argv` fed with `inputs` (`restore_stream.inline`) one after the other, where it runs."""
    return ["sh", "-c", _FED, "sh", str(len(inputs)), *inputs, *argv]


def job_status(status: str) -> Read:
    return Read(["cat", "--", status])


def job_alive(pid: int, status: str) -> Read:
    """Exit 0 while process `pid` is the job of `status` (a reused pid is someone else's)."""
    return Read(["sh", "-c", _ALIVE, "sh", str(int(pid)), status])


def job_transaction(log: str, prefix: str) -> Read:
    """The line of the job's log that names its transaction (none before it began)."""
    return Read(["grep", "-m", "1", "-F", "--", prefix, log])


def settle(status: str, verdict: str) -> list[str]:
    """`settled <verdict> <epoch>`: a later run knows someone saw how the job ended."""
    return ["sh", "-c", _SETTLE, "sh", status, verdict]


def find_status_files(directory: str) -> Read:
    return Read(["find", directory, "-maxdepth", "1", "-name", "*.restore-*.status"])


def _timed(seconds: float, argv: Sequence[str]) -> list[str]:
    """Killed where it runs after `seconds` (then KILLed a minute later): a job never outlives
    the timeout its dump's size gives it, whoever watches."""
    return ["timeout", "-k", "60", str(int(seconds)), *argv]


def host_psql(host: str, port: int, user: str, database: str, seconds: float) -> list[str]:
    """psql on the target against the host database, its script on stdin."""
    argv = ["psql", *PSQL_FLAGS, "-h", host, "-p", str(port), "-U", user, "-d", database]
    return _timed(seconds, [*argv, "-f", "-"])


def service_psql(
    compose: Compose,
    service: str,
    user: str,
    database: str,
    seconds: float,
    env: Iterable[str],
) -> list[str]:
    """psql in the database's compose service, its script on stdin; the `env` variables
    (`sessions.client_env`: PGPASSWORD and the session's) are passed by name, so
    docker-compose takes their values from its own environment."""
    argv = _timed(seconds, ["psql", *PSQL_FLAGS, "-U", user, "-d", database, "-f", "-"])
    return compose.exec_(service, argv, env=dict.fromkeys(env))
