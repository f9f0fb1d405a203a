"""Maintenance mode of each app: the record in its table, and what users see over HTTP."""

from __future__ import annotations

import shlex

from atmo_release.checks import require
from atmo_release.commands import docker, manage
from atmo_release.record.run_record import utc_now
from atmo_release.resources import Resource
from atmo_release.resources.containers import Containers
from atmo_release.web import http_checks


class Maintenance(Resource):
    @property
    def title(self) -> str:
        return self.deployment.title

    @property
    def message(self) -> str:
        return self.env.maintenance_message

    def is_on(self, app: str) -> bool:
        """This release's record is the active one of `app`."""
        service = self.service(app)
        active = self.db.active_records(service.database, service.maintenance_table)
        return (self.title, self.message) in active

    def active(self, app: str) -> int:
        """Active records of any title: users are locked out while there is one."""
        service = self.service(app)
        return self.db.active_maintenance(service.database, service.maintenance_table)

    def start(self, app: str) -> None:
        """Start it, unless this release's record is already active: never a second one."""
        if self.is_on(app):
            self.note(f"maintenance on {app} is already on with this title; not started again")
            self.state.maintenance_on[app] = True
            return
        service = self.service(app)
        start = manage.maintenance_start(service.venv, service.workdir, self.title, self.message)
        self.run(self._in(app, start), f"maintenance start on {app}")
        self.state.maintenance_on[app] = True
        self.record.open_window()

    def _in(self, app: str, argv: list[str]) -> list[str]:
        """`argv` in `app`'s running container by `docker exec`, as `docker-compose exec -T`
        runs it (the container's user and directory, no terminal) but without Compose's
        start-up: users are locked out while it runs."""
        return docker.exec_(self.resource(Containers).running_name(app), argv)

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

    def check_troposphere_page(self) -> None:
        http_checks.troposphere_in_maintenance(self.service("troposphere").url, self.message)

    def stop(self, app: str) -> None:
        """End it; from the first attempt on, users may be back in (see rollback.needed)."""
        service = self.service(app)
        argv = self._in(app, manage.maintenance_stop(service.venv, service.workdir))
        if not self.deployment.planning:
            self.state.maintenance_ended.setdefault(app, utc_now())
            self.record.facts["maintenance_ended"] = dict(self.state.maintenance_ended)
        self.run(argv, f"maintenance stop on {app}")
        self.state.maintenance_on[app] = False
        if not any(self.state.maintenance_on.values()):
            self.record.close_window()

    def check_no_active_record(self, app: str) -> None:
        active = self.active(app)
        table = self.service(app).maintenance_table
        require(active == 0, f"{table} still holds {active} active records")

    def check_users_let_in(self) -> None:
        http_checks.atmosphere_open(self.service("atmosphere").url)
        http_checks.troposphere_open(self.service("troposphere").url)

    def stop_command(self, app: str) -> str:
        """The command an operator types to end maintenance on `app` by hand."""
        service = self.service(app)
        return shlex.join(
            [
                *self.compose.up()[:-2],
                *("exec", "-T", app, f"{service.venv}/bin/python"),
                *(f"{service.workdir}/manage.py", "maintenance", "stop"),
            ]
        )
