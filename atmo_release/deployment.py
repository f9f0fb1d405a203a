"""One release-day upgrade: each runbook action, and the check that proves it, as a method.

Steps call these; nothing here knows about pytest. Every check re-reads the world (docker, git,
the databases, HTTP) and raises CheckFailed with a sentence; actions never judge themselves.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from atmo_release import compose_file, dumps, http_checks, row_checks, secrets, window_dumps
from atmo_release.checks import CheckFailed, require
from atmo_release.commands import docker, git, manage, pg, read
from atmo_release.commands.compose import Compose
from atmo_release.containers import Container, image_labels, project_containers
from atmo_release.database import DatabaseClient
from atmo_release.environment import (
    APPS,
    Environment,
    EnvironmentFileError,
    Service,
    parse_environment,
)
from atmo_release.fingerprint import Fingerprints, fingerprint_database, same, total_rows
from atmo_release.labels import run_labels
from atmo_release.migration_rehearsal import (
    RehearsedMigrations,
    applied_timings,
    manage_argv,
    settings_for_copy,
    unapplied,
)
from atmo_release.record import ReleaseRecord, utc_now
from atmo_release.records import facts, read_records
from atmo_release.redact import Redactor
from atmo_release.release import Release
from atmo_release.target import PlanTarget, Result, Target, open_target


def maintenance_title(release: Release, day: date) -> str:
    return f"{day.isoformat()} {release} deployment"


@dataclass
class Deployment:
    env: Environment
    release: Release
    target: Target
    record: ReleaseRecord
    reports_dir: Path
    apps: tuple[str, ...] = APPS
    day: date = field(default_factory=date.today)
    maintenance_on: dict[str, bool] = field(default_factory=dict)
    stopped: bool = False
    backups: dict[str, str] = field(default_factory=dict)
    compose_edited: bool = False
    new_release_up: bool = False
    previous_images: dict[str, str] = field(default_factory=dict)
    versions_before: dict[str, dict[str, str]] = field(default_factory=dict)
    snapshot_preflight: dict[str, Fingerprints] = field(default_factory=dict)
    snapshot_before: dict[str, Fingerprints] = field(default_factory=dict)
    rehearsed: dict[str, dict[str, Any]] = field(default_factory=dict)
    copies: dict[str, dumps.RestoredCopy] = field(default_factory=dict)
    secrets_head_before: str = ""
    checkout_saved: dict[str, str] = field(default_factory=dict)
    resumed_from: str = ""
    pulled_in_preflight: set[str] = field(default_factory=set)
    dumps: dict[str, dict[str, Any]] = field(default_factory=dict)
    schema_before: dict[str, str] = field(default_factory=dict)
    _password: str = ""

    def __post_init__(self) -> None:
        self.target.listeners.append(self.record.on_command)

    @classmethod
    def create(
        cls,
        env: Environment,
        release: Release,
        crew_chief: str,
        driver: str,
        reports_dir: Path,
        planning: bool = False,
    ) -> Deployment:
        """A deployment run on this host (or only its plan), with a fresh record and redactor."""
        target = open_target(Redactor(), planning=planning)
        record = ReleaseRecord(
            env=env.name,
            release=str(release),
            crew_chief=crew_chief,
            driver=driver,
            target=f"{target.name} ({os.uname().nodename})",
            run_id=uuid.uuid4().hex[:12],
        )
        return cls(env, release, target, record, reports_dir)

    # -- shared -----------------------------------------------------------------------------

    @property
    def title(self) -> str:
        return maintenance_title(self.release, self.day)

    @property
    def message(self) -> str:
        return self.env.maintenance_message

    @cached_property
    def compose(self) -> Compose:
        return Compose(self.env.compose_command, str(self.env.compose_path), self.env.project)

    @property
    def password(self) -> str:
        return self._password

    @property
    def db(self) -> DatabaseClient:
        return DatabaseClient(self.target, self.env.database, self._password, self.compose)

    def service(self, app: str) -> Service:
        return self.env.services[app]

    def target_image(self, app: str) -> str:
        return f"{self.service(app).image}:{self.release.image_tag}"

    @property
    def planning(self) -> bool:
        return isinstance(self.target, PlanTarget)

    def run(self, argv: list[str], what: str, **kwargs: Any) -> Result:
        result = self.target.run(argv, **kwargs)
        if not result.ok:
            raise CheckFailed(
                f"{what} failed (exit {result.rc}): {self.target.redactor(result.tail(3))}"
            )
        return result

    def containers(self) -> dict[str, Container]:
        return project_containers(self.target, self.env.project)

    def note(self, text: str) -> None:
        self.record.note(self.target.redactor(text))

    # -- 0. preflight -----------------------------------------------------------------------

    def check_environment_file(self) -> None:
        """Read the file again: what runs is what it says now (an edit since start-up shows)."""
        try:
            again = parse_environment(self.env.path)
        except (OSError, EnvironmentFileError) as error:
            raise CheckFailed(str(error)) from error
        require(again == self.env, f"{self.env.path} changed since the run started: start again")
        self.note(f"environment {self.env.name} from {self.env.path}")

    def check_docker(self) -> None:
        server = self.run(docker.info(), "docker info (is the Docker engine running?)")
        compose = self.run(self.compose.version(), " ".join(self.env.compose_command) + " version")
        self.record.facts["docker_server"] = server.stdout.strip()
        self.record.facts["compose_version"] = (
            compose.stdout.splitlines()[0] if compose.stdout else ""
        )

    def check_files(self) -> None:
        require(
            self.target.exists(self.env.compose_path),
            f"compose file {self.env.compose_path} does not exist: check deploy.dir and "
            f"deploy.compose_file in {self.env.path}",
        )
        require(
            self.target.exists(self.env.secrets_dir / ".git"),
            f"secrets checkout {self.env.secrets_dir} is not a git checkout: clone "
            "atmosphere-docker-secrets there",
        )

    def load_secrets(self) -> None:
        """Learn every secret value before anything is printed, and the database password."""
        values = secrets.all_branch_secrets(self.target, self.env.secrets_dir)
        path, _, key = self.env.database.password_from.partition(":")
        settings = secrets.read_settings(self.env.secrets_dir, path)
        require(
            bool(settings.get(key)),
            f"{self.env.secrets_dir / path} has no {key}: the database password is needed",
        )
        self._password = settings[key]
        token = _environ().get(self.env.api_token_env, "")
        self.target.redactor.add([*values, self._password, token])
        self.note(f"{len(self.target.redactor)} secret values are masked in every report")

    def inspect_running(self) -> None:
        """The deployment as it runs now: its images, versions and the rows we must keep."""
        if self.resumed_from:
            self.note(
                f"resuming run {self.resumed_from}: the previous release, its versions and "
                "its rows are taken from that run's record"
            )
            return
        running = self.containers()
        file_images = compose_file.read_images(self.target.read_text(self.env.compose_path))
        for app in self.apps:
            require(
                app in running and running[app].status == "running",
                f"{app} is not running in compose project {self.env.project}: "
                "the upgrade starts from a running deployment",
            )
            repository, _ = compose_file.split_reference(file_images.get(app, ""))
            require(
                repository == self.service(app).image,
                f"{self.env.compose_path} runs {app} from {repository!r} but {self.env.path} "
                f"says {self.service(app).image!r}",
            )
            self.previous_images[app] = running[app].image
        previous = Release.from_image_tag(
            compose_file.split_reference(self.previous_images[self.apps[0]])[1] or ""
        )
        self.record.previous_release = (
            str(previous) if previous else self.previous_images[self.apps[0]]
        )
        self.record.facts["previous_images"] = dict(self.previous_images)
        self.versions_before = {app: self.version(app) for app in self.apps}
        self.record.facts["versions_before"] = self.versions_before
        self.snapshot_preflight = {
            name: self.db.fingerprints(name) for name in self.env.database.names
        }
        self.record.facts["snapshot_preflight"] = self.snapshot_preflight
        self.schema_before = {
            name: self.schema_fingerprint(name) for name in self.env.database.names
        }
        self.record.facts["schema_before"] = self.schema_before
        self.note("rows in preflight: " + _counts(self.snapshot_preflight))

    def check_room_and_clock(self) -> None:
        """Room for the backups and dumps (estimated from the databases and the containers'
        own layers, plus the environment's margin) and a target clock that agrees with ours."""
        sizes = {
            name: int(self.db.scalar(name, f"SELECT pg_database_size('{name}')") or 0)
            for name in self.env.database.names
        }
        containers = self.containers()
        layers = 0
        if containers:
            inspected = self.run(
                docker.inspect_sizes([c.id for c in containers.values()]), "docker inspect --size"
            )
            layers = sum(int(item.get("SizeRw") or 0) for item in json.loads(inspected.stdout))
        margin = int(self.env.free_space_margin_mb * 2**20)
        needed = sum(sizes.values()) + layers + margin
        df = self.run(
            read(["df", "-P", "-B1", str(self.env.backup_dir)]), "df of the backup directory"
        )
        free = int(df.stdout.splitlines()[-1].split()[3])
        mib = 2**20
        self.record.facts["disk"] = {
            "free_bytes": free,
            "needed_bytes": needed,
            "databases_bytes": sizes,
            "container_layers_bytes": layers,
            "margin_bytes": margin,
        }
        require(
            free >= needed,
            f"not enough room in {self.env.backup_dir}: {free // mib} MiB free, "
            f"{needed // mib} MiB needed (databases {sum(sizes.values()) // mib} MiB, "
            f"container layers {layers // mib} MiB, margin {margin // mib} MiB); "
            "nothing was changed",
        )
        clock = self.run(read(["date", "-u", "+%s"]), "date on the target")
        skew = abs(int(clock.stdout.strip()) - time.time())
        self.record.facts["clock_skew_s"] = round(skew, 1)
        require(
            skew < 300,
            f"the target's clock is {skew:.0f} s off this machine's: the "
            "maintenance title carries the date; fix the clock first",
        )
        self.note(
            f"{free // mib} MiB free for {needed // mib} MiB of backups and dumps; "
            f"clock skew {skew:.1f} s"
        )

    def schema_fingerprint(self, database: str) -> str:
        """Tables, columns and applied migrations: what a careless rollback would leave newer."""
        return self.db.scalar(
            database,
            "SELECT md5(coalesce(string_agg(table_name || '.' || column_name || ':' || data_type,"
            " ',' ORDER BY table_name, column_name), '') || coalesce((SELECT string_agg(app || "
            "'.' || name, ',' ORDER BY app, name) FROM django_migrations), '')) "
            "FROM information_schema.columns WHERE table_schema = 'public'",
        )

    # -- dumps, before anything changes ---------------------------------------------------------

    def dump_databases(self) -> None:
        """pg_dump each database into the backup directory; a second dump the same day gets a
        new name, never the first one's."""
        for name in self.env.database.names:
            counts = dumps.row_counts(self.db, name)
            path = dumps.dump_name(
                dumps.kind_for(name), self.day, self.env.backup_dir, self.target.exists
            )
            result = dumps.dump(
                self.target, self.env.database, self._password, self.compose, name, path
            )
            after = dumps.row_counts(self.db, name)
            self.dumps[name] = {**result.as_record(), "counts": counts, "counts_after": after}
            self.note(f"dumped {name} to {path} ({result.bytes} bytes in {result.seconds:.1f} s)")
        self.record.facts["dumps"] = self.dumps

    def check_dumps_restore(self) -> None:
        """Each dump restored into a throwaway server that stays up for the migrations: its
        rows are the dump file's, and the source's wherever nobody wrote during the dump."""
        for name, info in self.dumps.items():
            path = Path(info["path"])
            dumps.check_complete(path)
            in_file = window_dumps.rows_in_dump(self.target, path)
            copy = dumps.RestoredCopy(
                path, self.env.database.verify_image, self.env.database.user, self.record.run_id
            )
            self.copies[name] = copy
            copy.open()
            dumps.require_counts(path, in_file, copy.counts)
            still = {t: c for t, c in info["counts"].items() if info["counts_after"].get(t) == c}
            dumps.require_counts(path, still, {t: in_file.get(t, -1) for t in still})
            written = sorted(set(info["counts"]) - set(still))
            info["fingerprints"] = fingerprint_database(copy.query)
            info["verified"] = {
                "rows": sum(copy.counts.values()),
                "tables": len(copy.counts),
                "server_major": copy.server_major,
                "written_during_dump": written,
                "seconds": {k: round(v, 2) for k, v in copy.seconds.items()},
            }
            self.note(
                f"{path} restored {sum(copy.counts.values())} rows in {len(copy.counts)} tables, "
                "counts equal"
                + (f" (written while it was taken: {', '.join(written)})" if written else "")
            )
        self.record.facts["dumps"] = self.dumps

    def rehearse_migrations(self) -> None:
        """The release's images migrate the restored copies one migration at a time, each
        followed by a reading of the copy; a failure halts with nothing touched and nobody
        locked out."""
        if self.planning:
            self.note("the release's migrations would run on the restored copies of the dumps")
            return
        for name, copy in self.copies.items():
            rehearsal = RehearsedMigrations(name)
            before = self.dumps[name]["fingerprints"]
            for app in self.apps_of(name):
                with self._copy_settings(app, copy) as manage:
                    plan = manage("showmigrations", "--plan")
                    self._require_ok(plan, app, name, copy)
                    for migration in unapplied(plan.stdout):
                        label, _, number = migration.partition(".")
                        result = manage("migrate", label, number, "--noinput", "-v", "2")
                        self._require_ok(result, app, name, copy)
                        after = fingerprint_database(copy.query)
                        rehearsal.migrations.append(migration)
                        rehearsal.timings.update(applied_timings(result.stdout))
                        rehearsal.seconds += result.seconds
                        rehearsal.tables_by_migration[migration] = list(
                            row_checks.migration_changes(before, after)
                        )
                        before = after
            rehearsal.changes = row_checks.migration_changes(
                self.dumps[name]["fingerprints"], before
            )
            self.rehearsed[name] = {**vars(rehearsal), "fingerprints": before}
            self.note("migrations rehearsed on " + rehearsal.summary())
        self.record.facts["migration_rehearsal"] = self.rehearsed

    def _require_ok(self, result: Result, app: str, name: str, copy: dumps.RestoredCopy) -> None:
        require(
            result.ok,
            f"the migrations of {self.target_image(app)} fail on a copy of {name} "
            f"restored from {copy.path} (exit {result.rc}): "
            f"{self.target.redactor(result.tail(1))}; nothing was changed and users "
            "were never locked out: fix the release",
        )

    def check_migration_rehearsal(self) -> None:
        """`migrate --check` of the release on each copy, then the copies go."""
        try:
            for name, copy in self.copies.items():
                require(name in self.rehearsed, f"the migrations were not rehearsed on {name}")
                for app in self.apps_of(name):
                    with self._copy_settings(app, copy) as manage:
                        result = manage("migrate", "--check")
                    require(
                        result.ok,
                        f"{self.target_image(app)} still finds unapplied migrations on the "
                        f"rehearsed copy of {name}: {self.target.redactor(result.tail(1))}",
                    )
        finally:
            self.close_copies()

    def apps_of(self, database: str) -> list[str]:
        return [app for app in self.apps if self.service(app).database == database]

    @contextmanager
    def _copy_settings(self, app: str, copy: dumps.RestoredCopy) -> Iterator[Callable[..., Result]]:
        """A runner of `manage.py` from the release's image against `copy`, with the
        environment's settings of the secrets branch but for the database (a private file on
        the target, removed afterwards)."""
        service = self.service(app)
        ini = self.run(
            git.show(self.env.secrets_dir, self.env.secrets_branch, service.ini),
            f"git show of {service.ini} on the secrets branch {self.env.secrets_branch}",
        ).stdout
        folder = self.run(read(["mktemp", "-d"]), "mktemp -d").stdout.strip()  # not deployed
        settings = Path(folder) / "variables.ini"
        try:
            self.target.create_exclusive(
                settings,
                settings_for_copy(ini, "127.0.0.1", 5432, copy.DATABASE, copy.owner, copy.password),
            )
            self.target.redactor.add([copy.password])

            def manage(*command: str) -> Result:
                argv = manage_argv(
                    self.target_image(app),
                    service,
                    copy.container_id,
                    str(settings),
                    run_labels(self.record.run_id),
                    *command,
                )
                return self.target.run(argv, timeout=3600)

            yield manage
        finally:
            self.target.run(read(["rm", "-rf", folder]))

    def close_copies(self) -> None:
        while self.copies:
            _, copy = self.copies.popitem()
            copy.close()

    def pull_target_images(self) -> None:
        for app in self.apps:
            image = self.target_image(app)
            result = self.target.run(docker.pull(image), timeout=1800)
            require(
                result.ok,
                f"image {image} could not be pulled ({result.tail(1)}); nothing "
                "was changed: publish the image or correct --release",
            )
            self.pulled_in_preflight.add(image)
            self.note(f"pulled {image}")

    def check_target_images_present(self) -> None:
        for app in self.apps:
            image = self.target_image(app)
            require(
                image_labels(self.target, image) is not None,
                f"image {image} is not on the deploy host",
            )

    # -- 1. maintenance -----------------------------------------------------------------------

    def start_maintenance(self, app: str) -> None:
        """Start it, unless this release's record is already active: never a second one."""
        service = self.service(app)
        active = self.db.active_records(service.database, service.maintenance_table)
        if (self.title, self.message) in active:
            self.note(f"maintenance on {app} is already on with this title; not started again")
            self.maintenance_on[app] = True
            return
        argv = self.compose.exec_(
            app, manage.maintenance_start(service.venv, service.workdir, self.title, self.message)
        )
        self.run(argv, f"maintenance start on {app}")
        self.maintenance_on[app] = True
        self.record.maintenance_window.setdefault("started", utc_now())

    def check_one_active_record(self, app: str) -> None:
        service = self.service(app)
        records = self.db.active_records(service.database, service.maintenance_table)
        require(
            len(records) == 1,
            f"{service.database}.{service.maintenance_table} holds {len(records)} active "
            "maintenance records, expected exactly 1",
        )
        require(
            records[0] == (self.title, self.message),
            f"the active record in {service.maintenance_table} does not carry the title "
            f"{self.title!r} and the message",
        )

    def check_atmosphere_503(self) -> None:
        http_checks.atmosphere_in_maintenance(
            self.service("atmosphere").url, self.title, self.message
        )

    def check_troposphere_maintenance_page(self) -> None:
        http_checks.troposphere_in_maintenance(self.service("troposphere").url, self.message)

    # -- 2. secrets -------------------------------------------------------------------------

    def checkout_secrets(self) -> None:
        directory = self.env.secrets_dir
        self.secrets_head_before = self.run(
            git.rev_parse(directory, "HEAD"), "git rev-parse"
        ).stdout.strip()
        self.run(
            git.checkout(directory, self.env.secrets_branch),
            f"checkout of secrets branch {self.env.secrets_branch}",
        )

    def check_secrets(self) -> None:
        directory = self.env.secrets_dir
        branch = self.target.run(git.current_branch(directory)).stdout.strip()
        require(
            branch == self.env.secrets_branch,
            f"secrets checkout is on {branch or 'a detached HEAD'}, expected "
            f"{self.env.secrets_branch}",
        )
        dirty = self.target.run(git.status(directory)).stdout.strip()
        require(not dirty, f"secrets checkout has uncommitted changes: {dirty.splitlines()[:5]}")
        settings: dict[str, dict[str, str]] = {}
        for path in secrets.SETTINGS_FILES:
            require(self.target.exists(directory / path), f"secrets checkout lacks {path}")
            settings[path] = secrets.read_settings(directory, path)
        for required in self.env.required_keys:
            path, _, key = required.partition(":")
            require(
                bool(settings.get(path, {}).get(key, "").strip()),
                f"{path} in the secrets checkout has no value for {key}",
            )
        self.target.redactor.add(v for s in settings.values() for v in secrets.secret_values(s))

    def list_secret_changes(self, last_commit: str | None) -> dict[str, list[str]]:
        """Keys changed since the last recorded deployment (or the previous checkout)."""
        directory = self.env.secrets_dir
        head = self.run(git.rev_parse(directory, "HEAD"), "git rev-parse").stdout.strip()
        since = "the last recorded deployment"
        if not last_commit or not self.target.run(git.has_commit(directory, last_commit)).ok:
            last_commit, since = self.secrets_head_before, "the commit checked out before"
        changes = secrets.key_changes(
            secrets.settings_at(self.target, directory, last_commit),
            secrets.settings_at(self.target, directory, head),
        )
        self.record.facts["secrets_commit"] = head
        self.record.facts["secrets_changes"] = {"since": f"{last_commit} ({since})", **changes}
        for kind, keys in changes.items():
            self.note(f"secrets keys {kind} since {since}: {', '.join(keys) or 'none'}")
        return changes

    # -- 3. stop and back up ------------------------------------------------------------------

    def stop(self) -> None:
        self.run(self.compose.stop(), "docker-compose stop", timeout=900)
        self.stopped = True

    def read_stopped_databases(self) -> None:
        """The "before" that counts: read once nothing writes. What users and tasks wrote while
        the run prepared is noted, never mistaken for a loss."""
        self.snapshot_before = {
            name: self.db.fingerprints(name) for name in self.env.database.names
        }
        self.record.facts["snapshot_before"] = self.snapshot_before
        written: dict[str, list[str]] = {}
        for name, stopped in self.snapshot_before.items():
            preflight = row_checks.checked(self.snapshot_preflight.get(name, {}))
            for table in row_checks.changed_tables(preflight, row_checks.checked(stopped)):
                how = row_checks.differences(preflight.get(table), stopped.get(table))
                written.setdefault(name, []).append(f"{table}: {'; '.join(how)}")
        self.record.facts["written_while_preparing"] = written
        self.note(
            f"{sum(total_rows(f) for f in self.snapshot_before.values())} rows read with the apps "
            "stopped; written while the run prepared: "
            + ("; ".join(f"{db}: {', '.join(t)}" for db, t in written.items()) or "nothing")
        )

    def dump_written_tables(self) -> None:
        """Dump again each table written since the proven dump: only its new rows when it just
        grew, else all its rows (maintenance records aside: a rollback carries the active ones
        over itself)."""
        if self.planning:
            self.note("the tables written since the proven dumps would be dumped again")
            return
        for name, info in self.dumps.items():
            maintenance = {self.service(app).maintenance_table for app in self.apps_of(name)}
            dumped, stopped = info.get("fingerprints") or {}, self.snapshot_before[name]
            changed = [
                table
                for table in row_checks.changed_tables(dumped, stopped)
                if table in stopped and table not in maintenance
            ]
            grown = self._grown_only(name, dumped, changed)
            window: dict[str, Any] = {"tables": [t for t in changed if t not in grown]}
            if window["tables"]:
                path = dumps.dump_name(
                    f"{dumps.kind_for(name)}-window",
                    self.day,
                    self.env.backup_dir,
                    self.target.exists,
                )
                result = dumps.dump(
                    self.target,
                    self.env.database,
                    self._password,
                    self.compose,
                    name,
                    path,
                    extra=pg.tables_only(window["tables"]),
                )
                window.update(result.as_record())
            window["grown"] = {t: self._dump_new_rows(name, t, last) for t, last in grown.items()}
            info["window"] = window
            parts = [f"all rows of {', '.join(window['tables'])}"] if window["tables"] else []
            parts += [f"the new rows of {table}" for table in window["grown"]]
            self.note(
                f"{name}: dumped again, as written since the proven dump: "
                + ("; ".join(parts) or "nothing")
            )
        self.record.facts["dumps"] = self.dumps

    def _grown_only(self, name: str, dumped: Fingerprints, tables: list[str]) -> dict[str, int]:
        """The tables whose rows up to the dump's highest id are still the dump's: {table: id}."""
        last = {t: dumped[t]["max_id"] for t in tables if (dumped.get(t) or {}).get("max_id")}
        if not last:
            return {}
        old = self.db.fingerprints(name, list(last), upto=last)
        return {t: n for t, n in last.items() if same(old.get(t), dumped[t])}

    def _dump_new_rows(self, name: str, table: str, last_id: int) -> dict[str, Any]:
        path = dumps.dump_name(
            f"{dumps.kind_for(name)}-window-{table}",
            self.day,
            self.env.backup_dir,
            self.target.exists,
            suffix=".rows",
        )
        result = self.target.run_to_file(
            self.db.argv(name, window_dumps.rows_after_sql(table, last_id)),
            path,
            env={"PGPASSWORD": self._password},
        )
        if not result.ok:
            self.target.remove(path)
            raise CheckFailed(
                f"the new rows of {name}.{table} could not be dumped (exit {result.rc}): "
                f"{self.target.redactor(result.tail(1))}"
            )
        sequence = self.db.scalar(name, window_dumps.sequence_value_sql(table))
        return {
            "path": str(path),
            "after_id": last_id,
            "sequence": int(sequence) if sequence else None,
            "seconds": round(result.seconds, 2),
        }

    def check_window_dumps(self) -> None:
        """Each window dump holds what the stopped database has: all rows of a rewritten
        table, and exactly the rows a grown table gained since the proven dump."""
        for name, info in self.dumps.items():
            window = info.get("window")
            require(window is not None, f"no window dump of {name} was considered")
            stopped, dumped = self.snapshot_before[name], info.get("fingerprints") or {}
            if window["tables"]:
                path = Path(window["path"])
                dumps.check_complete(path)
                window_dumps.require_rows(
                    path,
                    window_dumps.rows_in_dump(self.target, path),
                    {t: stopped[t]["count"] for t in window["tables"]},
                )
            for table, grown in window.get("grown", {}).items():
                path = Path(grown["path"])
                lines = self.run(window_dumps.count_lines(path), f"wc -l {path}").stdout
                window_dumps.require_rows(
                    path,
                    {table: int(lines.split()[0])},
                    {table: stopped[table]["count"] - dumped[table]["count"]},
                )

    def check_all_exited(self) -> None:
        containers = self.containers()
        require(bool(containers), f"no containers found for compose project {self.env.project}")
        running = [c.name for c in containers.values() if c.status != "exited"]
        require(not running, f"still running after stop: {', '.join(running)}")

    def backup_name(self, service: str) -> str:
        previous = self.previous_images.get(service) or self.containers()[service].image
        tag = compose_file.split_reference(previous)[1] or "previous"
        return f"old_{self.env.project}_{service}:{tag}"

    def back_up(self) -> None:
        """Commit each service container; an existing backup is kept, never overwritten."""
        for service, container in sorted(self.containers().items()):
            name = self.backup_name(service)
            existing = image_labels(self.target, name)
            if existing is not None:
                self.note(f"kept the existing backup {name}")
            else:
                self.run(
                    docker.commit(
                        container.id,
                        name,
                        {
                            docker.BACKUP_FROM_LABEL: container.image,
                            "org.cyverse.atmo-release": "backup",
                        },
                    ),
                    f"docker commit of {container.name}",
                )
            self.backups[service] = name
        self.record.facts["backups"] = dict(self.backups)

    def check_backups(self) -> None:
        for service, container in self.containers().items():
            name = self.backups.get(service) or self.backup_name(service)
            labels = image_labels(self.target, name)
            require(labels is not None, f"backup image {name} of {service} does not exist")
            recorded = (labels or {}).get(docker.BACKUP_FROM_LABEL)
            require(
                recorded == container.image,
                f"backup image {name} records {recorded!r}, but {service} ran {container.image!r}",
            )

    # -- 4. deploy checkout -------------------------------------------------------------------

    def update_checkout(self) -> None:
        directory = self.env.deploy_dir
        local = self.run(git.diff(directory), "git diff").stdout
        untracked = self.run(git.status(directory), "git status").stdout
        self.run(git.fetch(directory), "git fetch")
        incoming = self.run(git.incoming(directory), "git log HEAD..@{u}").stdout
        self.checkout_saved = {
            "local.diff": local,
            "status.txt": untracked,
            "incoming.txt": incoming,
        }
        self.reports_dir.mkdir(parents=True, exist_ok=True)
        for name, text in self.checkout_saved.items():
            (self.reports_dir / f"deploy-checkout-{name}").write_text(self.target.redactor(text))
        self.record.facts["deploy_checkout"] = {
            "local_diff_lines": len(local.splitlines()),
            "incoming_commits": incoming.splitlines(),
            "saved_in": str(self.reports_dir),
        }
        self.note(
            f"saved {len(local.splitlines())} lines of local changes and "
            f"{len(incoming.splitlines())} incoming commits before the reset"
        )
        self.run(git.reset_hard(directory), "git reset --hard")
        self.run(git.pull(directory), "git pull")

    def check_checkout(self) -> None:
        directory = self.env.deploy_dir
        head = self.run(git.rev_parse(directory, "HEAD"), "git rev-parse HEAD").stdout.strip()
        upstream = self.run(git.rev_parse(directory, "@{u}"), "git rev-parse @{u}").stdout.strip()
        require(
            head == upstream,
            f"deploy checkout HEAD {head[:12]} is not the upstream head {upstream[:12]}",
        )
        for name, text in self.checkout_saved.items():
            path = self.reports_dir / f"deploy-checkout-{name}"
            require(
                path.is_file() and path.read_text() == self.target.redactor(text),
                f"the saved copy {path} does not hold what was local before the reset",
            )

    # -- 5. new images --------------------------------------------------------------------------

    def committed_compose_text(self) -> str:
        """The compose file as the deploy checkout's HEAD has it: the base of every edit."""
        return self.run(
            git.show(self.env.deploy_dir, "HEAD", self.env.compose_file),
            "git show of the committed compose file",
        ).stdout

    def edit_compose_file(self) -> None:
        """Set the release's tags; a file that already has them is not written again."""
        path = self.env.compose_path
        current = self.target.read_text(path)
        updated = compose_file.set_image_tags(
            current, {app: self.release.image_tag for app in self.apps}
        )
        self.compose_edited = True
        if updated == current:
            self.note(f"{path.name} already names the release's images; not edited again")
            return
        self.target.write_text(path, updated)
        for number, old, new in compose_file.changed_lines(current, updated):
            self.note(f"{path.name}:{number}: {old.strip()} -> {new.strip()}")

    def check_compose_file(self) -> None:
        config = self.run(self.compose.config(), "docker-compose config")
        services = (yaml.safe_load(config.stdout) or {}).get("services", {})
        for app in self.apps:
            shown = services.get(app, {}).get("image")
            require(
                shown == self.target_image(app),
                f"docker-compose config shows {app} image {shown!r}, expected "
                f"{self.target_image(app)!r}",
            )
        text = self.target.read_text(self.env.compose_path)
        for number, old, new in compose_file.changed_lines(self.committed_compose_text(), text):
            require(
                old.strip().startswith("image:") and new.strip().startswith("image:"),
                f"the compose edit changed line {number} which is not an image line: "
                f"{old.strip()!r} -> {new.strip()!r}",
            )

    def pull_and_up(self) -> None:
        """`docker-compose pull` unless preflight pulled the release's images already (outside
        the maintenance window), then `up -d`."""
        if self.pulled_in_preflight >= {self.target_image(app) for app in self.apps}:
            self.note("the release's images were pulled in preflight; docker-compose pull skipped")
        else:
            self.run(
                self.compose.pull(list(self.apps)),
                "docker-compose pull",
                timeout=1800,
            )
        self.run(self.compose.up(), "docker-compose up -d", timeout=900)
        self.new_release_up = True

    def check_running_target_images(self) -> None:
        containers = self.containers()
        for app in self.apps:
            container = containers.get(app)
            require(container is not None, f"no {app} container after up -d")
            assert container is not None
            require(
                container.image == self.target_image(app),
                f"{app} runs {container.image}, expected {self.target_image(app)}",
            )
            require(container.status == "running", f"{app} is {container.status} after up -d")

    def wait_until_ready(self) -> None:
        urls = {app: self.service(app).url for app in self.apps}
        probes = {
            "atmosphere": lambda: http_checks.atmosphere_ready(urls["atmosphere"]),
            "troposphere": lambda: http_checks.troposphere_ready(urls["troposphere"]),
        }
        interval, timeout = self.env.readiness_interval_s, self.env.readiness_timeout_s
        try:
            ready = http_checks.wait_until({a: probes[a] for a in self.apps}, interval, timeout)
        finally:
            self.record.facts["readiness"] = {"interval_s": interval, "timeout_s": timeout}
        self.record.facts["readiness"]["ready_after_s"] = ready
        self.note(f"ready after {ready} (polled every {interval:g} s, timeout {timeout:g} s)")

    # -- 6. use and test ------------------------------------------------------------------------

    def version(self, app: str) -> dict[str, str]:
        """Atmosphere through an exempt user's token, troposphere through its open endpoint."""
        if app == "troposphere":
            return http_checks.version(self.service(app).url + http_checks.TROPOSPHERE_VERSION)
        token = _environ().get(self.env.api_token_env, "")
        headers = {"Authorization": f"Token {token}"} if token else None
        return http_checks.version(self.service(app).url + http_checks.ATMOSPHERE_VERSION, headers)

    def check_versions(self) -> None:
        containers = self.containers()
        versions: dict[str, dict[str, str]] = {}
        for app in self.apps:
            service = self.service(app)
            served = self.version(app)
            baked = self.run(
                docker.exec_(containers[app].id, manage.git_head(service.workdir)),
                f"git rev-parse in the {app} container",
            ).stdout.strip()
            require(
                served["git_sha"] == baked,
                f"{app} serves {served['git_sha'][:12]} but its image holds {baked[:12]}",
            )
            before = self.versions_before.get(app, {}).get("git_sha")
            require(
                served["git_sha"] != before,
                f"{app} still serves {served['git_sha'][:12]}, the version from before",
            )
            versions[app] = served
        self.record.facts["versions_after"] = versions

    def check_migrations(self) -> None:
        """`migrate --check` in each running container at once: it also proves the app reaches
        its database."""
        containers = self.containers()

        def check(app: str) -> None:
            service = self.service(app)
            self.run(
                docker.exec_(
                    containers[app].id, manage.migrate_check(service.venv, service.workdir)
                ),
                f"{app}: unapplied migrations or no database (manage.py migrate --check)",
            )

        with ThreadPoolExecutor(max_workers=len(self.apps)) as pool:
            list(pool.map(check, self.apps))

    def check_logs(self) -> None:
        for app, container in self.containers().items():
            logs = self.run(docker.logs(container.id, container.started_at), f"docker logs {app}")
            text = logs.stdout + logs.stderr
            at = text.find("Traceback")
            require(
                at < 0,
                f"{app} logged a Traceback since it started: "
                f"{self.target.redactor(text[at : at + 300])}",
            )

    def check_rows_kept(self) -> None:
        """Untouched tables identical to when the apps stopped; touched ones as rehearsed."""
        problems: list[str] = []
        after = {}
        for name, stopped in self.snapshot_before.items():
            after[name] = self.db.fingerprints(name)
            rehearsed = self.rehearsed.get(name) or {}
            lost, notes = row_checks.judge_upgrade(
                stopped,
                after[name],
                (self.dumps.get(name) or {}).get("fingerprints") or {},
                rehearsed.get("fingerprints") or {},
                dict(rehearsed.get("tables_by_migration") or {}),
            )
            problems += [f"{name}: {p}" for p in lost]
            for text in notes:
                self.note(f"{name}: {text}")
        self.note("rows after: " + _counts(after))
        require(not problems, "; ".join(problems))

    # -- 7. end maintenance ---------------------------------------------------------------------

    def stop_maintenance(self, app: str) -> None:
        service = self.service(app)
        argv = self.compose.exec_(app, manage.maintenance_stop(service.venv, service.workdir))
        self.run(argv, f"maintenance stop on {app}")
        self.maintenance_on[app] = False
        if not any(self.maintenance_on.values()):
            self.record.maintenance_window["ended"] = utc_now()

    def check_no_active_record(self, app: str) -> None:
        service = self.service(app)
        active = self.db.active_maintenance(service.database, service.maintenance_table)
        require(active == 0, f"{service.maintenance_table} still holds {active} active records")

    def check_users_let_in(self) -> None:
        http_checks.atmosphere_open(self.service("atmosphere").url)
        http_checks.troposphere_open(self.service("troposphere").url)

    # -- where the stack was left ---------------------------------------------------------------

    def stack_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "maintenance on": {app: on for app, on in self.maintenance_on.items()} or "no",
            "containers stopped by this run": self.stopped,
            "backups": self.backups or "none taken",
            "compose file edited": self.compose_edited,
            "new release started": self.new_release_up,
        }
        try:
            state["containers now"] = {
                s: f"{c.status} {c.image}" for s, c in self.containers().items()
            }
        except CheckFailed as error:
            state["containers now"] = f"unknown ({error})"
        return state

    def next_safe_command(self) -> str:
        compose = " ".join(self.compose.up()[:-2])
        rerun = f"pytest features/deploy.feature --env={self.env.name} --release={self.release}"
        if not self.maintenance_on:
            return f"nothing was changed; fix the cause above, then: {rerun}"
        rolled_back = self.record.facts.get("rollback")
        if rolled_back:
            stop = (
                f"{compose} exec -T troposphere {self.service('troposphere').venv}/bin/python "
                f"{self.service('troposphere').workdir}/manage.py maintenance stop (then the "
                "same for atmosphere)"
            )
            if rolled_back.get("proven"):
                return (
                    f"rolled back to {rolled_back['images']} and proven; maintenance is still "
                    f"on: look at the old release, then end maintenance with: {stop}"
                )
            return (
                "a rollback ran but did not prove itself (see the failed step); maintenance "
                "is on: restore by hand from the dumps in the record, then check again"
            )
        if not self.stopped:
            return (
                f"the old release still serves under maintenance; fix the cause, or end "
                f"maintenance with: {compose} exec -T troposphere "
                f"{self.service('troposphere').venv}/bin/python "
                f"{self.service('troposphere').workdir}/manage.py maintenance stop "
                "(then the same for atmosphere)"
            )
        if not self.new_release_up:
            back = " ".join(
                f"--set {app}={compose_file.split_reference(img)[1]}"
                for app, img in self.previous_images.items()
            )
            return (
                f"the old release is stopped and backed up; to bring it back: "
                f"python -m atmo_release.compose_file {self.env.compose_path} {back} && "
                f"{compose} up -d"
            )
        return (
            f"the new release is up under maintenance; inspect with `{compose} logs`; to roll "
            f"back restore the database dumps, set the old tags and run `{compose} up -d`"
        )


def last_recorded_secrets_commit(reports_root: Path, env_name: str) -> str | None:
    """The secrets commit of the newest passed deployment of this environment, if any."""
    return next(
        (
            facts(data)["secrets_commit"]
            for _, data in read_records(reports_root, env_name)
            if data.get("outcome") == "passed" and facts(data).get("secrets_commit")
        ),
        None,
    )


def _counts(snapshots: dict[str, Any]) -> str:
    return "; ".join(
        f"{db}: " + ", ".join(f"{t}={v['count']}" for t, v in tables.items())
        for db, tables in snapshots.items()
    )


def _environ() -> dict[str, str]:
    return dict(os.environ)
