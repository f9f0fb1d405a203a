"""The apps as users meet them: ready over HTTP, serving which version, migrated, no errors."""

from __future__ import annotations

import os

from atmo_release.checks import CheckFailed, require
from atmo_release.commands import docker, manage
from atmo_release.data.migration_runs import unapplied
from atmo_release.resources import Resource
from atmo_release.resources.containers import Containers
from atmo_release.web import http_checks


class Readiness(Resource):
    def wait(self, fact: str = "readiness") -> None:
        """Poll every app until it answers as ready; how long it took goes to `fact`."""
        urls = {app: self.service(app).url for app in self.apps}
        probes = {
            "atmosphere": lambda: http_checks.atmosphere_ready(urls["atmosphere"]),
            "troposphere": lambda: http_checks.troposphere_ready(urls["troposphere"]),
        }
        interval, timeout = self.env.readiness_interval_s, self.env.readiness_timeout_s
        try:
            ready = http_checks.wait_until({a: probes[a] for a in self.apps}, interval, timeout)
        finally:
            self.record.facts[fact] = {"interval_s": interval, "timeout_s": timeout}
        self.record.facts[fact]["ready_after_s"] = ready
        after = ", ".join(f"{app} {seconds:g} s" for app, seconds in ready.items())
        self.note(f"ready after: {after} (polled every {interval:g} s, timeout {timeout:g} s)")

    def version(self, app: str) -> dict[str, str]:
        """Atmosphere through an exempt user's token, troposphere through its open endpoint."""
        if app == "troposphere":
            return http_checks.version(self.service(app).url + http_checks.TROPOSPHERE_VERSION)
        token = os.environ.get(self.env.api_token_env, "")
        headers = {"Authorization": f"Token {token}"} if token else None
        return http_checks.version(self.service(app).url + http_checks.ATMOSPHERE_VERSION, headers)

    def read_versions_before(self) -> None:
        self.state.versions_before = {app: self.version(app) for app in self.apps}
        self.record.facts["versions_before"] = self.state.versions_before

    def check_new_versions(self) -> None:
        """Each app serves what its image holds, and not what it served before (the apps
        looked at side by side)."""
        containers = self.resource(Containers).now()

        def check(app: str) -> dict[str, str]:
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
            before = self.state.versions_before.get(app, {}).get("git_sha")
            require(
                served["git_sha"] != before,
                f"{app} still serves {served['git_sha'][:12]}, the version from before",
            )
            return served

        served = self.record.side_by_side(check, self.apps)
        self.record.facts["versions_after"] = dict(zip(self.apps, served, strict=True))

    def check_versions_as_before(self) -> None:
        """After a rollback: each app serves the version it served before the run."""
        for app in self.apps:
            before = self.state.versions_before.get(app, {}).get("git_sha")
            served = self.version(app)["git_sha"]
            require(
                before is not None,
                f"{app} serves {served[:12]}, but the version from before is not in the record: "
                f"compare it with the release you rolled back to by hand",
            )
            require(served == before, f"{app} serves {served[:12]}, not {before[:12]} from before")

    def check_migrations(self) -> None:
        """`migrate --check` in each running container at once: it also proves the app reaches
        its database."""
        containers = self.resource(Containers).now()

        def check(app: str) -> None:
            service, container = self.service(app), containers[app].id
            argv = docker.exec_(container, manage.migrate_check(service.venv, service.workdir))
            if self.target.run(argv).ok:
                return
            plan = docker.exec_(
                container, manage.showmigrations_plan(service.venv, service.workdir)
            )
            listed = self.run(plan, f"{app}: manage.py migrate --check failed, and showmigrations")
            found = ", ".join(unapplied(listed.stdout)) or "none in showmigrations --plan"
            raise CheckFailed(
                f"{app}: manage.py migrate --check expected no unapplied migration, found {found}"
            )

        self.record.side_by_side(check, self.apps)

    def check_logs(self) -> None:
        for app, container in self.resource(Containers).now().items():
            logs = self.run(docker.logs(container.id, container.started_at), f"docker logs {app}")
            text = logs.stdout + logs.stderr
            at = text.find("Traceback")
            require(
                at < 0,
                f"{app} logged a Traceback since it started: "
                f"{self.target.redactor(text[at : at + 300])}",
            )
