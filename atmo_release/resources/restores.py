"""Restores of the databases from their dumps: streamed on the deploy host as jobs under
supervision, judged by PostgreSQL's own word on their transaction, and read back by the next
run when nobody saw them end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atmo_release.checks import CheckFailed, require
from atmo_release.commands import restore
from atmo_release.data import restore_job, restore_stream
from atmo_release.data.restore_job import COMMITTED, RUNNING, JobState, RestoreJob
from atmo_release.data.sessions import client_env
from atmo_release.resources import Resource

# What a restore needs of the database's role, read without touching anything: superuser, or
# CREATE on schema public and the ownership (by membership) of every object in it.
RIGHTS_SQL = (
    "SELECT r.rolsuper, has_schema_privilege('public', 'CREATE'), "
    "pg_get_userbyid((SELECT nspowner FROM pg_namespace WHERE nspname = 'public')), "
    "coalesce((SELECT string_agg(o, ', ' ORDER BY o) FROM (SELECT DISTINCT o FROM ("
    "SELECT c.relname || ' (' || pg_get_userbyid(c.relowner) || ')' AS o, c.relowner AS w, "
    "c.oid AS i, 'pg_class'::regclass AS k FROM pg_class c JOIN pg_namespace n "
    "ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
    "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
    "UNION ALL SELECT p.proname || '() (' || pg_get_userbyid(p.proowner) || ')', p.proowner, "
    "p.oid, 'pg_proc'::regclass FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname = 'public') AS objects WHERE NOT pg_has_role(w, 'USAGE') "
    "AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = k AND d.objid = i "
    "AND d.deptype = 'e') LIMIT 5) AS foreign_owned), '') "
    "FROM pg_roles r WHERE r.rolname = current_user"
)


class Restores(Resource):
    def check_rights(self) -> None:
        """Preflight: the database's role can do what a rollback's restore does, before anyone
        is locked out: empty schema public object by object and create in it."""
        role = self.env.database.user
        for name in self.env.database.names:
            superuser, create, owner, foreign = self.db.query(name, RIGHTS_SQL)[0]
            if superuser == "t":
                continue
            lacking = []
            if create != "t":
                lacking.append(
                    f"CREATE on schema public, which {owner} owns (as its owner: GRANT CREATE "
                    f"ON SCHEMA public TO {role})"
                )
            if foreign:
                lacking.append(f"the ownership of {foreign} (ALTER ... OWNER TO {role})")
            require(
                not lacking,
                f"a rollback's restore of {name} would fail: the role {role} lacks "
                f"{' and '.join(lacking)}; nothing was changed",
            )
        self.note(f"the role {role} can empty schema public and create in it, as a restore does")

    def restore(self, database: str, dump: Path, window: dict[str, Any] | None = None) -> str:
        """Load `dump` into `database` and the window dump's rows after it, in one transaction
        that also carries over the active maintenance records (users stay out); returns what
        was restored. A restore that does not commit leaves the database as it was."""
        active = {
            table: [
                row[0]
                for row in self.db.query(
                    database, f"SELECT row_to_json(t)::text FROM {table} t WHERE end_date IS NULL"
                )
            ]
            for table in self._maintenance_tables(database)
        }
        job = RestoreJob.beside(self.target, dump, self.record.run_id, database)
        parts = restore_stream.parts(str(dump), window, active)
        what = f"{database} from {dump}" + "".join(
            f" and {part.path}" for part in parts[2:] if part.path
        )
        if self.deployment.planning:
            self.note(f"would restore {what} as a job on the host, beside the dump")
            return what
        inputs = job.inputs(parts)
        seconds = restore_job.timeout_for(job.size(inputs))
        jobs = self.record.facts.setdefault("restore_jobs", {})
        jobs[database] = job.as_record()
        job.start(inputs, self._psql(database, seconds), client_env(self.deployment.password))
        state = job.wait(seconds + 120)
        verdict = job.verdict(self.db, database)
        job.settle(verdict)
        jobs[database].update(exit=state.exit_code, verdict=verdict)
        require(
            verdict == COMMITTED,
            f"the restore of {what} did not commit (exit {state.exit_code}, transaction "
            f"{verdict}): {job.log_tail()}; {database} is as it was before the restore",
        )
        self.note(f"restored {what} (one transaction, committed)")
        return what

    def _maintenance_tables(self, database: str) -> list[str]:
        services = self.env.services.values()
        return [s.maintenance_table for s in services if s.database == database]

    def _psql(self, database: str, seconds: float) -> list[str]:
        config = self.env.database
        if config.where == "host":
            return restore.host_psql(config.host, config.port, config.user, database, seconds)
        return restore.service_psql(
            self.compose,
            config.service,
            config.user,
            database,
            seconds,
            client_env(self.deployment.password),
        )

    def check_none_unknown(self) -> None:
        """Every restore an earlier run started and did not see end is read now: how it ended
        is said and recorded, and a restore still running stops this run."""
        judged: list[dict[str, Any]] = []
        for job in restore_job.unsettled(self.target, self.env.backup_dir):
            state = job.read()
            alive = job.alive(state)
            verdict = RUNNING if alive else job.verdict(self.db, self.env.database.names[0])
            judged.append({"status": str(job.status), "exit": state.exit_code, "verdict": verdict})
            if verdict == RUNNING:
                raise CheckFailed(
                    f"a restore started by an earlier run still runs on the host (pid "
                    f"{state.pid}, {job.status}): wait until it ends, then run again; this run "
                    "reads how it ended"
                )
            job.settle(verdict)
            self.note(self._verdict(job, state, verdict))
        self.record.facts["earlier_restores"] = judged
        if not judged:
            self.note("no restore started by an earlier run is left unread on the host")

    @staticmethod
    def _verdict(job: RestoreJob, state: JobState, verdict: str) -> str:
        how = f"exit {state.exit_code}" if state.exit_code is not None else "no exit recorded"
        if verdict == COMMITTED:
            return (
                f"the restore of {job.status.name.split('.restore-')[0]} ({how}) committed: the "
                "database holds what it restored; this rollback goes on from there"
            )
        return (
            f"the restore of {job.status.name.split('.restore-')[0]} ({how}) did not commit "
            f"(transaction {verdict}): PostgreSQL kept the database as it was before it"
        )
