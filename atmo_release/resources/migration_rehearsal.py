"""The release's migrations run on the proven dumps' restored copies, one at a time, before
anybody is locked out: a failure halts with nothing touched."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from atmo_release import row_checks
from atmo_release.checks import require
from atmo_release.commands import git, read
from atmo_release.fingerprint import fingerprint_database
from atmo_release.labels import run_labels
from atmo_release.migration_rehearsal import (
    RehearsedMigrations,
    applied_timings,
    manage_argv,
    settings_for_copy,
    unapplied,
    unreached,
)
from atmo_release.resources import Resource
from atmo_release.restored_copy import RestoredCopy
from atmo_release.target import Result


class MigrationRehearsal(Resource):
    def rehearse(self) -> None:
        """The release's images migrate the restored copies one migration at a time, each
        followed by a reading of the copy."""
        if self.deployment.planning:
            self.note("the release's migrations would run on the restored copies of the dumps")
            return
        for name, copy in self.deployment.proven_dumps.copies.items():
            rehearsal = RehearsedMigrations(name)
            before = self.state.dumps[name]["fingerprints"]
            for app in self.apps_of(name):
                with self._manage_on(app, copy) as manage:
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
                self.state.dumps[name]["fingerprints"], before
            )
            self.state.rehearsed[name] = {**vars(rehearsal), "fingerprints": before}
            self.note("migrations rehearsed on " + rehearsal.summary())
        self.record.facts["migration_rehearsal"] = self.state.rehearsed

    def check(self) -> None:
        """`migrate --check` of the release on each copy, then the copies go."""
        copies = self.deployment.proven_dumps
        try:
            for name, copy in copies.copies.items():
                require(
                    name in self.state.rehearsed, f"the migrations were not rehearsed on {name}"
                )
                for app in self.apps_of(name):
                    with self._manage_on(app, copy) as manage:
                        result = manage("migrate", "--check")
                    require(
                        result.ok,
                        f"{self.release_image(app)} still finds unapplied migrations on the "
                        f"rehearsed copy of {name}: {self.target.redactor(result.tail(1))}",
                    )
        finally:
            copies.close_copies()

    def apps_of(self, database: str) -> list[str]:
        return [app for app in self.apps if self.service(app).database == database]

    def _require_ok(self, result: Result, app: str, name: str, copy: RestoredCopy) -> None:
        elsewhere = unreached(result.stdout + result.stderr) if not result.ok else ""
        require(
            not elsewhere,
            f"{self.release_image(app)}, set up by its own configure from the settings pointed "
            f"at the restored copy of {name}, did not reach it ({self.target.redactor(elsewhere)})"
            ": its settings name another database server, which the copy's internal network "
            "cannot reach; nothing was changed and users were never locked out: fix the "
            "release's settings template",
        )
        require(
            result.ok,
            f"the migrations of {self.release_image(app)} fail on a copy of {name} "
            f"restored from {copy.path} (exit {result.rc}): "
            f"{self.target.redactor(result.tail(1))}; nothing was changed and users "
            "were never locked out: fix the release",
        )

    @contextmanager
    def _manage_on(self, app: str, copy: RestoredCopy) -> Iterator[Callable[..., Result]]:
        """A runner of `manage.py` from the release's image against `copy`, with the
        environment's settings of the secrets branch but for the database (a private file on
        the target, removed afterwards)."""
        service = self.service(app)
        ini = self.run(
            git.show(self.env.secrets_dir, self.env.secrets_branch, service.ini),
            f"git show of {service.ini} on the secrets branch {self.env.secrets_branch}",
        ).stdout
        folder = self.run(read(["mktemp", "-d"]), "mktemp -d").stdout.strip()  # not deployed
        settings = Path(folder) / Path(service.ini).name
        try:
            self.target.create_exclusive(
                settings,
                settings_for_copy(ini, copy.HOST, 5432, copy.DATABASE, copy.owner, copy.password),
            )
            self.target.redactor.add([copy.password])

            def manage(*command: str) -> Result:
                argv = manage_argv(
                    self.release_image(app),
                    service,
                    copy.network,
                    str(settings),
                    run_labels(self.record.run_id),
                    *command,
                )
                return self.target.run(argv, timeout=3600)

            yield manage
        finally:
            self.target.run(read(["rm", "-rf", folder]))
