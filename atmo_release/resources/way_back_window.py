"""The rehearsed way back taken in the window: the reversal run on the database itself with the
release's own image and settings, then every row checked against what the apps left today."""

from __future__ import annotations

import json

from atmo_release.checks import require
from atmo_release.commands import docker
from atmo_release.data import row_checks, way_back
from atmo_release.data.migration_runs import manage_argv
from atmo_release.labels import run_labels
from atmo_release.resources import Resource
from atmo_release.resources.containers import Containers
from atmo_release.resources.databases import Databases
from atmo_release.resources.todays_copy import secrets_ini, settings_file


class WayBackInWindow(Resource):
    def reverse(self, name: str) -> None:
        """The rehearsed reversal on the database itself, with the release's image, its
        settings and the network its stopped container used."""
        info = self.state.way_back[name]
        containers = self.resource(Containers).now()
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
                    for table, how in self.resource(Databases)
                    .changes_from(stopped, name, after)
                    .items()
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
