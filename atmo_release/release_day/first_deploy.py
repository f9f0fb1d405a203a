"""The runbook's "Deploying Atmosphere-Docker for the First Time", each action with its proof.

The old production is read only: its databases are dumped as their owner and proven by a restore
into a throwaway PostgreSQL. The new deployment is an ordinary `Deployment` of the new
environment, so bringing it up, its versions and its migrations use the same calls as release
day. Nothing here knows about pytest; checks raise CheckFailed with a sentence.

Loading the dumps, by where the new environment keeps its database:
- host (2020 layout): `psql --single-transaction` into each (empty) host database;
- service (2019 compose file): the dumps are copied into the deploy checkout's `postgres/`
  directory, mounted at `/docker-entrypoint-initdb.d`, with a script that loads each into its
  own database on the first start of an empty data directory. The dumps go into a
  subdirectory, because the entrypoint would run a top-level `*.sql` against POSTGRES_DB only.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atmo_release.checks import CheckFailed, require
from atmo_release.commands import pg
from atmo_release.commands.compose import Compose
from atmo_release.data import dumps, throwaway_copy
from atmo_release.data.client import DatabaseClient
from atmo_release.data.row_checks import compare_snapshots
from atmo_release.data.sessions import client_env
from atmo_release.environment import Environment
from atmo_release.release_day.deployment import Deployment
from atmo_release.resources import secrets_checkout
from atmo_release.resources.fresh_clones import FreshClones, Sources
from atmo_release.target import Target

DEPLOY_REPOSITORY = "https://github.com/cyverse/atmosphere-docker.git"
INIT_DIR = "postgres"
INIT_DUMPS = "atmo-release-dumps"
INIT_SCRIPT = "50-atmo-release-load-dumps.sh"
# Rows Django itself writes while migrating: they differ by design after the release's migrations.
MIGRATION_BOOKKEEPING = frozenset({"django_migrations", "django_content_type", "auth_permission"})


def old_password(target: Target, env: Environment, fallback: str = "") -> str:
    """The old production's database password from its secrets checkout, else `fallback`."""
    path, _, key = env.database.password_from.partition(":")
    if target.exists(env.secrets_dir / path):
        value = secrets_checkout.read_settings(target, env.secrets_dir, path).get(key, "")
        if value:
            return value
    return fallback


def init_script(loads: list[tuple[str, str]], user_var: str = "POSTGRES_USER") -> str:
    """The init-directory script: create each database if missing, load its dump, all or nothing."""
    lines = [
        "#!/bin/sh",
        "# Written by atmo-release (first deployment). Runs once, on an empty data directory.",
        "set -eu",
        f'here="/docker-entrypoint-initdb.d/{INIT_DUMPS}"',
        f'user="${{{user_var}}}"',
    ]
    for database, name in loads:
        db = shlex.quote(database)
        lines += [
            f'if ! psql -X -qtA -U "$user" -d postgres -c "SELECT 1 FROM pg_database WHERE '
            f"datname = '{database}'\" | grep -q 1; then",
            f'    createdb -U "$user" -O "$user" {db}',
            "fi",
            f'psql -X -q -v ON_ERROR_STOP=1 --single-transaction -U "$user" -d {db} '
            f'-f "$here/{shlex.quote(name)}"',
        ]
    return "\n".join(lines) + "\n"


@dataclass
class FirstDeployment:
    """Dump the old production, clone, load, bring the release up; `new` is the new deployment."""

    new: Deployment
    old_env: Environment
    old_db_password: str
    sources: Sources
    run_id: str | None = None
    # The rehearsal rewrites ports and network of the fresh checkout's compose file with this.
    adapt_compose: Callable[[Path], None] | None = None
    dumps: dict[str, Path] = field(default_factory=dict)
    source_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    source_snapshot: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.new.target.redactor.add([self.old_db_password])

    @property
    def env(self) -> Environment:
        return self.new.env

    @property
    def target(self) -> Target:
        return self.new.target

    @property
    def old_compose(self) -> Compose:
        old = self.old_env
        command = old.compose_command or self.new.compose.command  # unset: the same host's
        return Compose(command, str(old.compose_path), old.project)

    @property
    def old_db(self) -> DatabaseClient:
        return DatabaseClient(
            self.target, self.old_env.database, self.old_db_password, self.old_compose
        )

    def fact(self, key: str, value: Any) -> None:
        self.new.record.facts[key] = value

    # -- 1. dumps of the old production ----------------------------------------------------------

    def dump_old_production(self) -> None:
        """Row counts and checksums first, then pg_dump as the owner, named as the runbook does."""
        backup_dir = self.env.backup_dir
        self.new.run(["mkdir", "-p", str(backup_dir)], f"mkdir {backup_dir}")
        taken: dict[str, Any] = {}
        for name in self.old_env.database.names:
            self.source_counts[name] = dumps.row_counts(self.old_db, name)
            self.source_snapshot[name] = self.old_db.fingerprints(name)
            path = dumps.dump_name(
                dumps.kind_for(name), self.new.day, backup_dir, self.target.exists
            )
            result = dumps.dump(
                self.target,
                self.old_env.database,
                self.old_db_password,
                self.old_compose,
                name,
                path,
            )
            self.dumps[name] = result.path
            taken[name] = result.as_record()
        self.fact("old_production_counts", self.source_counts)
        self.fact("dumps", taken)

    def check_dumps(self) -> None:
        require(
            set(self.dumps) == set(self.old_env.database.names),
            f"dumps of {sorted(self.old_env.database.names)} expected, found {sorted(self.dumps)}",
        )
        verified: dict[str, Any] = {}
        image = getattr(self.old_env.database, "verify_image", dumps.VERIFY_IMAGE)
        for name, path in self.dumps.items():
            dumps.check_complete(self.target, path)
            result = throwaway_copy.verify_dump(
                self.target,
                path,
                self.source_counts[name],
                image,
                owner=self.old_env.database.user,
                run_id=self.run_id,
            )
            verified[name] = result.as_record()
        self.fact("dumps_verified", verified)

    # -- 2. the repositories --------------------------------------------------------------------

    def clone_repositories(self) -> None:
        FreshClones(self.new, self.sources).clone()

    def check_checkouts(self) -> None:
        FreshClones(self.new, self.sources).check()

    # -- 3. the new database --------------------------------------------------------------------

    def load_dumps(self) -> None:
        for path in self.dumps.values():
            dumps.check_complete(self.target, path)
        if self.env.database.where == "service":
            self._load_through_init_dir()
            return
        database = self.env.database
        for name, path in self.dumps.items():
            present = dumps.row_counts(self.new.db, name)
            require(
                not present,
                f"the new database {name} already holds {len(present)} tables: load only "
                "into an empty database",
            )
            self.new.run(
                pg.host_restore(database.host, database.port, database.user, name, str(path)),
                f"psql loading {path.name} into {name}",
                env=client_env(self.new.db.password),
                timeout=3600,
            )

    def stage_init_dir(self) -> Path:
        """Copy the dumps into the deploy checkout's Postgres init directory, with the loader."""
        init_dir = self.env.deploy_dir / INIT_DIR
        holder = init_dir / INIT_DUMPS
        self.new.run(["mkdir", "-p", str(holder)], f"mkdir {holder}")
        loads: list[tuple[str, str]] = []
        for name, path in self.dumps.items():
            self.new.run(["cp", "--", str(path), str(holder / path.name)], f"copy {path.name}")
            loads.append((name, path.name))
        script = init_dir / INIT_SCRIPT
        self.target.write_text(script, init_script(loads))
        return script

    def _load_through_init_dir(self) -> None:
        database = self.env.database
        self.stage_init_dir()
        compose = self.new.compose
        self.new.run(
            [*compose.up(), database.service],
            f"{compose.name} up -d {database.service}",
            timeout=900,
        )
        deadline = time.monotonic() + max(self.env.readiness_timeout_s, 600)
        while not self.target.run(pg.service_ready(compose, database.service, database.user)).ok:
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"the {database.service} service did not accept connections after loading "
                    f"its init directory: see {compose.name} logs"
                )
            time.sleep(self.env.readiness_interval_s)

    def check_loaded(self) -> None:
        counts: dict[str, dict[str, int]] = {}
        problems: list[str] = []
        for name, source in self.source_counts.items():
            counts[name] = dumps.row_counts(self.new.db, name)
            problems += [f"{name}.{p}" for p in dumps.compare_counts(source, counts[name])]
        self.fact("new_database_counts", counts)
        require(
            not problems,
            "the new database differs from the old production: " + "; ".join(problems[:10]),
        )

    # -- 4. the release, up ---------------------------------------------------------------------

    def bring_up(self) -> None:
        if self.adapt_compose is not None:
            self.adapt_compose(self.env.compose_path)
        self.new.compose_edit.set_release_tags()
        self.new.containers.pull_and_up()

    def check_answering(self) -> None:
        self.new.containers.check_running_release_images()
        self.new.readiness.wait()
        self.new.readiness.check_new_versions()

    def check_migrated(self) -> None:
        """migrate --check passes, and it was the new database that migrated: the old
        production's rows (django_migrations included) are exactly as they were dumped."""
        self.new.readiness.check_migrations()
        ran: dict[str, int] = {}
        problems: list[str] = []
        for name, source in self.source_counts.items():
            new = dumps.row_counts(self.new.db, name).get("django_migrations", 0)
            ran[name] = new - source.get("django_migrations", 0)
            old_now = dumps.row_counts(self.old_db, name)
            problems += [f"{name}.{p}" for p in dumps.compare_counts(source, old_now)]
            if ran[name] < 0:
                problems.append(f"{name}: the new database records fewer migrations than the old")
        self.fact("migrations_applied_in_new_database", ran)
        require(
            not problems,
            "the old production's database changed since its dump (do the new apps read it? check "
            f"DATABASE_HOST in {self.env.secrets_dir}/inis): " + "; ".join(problems[:10]),
        )

    def check_rows_kept(self) -> None:
        problems: list[str] = []
        for name, source in self.source_counts.items():
            counts = dumps.row_counts(self.new.db, name)
            added = sorted(set(counts) - set(source))
            if added:
                self.new.note(f"{name}: tables added by the release: {', '.join(added)}")
            kept = {t: c for t, c in counts.items() if t in source}
            problems += [
                f"{name}.{p}"
                for p in dumps.compare_counts(
                    {t: c for t, c in source.items() if t not in MIGRATION_BOOKKEEPING},
                    {t: c for t, c in kept.items() if t not in MIGRATION_BOOKKEEPING},
                )
            ]
            lost, notes = compare_snapshots(
                self.source_snapshot[name], self.new.db.fingerprints(name)
            )
            problems += [f"{name}: {p}" for p in lost]
            for note in notes:
                self.new.note(f"{name}: {note}")
        require(
            not problems,
            "the new deployment lost rows of the old production: " + "; ".join(problems[:10]),
        )
