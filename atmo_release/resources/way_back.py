"""The way back from a release in use, rehearsed on a fresh dump of today's data before anybody
is locked out, then taken in the window: the migrations reversed by the release's own code,
or, when they cannot be, the release day's dump restored once the loss is confirmed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atmo_release import dumps, row_checks, way_back
from atmo_release.checks import CheckFailed, require
from atmo_release.commands import docker, read
from atmo_release.fingerprint import timeout_for
from atmo_release.labels import run_labels
from atmo_release.migration_rehearsal import manage_argv
from atmo_release.resources import Resource
from atmo_release.sessions import client_env
from atmo_release.target import Result
from atmo_release.todays_copy import (
    TABLES_WITH_ID_SQL,
    TodaysCopy,
    secrets_ini,
    settings_file,
    tables_with_id,
)

if TYPE_CHECKING:
    from atmo_release.deployment import Deployment


class WayBack(Resource):
    def __init__(self, deployment: Deployment) -> None:
        super().__init__(deployment)
        self.copies: dict[str, TodaysCopy] = {}

    # -- on release day: what the upgrade left, row by row ----------------------------------

    def record_release_rows(self) -> None:
        """Every row's digest as the upgrade left it, into a file beside the dumps: what a
        later rollback counts as written since (a dump would discard it)."""
        if self.deployment.planning:
            self.note("each table's rows would be recorded row by row beside the dumps")
            return
        for name in self.env.database.names:
            tables = tables_with_id(self.db.query(name, TABLES_WITH_ID_SQL))
            path = dumps.dump_name(
                f"{dumps.kind_for(name)}-after-release",
                self.deployment.day,
                self.env.backup_dir,
                self.target.exists,
                suffix=".rows",
            )
            size = int(self.db.scalar(name, f"SELECT pg_database_size('{name}')") or 0)
            result = self.target.run_to_file(
                read(self.db.argv(name, way_back.digests_sql(tables))),  # beside the dumps
                path,
                env=client_env(self.deployment.password),
                timeout=timeout_for(size),
            )
            if not result.ok:
                self.target.remove(path)
                raise CheckFailed(
                    f"the rows of {name} could not be recorded (exit {result.rc}): "
                    f"{self.target.redactor(result.tail(1))}"
                )
            self.state.release_rows[name] = str(path)
        self.record.facts["release_rows"] = self.state.release_rows
        self.note(
            "rows as the upgrade left them, row by row: "
            + ", ".join(self.state.release_rows.values())
        )

    # -- before maintenance: room, and the rehearsal on a copy of today's data ---------------

    def check_room(self) -> None:
        """Room for what the rehearsal makes: the fresh dumps in the backup directory and their
        restored copies where Docker keeps its volumes (twice the data: indexes, WAL)."""
        size = sum(
            int(self.db.scalar(name, f"SELECT pg_database_size('{name}')") or 0)
            for name in self.env.database.names
        )
        root = self.run(docker.root_dir(), "docker info").stdout.strip()
        df = self.run(
            read(["df", "-P", "-B1", str(self.env.backup_dir), root]),
            "df of the backups and Docker",
        ).stdout.splitlines()[1:]
        (dump_fs, _, _, dump_free, *_), (copy_fs, _, _, copy_free, *_) = (
            line.split() for line in df
        )
        margin = int(self.env.free_space_margin_mb * 2**20)
        needs = {dump_fs: size + margin}
        needs[copy_fs] = needs.get(copy_fs, margin) + 2 * size
        free = {dump_fs: int(dump_free), copy_fs: int(copy_free)}
        mib = 2**20
        short = [
            f"{fs}: {free[fs] // mib} MiB free, {need // mib} MiB needed"
            for fs, need in needs.items()
            if free[fs] < need
        ]
        self.record.facts["way_back_room"] = {"databases_bytes": size, "free": free, "needs": needs}
        require(
            not short,
            f"not enough room to rehearse the way back on a copy of today's data (databases "
            f"{size // mib} MiB; dumps in {self.env.backup_dir}, copies in {root}): "
            f"{'; '.join(short)}; nothing was changed",
        )
        self.note(
            "room for the fresh dumps and their copies: "
            + ", ".join(f"{fs} {free[fs] // mib} MiB free" for fs in free)
        )

    def rehearse(self) -> None:
        """Per database: a fresh dump of today's data restored into a throwaway server set up
        as the host's (who owns schema public, what the role may do), the release's own
        migrations run backwards there, one at a time as the role, each followed by a reading;
        when one cannot be reversed, the rows a restore would discard are counted and the
        restore itself is rehearsed."""
        if self.deployment.planning:
            self.note("the way back would be rehearsed on a fresh dump of today's data")
            return
        for name in self.env.database.names:
            rehearsed = way_back.RehearsedWayBack(name)
            copy = self.copies[name] = TodaysCopy(self.deployment, name)
            copy.open()
            rights = copy.probe_rights()
            before = copy.server.fingerprints()
            after = before
            for app in self._apps_of(name):
                with copy.manage(app) as manage:
                    targets = way_back.reverse_targets(
                        self._ok(manage(self.release_image(app), "showmigrations", "--plan")),
                        self._ok(
                            manage(self.state.previous_images[app], "showmigrations", "--plan")
                        ),
                    )
                    for label, target in targets.items():
                        plan = manage(self.release_image(app), "migrate", label, target, "--plan")
                        migrations, irreversible = way_back.planned_reversal(self._ok(plan))
                        rehearsed.targets[f"{app}:{label}"] = target
                        rehearsed.irreversible += irreversible
                        if irreversible:
                            rehearsed.migrations += migrations
                            continue
                        after = self._reverse_one_by_one(
                            manage, app, label, target, migrations, rehearsed, after, copy
                        )
            if rehearsed.irreversible:
                digests = self.state.release_rows.get(name)
                rehearsed.losses = copy.losses(digests) if digests else None
                rehearsed.restore_seconds = copy.rehearse_restore(self.state.dumps.get(name) or {})
            rehearsed.changes = row_checks.migration_changes(before, after)
            self.state.way_back[name] = {
                **vars(rehearsed),
                "rights": rights,
                "before": before,
                "after": after,
                "dump": str(copy.server.path),
            }
            self.note("way back rehearsed on " + rehearsed.summary())
        self.record.facts["way_back"] = {
            name: {k: v for k, v in info.items() if k not in ("before", "after")}
            for name, info in self.state.way_back.items()
        }

    def check(self, discard_reason: str | None) -> None:
        """Going back keeps every write, or the loss is counted and confirmed: a dump restore
        is refused, before anyone is locked out, unless the operator said why."""
        try:
            require(
                set(self.state.way_back) == set(self.env.database.names),
                "the way back was not rehearsed on every database",
            )
            stuck = {n: i for n, i in self.state.way_back.items() if i["irreversible"]}
            for name, info in self.state.way_back.items():
                rights = info["rights"]
                if rights["restore_can_run"]:
                    continue
                cannot = (
                    f"on a copy set up as the host's {name} (schema public owned by "
                    f"{rights['public_owner']}, CREATE on it for {self.env.database.user}: "
                    f"{'yes' if rights['create_on_public'] else 'no'}), the role cannot empty "
                    f"schema public and create in it, as a restore does: {rights['error']}"
                )
                require(
                    name not in stuck,
                    f"{cannot}; the way back by the dump would fail: "
                    "give the role those rights first; nothing was changed",
                )
                self.note(f"warning: {cannot}; going back here needs no restore")
            if not stuck:
                self.note(
                    "going back reverses the release's migrations and keeps every row users wrote"
                )
                return
            counted = {n: i["losses"] for n, i in stuck.items() if i["losses"] is not None}
            losses = way_back.describe_losses(counted)
            if len(counted) < len(stuck):
                losses += (
                    "; not counted for "
                    + ", ".join(n for n in stuck if n not in counted)
                    + " (its deployment's record holds no reading of its rows after the upgrade)"
                )
            cannot = ", ".join(m for i in stuck.values() for m in i["irreversible"])
            require(
                bool(discard_reason and discard_reason.strip()),
                f"{cannot} cannot be reversed, so the only way back is the release day's dump, "
                f"and restoring it discards what was written since the release's window ended: "
                f"{losses}. Nothing was changed and nobody was locked out; to restore the dump "
                'anyway, run again with --discard-writes-since-release "<reason>"',
            )
            self.record.facts["discard_writes"] = {"reason": discard_reason, "losses": counted}
            self.note(
                f"{cannot} cannot be reversed: the release day's dump will be restored, "
                f"discarding {losses} (confirmed: {discard_reason})"
            )
        finally:
            self.close_copies()

    def close_copies(self) -> None:
        while self.copies:
            _, copy = self.copies.popitem()
            copy.close()

    def _apps_of(self, database: str) -> list[str]:
        return [app for app in self.apps if self.service(app).database == database]

    def _ok(self, result: Result) -> str:
        if not result.ok:
            raise CheckFailed(
                f"manage.py failed on the copy of today's data (exit {result.rc}): "
                f"{self.target.redactor(result.tail(1))}; nothing was changed"
            )
        return result.stdout

    def _reverse_one_by_one(
        self,
        manage: Callable[..., Result],
        app: str,
        label: str,
        target: str,
        migrations: list[str],
        rehearsed: way_back.RehearsedWayBack,
        before: dict[str, Any],
        copy: TodaysCopy,
    ) -> dict[str, Any]:
        """Each migration reversed on its own (to the one before it), the copy read after each."""
        own = all(m.split(".", 1)[0] == label for m in migrations)
        steps = [
            (m, migrations[i + 1].split(".", 1)[1] if i + 1 < len(migrations) else target)
            for i, m in enumerate(migrations)
        ] if own else [(", ".join(migrations), target)]  # fmt: skip
        for migration, to in steps:
            result = manage(self.release_image(app), "migrate", label, to, "--noinput", "-v", "2")
            stuck = way_back.irreversible_in(result.stdout + result.stderr)
            if stuck:
                rehearsed.irreversible.append(stuck)
                return before
            self._ok(result)
            after = copy.server.fingerprints()
            rehearsed.migrations.append(migration)
            rehearsed.timings.update(way_back.unapplied_timings(result.stdout))
            rehearsed.seconds += result.seconds
            rehearsed.tables_by_migration[migration] = list(
                row_checks.migration_changes(before, after)
            )
            before = after
        return before

    # -- in the window ----------------------------------------------------------------------

    def reverse(self, name: str) -> None:
        """The rehearsed reversal on the database itself, with the release's image, its
        settings and the network its stopped container used."""
        info = self.state.way_back[name]
        containers = self.deployment.containers.now()
        for key, target in info["targets"].items():
            app, label = key.split(":", 1)
            config = json.loads(
                self.run(docker.host_config(containers[app].id), f"docker inspect {app}").stdout
            )
            with settings_file(self.deployment, secrets_ini(self.deployment, app)) as path:
                argv = live_manage_argv(
                    manage_argv(
                        self.release_image(app),
                        self.service(app),
                        containers[app].id,
                        str(path),
                        run_labels(self.record.run_id),
                        "migrate",
                        label,
                        target,
                        "--noinput",
                        "-v",
                        "2",
                    ),
                    config.get("NetworkMode") or "default",
                    config.get("ExtraHosts") or [],
                )
                result = self.run(
                    argv, f"manage.py migrate {label} {target} on {name}", timeout=3600
                )
            self.note(
                f"{name}: migrate {label} {target} reversed "
                + (", ".join(way_back.unapplied_timings(result.stdout)) or "nothing")
            )

    def check_rows(self) -> None:
        """After going back: per database, every table as it was when the apps stopped today
        but for what the rehearsed reversal changes, or, where the dump was restored, exactly
        as the release day's apps left it."""
        problems: list[str] = []
        for name, info in self.state.way_back.items():
            after = self.db.fingerprints(name)
            if info["irreversible"]:
                stopped = row_checks.checked(self.state.snapshot_before.get(name) or {})
                problems += [
                    f"{name}: table {table}: {how} (compared with the release day's stop)"
                    for table, how in self.deployment.databases.changes_from(
                        stopped, name, after
                    ).items()
                ]
                continue
            lost, notes = way_back.judge_rows(
                self.state.stopped_now[name],
                after,
                info["before"],
                info["after"],
                dict(info["tables_by_migration"]),
            )
            problems += [f"{name}: {p}" for p in lost]
            for text in notes:
                self.note(f"{name}: {text}")
        require(
            not problems, "after going back the data is not as expected: " + "; ".join(problems)
        )


def live_manage_argv(argv: list[str], network: str, extra_hosts: list[str]) -> list[str]:
    """A `manage_argv` command on the deployment's own network instead of a copy's, with the
    hosts compose gave the app: it changes the deployment (never a `Read`)."""
    changed = list(argv)
    at = changed.index("--network") + 1
    changed[at] = network
    changed[at + 1 : at + 1] = [item for host in extra_hosts for item in ("--add-host", host)]
    return changed
