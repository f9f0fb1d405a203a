"""The way back from a release in use, rehearsed before anybody is locked out on a fresh dump
of today's data: the migrations reversed by the release's own code, one at a time, or, when
they cannot be, the rows a restore of the release day's dump would discard counted and that
loss confirmed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atmo_release.checks import CheckFailed, require
from atmo_release.data import row_checks, way_back
from atmo_release.resources import Resource
from atmo_release.resources.todays_copy import TodaysCopy
from atmo_release.target import Result

if TYPE_CHECKING:
    from atmo_release.resources.run import Run


class WayBackOnCopy(Resource):
    def __init__(self, deployment: Run) -> None:
        super().__init__(deployment)
        self.copies: dict[str, TodaysCopy] = {}

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
