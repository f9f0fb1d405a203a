"""A throwaway copy of today's data, where the way back is rehearsed before anyone is locked
out: a fresh dump restored into a throwaway server set up as the host's database (who owns
schema public, what the database's role may do there), reached by either release's manage.py
as that role, and asked what a restore of the release day's dump would discard and whether
that restore runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atmo_release.checks import CheckFailed, require
from atmo_release.commands import files, git, restore
from atmo_release.data import dumps, restore_job, restore_stream, way_back
from atmo_release.data.fingerprint import quote
from atmo_release.data.migration_runs import manage_argv, settings_for_copy
from atmo_release.data.row_checks import IGNORED
from atmo_release.data.throwaway_copy import ThrowawayCopy
from atmo_release.labels import run_labels
from atmo_release.resources.private_files import private_file
from atmo_release.target import Result

if TYPE_CHECKING:
    from atmo_release.resources.run import Run

TABLES_WITH_ID_SQL = (
    "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
    "AND column_name = 'id' ORDER BY 1"
)
# How the database's role meets schema public on the host, mirrored on the copy.
RIGHTS_SQL = (
    "SELECT n.nspowner::regrole::text, r.rolsuper, "
    "has_schema_privilege(current_user, 'public', 'CREATE'), "
    "(SELECT datdba::regrole::text FROM pg_database WHERE datname = current_database()) "
    "FROM pg_namespace n, pg_roles r WHERE n.nspname = 'public' AND r.rolname = current_user"
)
# The copy's superuser, as on a host; the database's role is an ordinary role there.
COPY_OWNER = "postgres"


def tables_with_id(rows: list[list[str]]) -> list[str]:
    """The tables (from TABLES_WITH_ID_SQL) whose rows can be told apart, the deployment's own
    bookkeeping aside."""
    return [row[0] for row in rows if row[0] not in IGNORED]


def secrets_ini(deployment: Run, app: str) -> str:
    """The app's settings as the environment's secrets branch has them."""
    env, service = deployment.env, deployment.service(app)
    return deployment.run(
        git.show(env.secrets_dir, env.secrets_branch, service.ini),
        f"git show of {service.ini} on the secrets branch {env.secrets_branch}",
    ).stdout


def settings_file(deployment: Run, text: str) -> AbstractContextManager[Path]:
    """The app's settings, a private file on the target for the length of the block."""
    return private_file(deployment, "variables.ini", text)


class TodaysCopy:
    def __init__(self, deployment: Run, database: str) -> None:
        self.deployment, self.database = deployment, database
        self.role = deployment.env.database.user
        self.copy: ThrowawayCopy | None = None

    @property
    def server(self) -> ThrowawayCopy:
        assert self.copy is not None, "open() first"
        return self.copy

    def open(self) -> TodaysCopy:
        """A fresh dump of the database into the backup directory (kept: today's data before
        going back), restored into a throwaway server."""
        d, env = self.deployment, self.deployment.env
        path = dumps.dump_name(
            dumps.kind_for(self.database), d.day, env.backup_dir, d.target.exists
        )
        dumps.dump(d.target, env.database, d.password, d.compose, self.database, path)
        self.copy = ThrowawayCopy(
            d.target, path, env.database.verify_image, COPY_OWNER, d.record.run_id
        )
        self.copy.open(dumps.named_roles(d.db, self.database, COPY_OWNER))
        return self

    def close(self) -> None:
        if self.copy is not None:
            self.copy.close()

    def query(self, sql: str, timeout: float = 600) -> list[list[str]]:
        return self.server.query(sql, timeout)

    def probe_rights(self) -> dict[str, Any]:
        """Schema public and the role on the copy as on the host; then, as the role, what a
        restore does first (every object of public dropped, a table created), rolled back."""
        owner, superuser, can_create, db_owner = self.deployment.db.query(
            self.database, RIGHTS_SQL
        )[0]
        copy, role = self.server, quote(self.role)
        copy.query(
            f"ALTER ROLE {role} LOGIN PASSWORD '{copy.password}'"
            + (" SUPERUSER" if superuser == "t" else "")
        )
        copy.query(f"ALTER DATABASE {copy.DATABASE} OWNER TO {quote(db_owner)}")
        copy.query(f"ALTER SCHEMA public OWNER TO {quote(owner)}")
        copy.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        grant = f"GRANT CREATE ON SCHEMA public TO {role}"
        copy.query(grant if can_create == "t" else f"REVOKE CREATE ON SCHEMA public FROM {role}")
        probe = [
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", self.role, "-d", copy.DATABASE,
            "-c", "BEGIN", "-c", restore_stream.EMPTY_PUBLIC_SQL,
            "-c", "CREATE TABLE public.atmo_release_probe (id integer)", "-c", "ROLLBACK",
        ]  # fmt: skip
        rc, _, err = copy.exec(probe, 600)
        return {
            "public_owner": owner,
            "role_superuser": superuser == "t",
            "create_on_public": can_create == "t",
            "database_owner": db_owner,
            "restore_can_run": rc == 0,
            "error": "" if rc == 0 else err.strip()[-300:],
        }

    @contextmanager
    def manage(self, app: str) -> Iterator[Callable[..., Result]]:
        """A runner of `manage.py` from a given image against the copy, as the database's role,
        with the environment's settings of the secrets branch but for the database."""
        d, copy = self.deployment, self.server
        settings = settings_for_copy(
            secrets_ini(d, app), copy.HOST, 5432, copy.DATABASE, self.role, copy.password
        )
        with settings_file(d, settings) as path:

            def manage(image: str, *command: str) -> Result:
                labels = run_labels(d.record.run_id)
                argv = manage_argv(image, d.service(app), copy.network, str(path), labels, *command)
                return d.target.run(argv, timeout=3600)

            yield manage

    def losses(self, digests: str) -> dict[str, dict[str, int]]:
        """Per table, the rows added, changed and deleted since the release's reading after
        its upgrade (`digests`, a file on the target, streamed in)."""
        copy = self.server
        tables = tables_with_id(copy.query(TABLES_WITH_ID_SQL))
        commands = [item for sql in way_back.losses_sql(tables) for item in ("-c", sql)]
        psql = ["psql", "-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
        argv = copy.exec_argv(
            [*psql, "-U", COPY_OWNER, "-d", copy.DATABASE, *commands], 3600, stdin=True
        )
        result = self.deployment.target.run(
            files.fed_from(digests, argv), env=copy.CLIENT_ENV, timeout=3660
        )
        if not result.ok:
            raise CheckFailed(
                f"what a restore of {self.database} would discard could not be counted: "
                f"{result.tail(1)}"
            )
        rows = [line.split("\t") for line in result.stdout.splitlines() if line.count("\t") == 3]
        return way_back.parse_losses(rows)

    def rehearse_restore(self, dump: dict[str, Any]) -> float:
        """The release day's restore (`dump`: the proven dump's record, its window dump), as
        the window would run it, into the copy as the role; its seconds."""
        require(
            bool(dump.get("path")),
            f"no dump of {self.database} is recorded: the way back by the dump is not there",
        )
        d, copy, path = self.deployment, self.server, Path(str(dump["path"]))
        status = Path(f"{path}.rehearsal-restore-{d.record.run_id}.status")
        job = restore_job.RestoreJob(d.target, status, self.database)
        inputs = job.inputs(restore_stream.parts(str(path), dump.get("window"), {}))
        seconds = restore_job.timeout_for(job.size(inputs))
        psql = [*restore.PSQL_FLAGS, "-U", self.role, "-d", copy.DATABASE, "-f", "-"]
        argv = copy.exec_argv(["psql", *psql], seconds, stdin=True)
        started = time.monotonic()
        job.start(inputs, argv, copy.CLIENT_ENV)
        state = job.wait(seconds + 120)
        xid = job.transaction()
        verdict = copy.query(f"SELECT txid_status({xid})")[0][0] if xid else "not begun"
        job.settle(f"rehearsed-{verdict}")
        require(
            verdict == restore_job.COMMITTED,
            f"the restore of {path} fails on a copy set up as the host's {self.database} (exit "
            f"{state.exit_code}): {job.log_tail()}; the way back by the dump would fail the same "
            "way: give the role what it lacks first; nothing was changed",
        )
        return round(time.monotonic() - started, 2)
