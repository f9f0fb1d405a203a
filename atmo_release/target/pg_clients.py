"""Debian's PostgreSQL clients, run without their wrapper where it would pick the same binary.

On Debian `psql`, `pg_dump` and `pg_restore` are `pg_wrapper`, a Perl script that chooses a
version and then execs `/usr/lib/postgresql/N/bin/<program>`: about 45 ms of CPU before every
call, against about 7 ms for the program itself. A main-job run called psql 53 times, 23 of
them inside the maintenance window. Given a host (`-h`, `--host` or `PGHOST`) and no
`--cluster`, the wrapper looks at no local cluster and takes the newest installed version of
the program, with `PGSYSCONFDIR` defaulting to `/etc/postgresql-common`; the run does the same
itself. Anything else (no host, a cluster named, no wrapper on the host) runs as given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

WRAPPER = "/usr/share/postgresql-common/pg_wrapper"
PROGRAMS = ("psql", "pg_dump", "pg_restore")
DEFAULT_SYSCONFDIR = "/etc/postgresql-common"

# One line per wrapped program ("program<TAB>what it resolves to"), one per installed binary
# ("bin<TAB>path"), and the sysconfdir the wrapper would export. Constant: no input in it.
SURVEY_ARGV = [
    "sh",
    "-c",
    'for p in "$@"; do w=$(command -v "$p") && printf "%s\\t%s\\n" "$p" "$(readlink -f "$w")"; '
    'done; for b in /usr/lib/postgresql/*/bin/*; do for p in "$@"; do '
    '[ "${b##*/}" = "$p" ] && [ -x "$b" ] && printf "bin\\t%s\\n" "$b"; done; done; '
    'printf "sysconfdir\\t%s\\n" "${PGSYSCONFDIR-' + DEFAULT_SYSCONFDIR + '}"',
    "sh",
    *PROGRAMS,
]

_BIN = re.compile(r"^/usr/lib/postgresql/(\d+(?:\.\d+)?)/bin/([^/]+)$")
_HOST_FLAG = re.compile(r"^--host\b|^-\w*h\w*$")


@dataclass(frozen=True)
class Direct:
    """What the survey of one host found: {program: the binary the wrapper would exec}."""

    binaries: Mapping[str, str] = field(default_factory=dict)
    sysconfdir: str = DEFAULT_SYSCONFDIR

    def argv_env(
        self, argv: Sequence[str], env: Mapping[str, str] | None, environ: Mapping[str, str]
    ) -> tuple[list[str], Mapping[str, str] | None]:
        """The argv and env to execute for `argv` (run with `env` over `environ`)."""
        binary = self.binaries.get(argv[0]) if argv else None
        if binary is None or not _names_a_host(argv, {**environ, **(env or {})}):
            return list(argv), env
        return [binary, *argv[1:]], {"PGSYSCONFDIR": self.sysconfdir, **(env or {})}


def _names_a_host(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """The wrapper's own test: a host given, and no cluster chosen on the command line."""
    words = list(argv[1:])
    if "--" in words:
        words = words[: words.index("--")]
    if any(word == "--cluster" or word.startswith("--cluster=") for word in words):
        return False
    return "PGHOST" in environ or any(_HOST_FLAG.match(word) for word in words)


def parse_survey(text: str) -> Direct:
    """The binaries to run directly: only for programs that are the wrapper on that host."""
    wrapped: set[str] = set()
    versions: dict[str, list[tuple[tuple[int, ...], str]]] = {}
    sysconfdir = DEFAULT_SYSCONFDIR
    for line in text.splitlines():
        key, _, value = line.partition("\t")
        if key in PROGRAMS and value == WRAPPER:
            wrapped.add(key)
        elif key == "bin" and (found := _BIN.match(value)):
            version = tuple(int(part) for part in found.group(1).split("."))
            versions.setdefault(found.group(2), []).append((version, value))
        elif key == "sysconfdir":
            sysconfdir = value
    return Direct(
        {program: max(versions[program])[1] for program in wrapped if program in versions},
        sysconfdir,
    )
