"""The release's migrations run on the proven dumps' restored copies, one at a time, before
anybody is locked out: a failure halts with nothing touched. They run a second time on a file
copy of the same dump, and what differs between the two runs is stamped by the clock or chance
(`stamps`). The same runner migrates the window copies beside the real upgrade."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atmo_release.checks import require
from atmo_release.commands import docker, git
from atmo_release.data import row_checks, stamps
from atmo_release.data.fingerprint import Fingerprints
from atmo_release.data.migration_runs import (
    MigrationRun,
    applied_timings,
    manage_argv,
    settings_for_copy,
    unapplied,
    unreached,
)
from atmo_release.data.throwaway_copy import ThrowawayCopy
from atmo_release.labels import run_labels
from atmo_release.resources import Resource
from atmo_release.resources.private_files import private_file
from atmo_release.resources.proven_dumps import ProvenDumps
from atmo_release.target import Result

# (migration, row_checks.migration_changes of its step), in the order they ran
Steps = list[tuple[str, dict[str, Any]]]


class MigrationsOnCopy(Resource):
    def rehearse(self) -> None:
        """The release's images migrate the restored copies one migration at a time, each
        followed by a reading of the copy; then once more, all at once, on a file copy of the
        unmigrated dump, to tell the columns they stamp from those they compute."""
        if self.deployment.planning:
            self.note("the release's migrations would run on the restored copies of the dumps")
            return
        first = {
            name: self._rehearse_once(name, copy)
            for name, copy in self.resource(ProvenDumps).copies.items()
        }
        self._rehearse_again({name: ran for name, ran in first.items() if ran[2]})
        for name, (rehearsal, after, _) in first.items():
            self.state.rehearsed[name] = {**vars(rehearsal), "fingerprints": after}
            self.note("migrations rehearsed on " + rehearsal.summary())
        self.record.facts["migration_rehearsal"] = self.state.rehearsed

    def _rehearse_once(
        self, name: str, copy: ThrowawayCopy
    ) -> tuple[MigrationRun, Fingerprints, Steps]:
        rehearsal = MigrationRun(name)
        before = self.state.dumps[name]["fingerprints"]
        steps: Steps = []
        for app in self.apps_of(name):
            with self._manage_on(app, copy) as manage:
                plan = manage("showmigrations", "--plan")
                self._require_ok(plan.ok, plan.rc, printed(plan), app, name, copy)
                for migration in unapplied(plan.stdout):
                    label, _, number = migration.partition(".")
                    result = manage("migrate", label, number, "--noinput", "-v", "2")
                    self._require_ok(result.ok, result.rc, printed(result), app, name, copy)
                    after = copy.fingerprints()
                    changes = row_checks.migration_changes(before, after)
                    rehearsal.migrations.append(migration)
                    rehearsal.timings.update(applied_timings(result.stdout))
                    rehearsal.seconds += result.seconds
                    rehearsal.tables_by_migration[migration] = list(changes)
                    steps.append((migration, changes))
                    before = after
        rehearsal.changes = row_checks.migration_changes(
            self.state.dumps[name]["fingerprints"], before
        )
        return rehearsal, before, [step for step in steps if step[1]]

    def _rehearse_again(self, first: dict[str, tuple[MigrationRun, Fingerprints, Steps]]) -> None:
        """`verify` made again from the unmigrated copy and migrated at once, the databases
        side by side; a column whose values differ from the first run's is stamped."""
        copies = self.resource(ProvenDumps).copies
        for name in first:
            copies[name].clone(copies[name].DATABASE, copies[name].unmigrated)
        started = time.monotonic()
        runs = CopyMigrations(self, {name: (copies[name], copies[name].DATABASE) for name in first})
        for name, results in runs.start().finish().items():
            for app, rc, output in results:
                self._require_ok(rc == 0, rc, output, app, name, copies[name], "a second")
        seconds = time.monotonic() - started
        for name, (rehearsal, after, steps) in first.items():
            again = copies[name].fingerprints()
            columns, rows = stamps.differing_columns(
                row_checks.checked(after), row_checks.checked(again)
            )
            rehearsal.stamped = stamps.attribute(columns, steps)
            rehearsal.stamped_by_migration = stamps.by_migration(rehearsal.stamped)
            rehearsal.rows_differ_between_runs = rows
            rehearsal.second_run_seconds = round(seconds, 2)

    def check(self) -> None:
        """`migrate --check` of the release on each copy; then the migrated copies go, the
        unmigrated ones stay for the window (all go when a check fails)."""
        copies = self.resource(ProvenDumps)
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
        except BaseException:
            copies.close_copies()
            raise
        for copy in copies.copies.values():
            copy.drop(copy.DATABASE)

    def apps_of(self, database: str) -> list[str]:
        return [app for app in self.apps if self.service(app).database == database]

    def start_migrate(self, app: str, name: str, copy: ThrowawayCopy, database: str) -> Running:
        """`manage.py migrate` of `app`'s release on `database` of `copy` (of `name`),
        detached."""
        settings = ExitStack()
        manage = settings.enter_context(self._manage_on(app, copy, database))
        started = manage("migrate", "--noinput", detach=True)
        if not started.ok:
            settings.close()
        self._require_ok(started.ok, started.rc, printed(started), app, name, copy)
        container = started.stdout.split()[-1]
        copy.helpers.append(container)
        return Running(app, copy, container, settings)

    def finish_migrate(self, running: Running) -> tuple[int, str]:
        """(exit code, its last lines of output, redacted) of a detached migrate, once it ended;
        it is removed."""
        try:
            waited = self.target.run(docker.wait(running.container), timeout=3600)
            code = waited.stdout.strip()
            rc = int(code) if waited.ok and code.isdigit() else waited.rc or 1
            logs = self.target.run(docker.logs(running.container, tail=20)) if rc else None
            return rc, self.target.redactor(printed(logs) or "no output") if logs else ""
        finally:
            running.settings.close()
            self.target.run(docker.remove_throwaway(running.container), timeout=300)
            if running.container in running.copy.helpers:
                running.copy.helpers.remove(running.container)

    def _require_ok(
        self,
        ok: bool,
        rc: int,
        output: str,
        app: str,
        name: str,
        copy: ThrowawayCopy,
        which: str = "a",
    ) -> None:
        """`output`: what the run of manage.py printed (`printed`)."""
        elsewhere = unreached(output) if not ok else ""
        require(
            not elsewhere,
            f"{self.release_image(app)}, set up by its own configure from the settings pointed "
            f"at the restored copy of {name}, did not reach it ({self.target.redactor(elsewhere)})"
            ": its settings name another database server, which the copy's internal network "
            "cannot reach; nothing was changed and users were never locked out: fix the "
            "release's settings template",
        )
        lines = output.strip().splitlines()
        require(
            ok,
            f"the migrations of {self.release_image(app)} fail on {which} copy of {name} "
            f"restored from {copy.path} (exit {rc}): "
            f"{self.target.redactor(lines[-1] if lines else 'no output')}; nothing "
            "was changed and users were never locked out: fix the release",
        )

    @contextmanager
    def _manage_on(
        self, app: str, copy: ThrowawayCopy, database: str | None = None
    ) -> Iterator[Callable[..., Result]]:
        """A runner of `manage.py` from the release's image against `database` of `copy`
        (default `verify`), with the environment's settings of the secrets branch but for the
        database (a private file on the target, removed afterwards)."""
        service = self.service(app)
        ini = self.run(
            git.show(self.env.secrets_dir, self.env.secrets_branch, service.ini),
            f"git show of {service.ini} on the secrets branch {self.env.secrets_branch}",
        ).stdout
        text = settings_for_copy(
            ini, copy.HOST, 5432, database or copy.DATABASE, copy.owner, copy.password
        )
        self.target.redactor.add([copy.password])
        # readable by the image's user, as the bind mount it is
        with private_file(self.deployment, Path(service.ini).name, text, 0o644) as settings:

            def manage(*command: str, detach: bool = False) -> Result:
                argv = manage_argv(
                    self.release_image(app),
                    service,
                    copy.network,
                    str(settings),
                    run_labels(self.record.run_id),
                    *command,
                    detach=detach,
                )
                return self.target.run(argv, timeout=3600)

            yield manage


def printed(result: Result) -> str:
    """What a command printed, its errors last (`Result.tail`'s last line is its last)."""
    return "\n".join(text.strip() for text in (result.stdout, result.stderr) if text.strip())


@dataclass
class Running:
    """A detached `manage.py migrate` on a copy; `settings` holds its settings file."""

    app: str
    copy: ThrowawayCopy
    container: str
    settings: ExitStack


@dataclass
class CopyMigrations:
    """`manage.py migrate` of the apps of each database on its copy, detached: the databases
    side by side, the apps of one database one after the other."""

    rehearsal: MigrationsOnCopy
    copies: dict[str, tuple[ThrowawayCopy, str]]  # {database: (copy, database in the copy)}
    results: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)
    # {database: {app: seconds}} spent waiting for each to end (0 when it ended before)
    waited: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._queues = {name: self.rehearsal.apps_of(name) for name in self.copies}
        self._running: dict[str, Running] = {}

    def start(self) -> CopyMigrations:
        for name in self.copies:
            self.results[name] = []
            self._next(name)
        return self

    def _next(self, name: str) -> None:
        if self._queues[name]:
            copy, database = self.copies[name]
            app = self._queues[name].pop(0)
            self._running[name] = self.rehearsal.start_migrate(app, name, copy, database)

    def finish(self) -> dict[str, list[tuple[str, int, str]]]:
        """{database: [(app, exit code, last lines)]}, once every one has ended."""
        while self._running:
            name, running = self._running.popitem()
            started = time.monotonic()
            rc, output = self.rehearsal.finish_migrate(running)
            self.results[name].append((running.app, rc, output))
            self.waited.setdefault(name, {})[running.app] = round(time.monotonic() - started, 2)
            if rc == 0:
                self._next(name)
        return self.results
