"""The databases' other clients: listed in preflight, so an operator learns of a cron job
before users are locked out, and waited for once the apps have stopped, so that nothing else
writes after the "before" is read (a rollback would remove what it wrote)."""

from __future__ import annotations

import json
import time

from atmo_release.checks import require
from atmo_release.commands import docker
from atmo_release.data.sessions import Session, not_from, parse, sessions_sql
from atmo_release.resources import Resource
from atmo_release.resources.containers import Containers


class OtherSessions(Resource):
    # How often the sessions are read again while the run waits for them to end.
    poll_s = 2.0

    def now(self) -> list[Session]:
        """Every client session on the deployment's databases but this run's own."""
        names = self.env.database.names
        return parse(self.db.query(names[0], sessions_sql(names)))

    def note_clients(self) -> None:
        """Preflight: the clients that are not the apps, told apart by the apps' container
        addresses; with network_mode host the apps have none of their own, so every client is
        listed and the note says why."""
        addresses, host_network = self._app_addresses()
        found = self.now()
        others = found if host_network else not_from(found, addresses)
        self.record.facts["clients_not_the_apps"] = [s.describe() for s in others]
        listed = "; ".join(s.describe() for s in others) or "none"
        if host_network:
            self.note(
                f"clients of {', '.join(self.env.database.names)} (the apps run with "
                "network_mode host, so their sessions come from this host's addresses like any "
                f"other process here and cannot be told apart; those gone once the apps stop "
                f"were theirs): {listed}"
            )
        else:
            self.note(f"clients of the databases that are not the apps: {listed}")

    def wait_until_gone(self) -> None:
        """Once the apps have stopped: nothing else connected, within the environment's wait
        (database.other_sessions_wait_s); else a halt naming every session, before the stopped
        reading and the backups."""
        wait = self.env.database.other_sessions_wait_s
        started = time.monotonic()
        first = found = self.now()
        while found and time.monotonic() - started < wait:
            time.sleep(min(self.poll_s, max(0.0, wait - (time.monotonic() - started))))
            found = self.now()
        waited = time.monotonic() - started
        self.record.facts["other_sessions"] = {
            "seen": [s.describe() for s in first],
            "left": [s.describe() for s in found],
            "waited_s": round(waited, 1),
        }
        names = ", ".join(self.env.database.names)
        require(
            not found,
            f"{len(found)} session(s) other than this run's still connected to {names} "
            f"{wait:g} s after the apps stopped: {'; '.join(s.describe() for s in found)}; "
            "what they write after the databases are read would be lost to a rollback: stop "
            "them (a cron job, a Celery worker elsewhere, an admin's psql) or end them with "
            f"SELECT pg_terminate_backend(pid) for pid {', '.join(str(s.pid) for s in found)}, "
            "then run again; nothing was read or backed up yet and maintenance stays on",
        )
        if first:
            self.note(
                f"{len(first)} other session(s) ended within {waited:.0f} s of the apps "
                f"stopping: {'; '.join(s.describe() for s in first)}"
            )
        else:
            self.note(f"no other session is connected to {names}")

    def _app_addresses(self) -> tuple[set[str], bool]:
        """The apps' container addresses, and whether one of them shares the host's network."""
        ids = [c.id for app, c in self.resource(Containers).now().items() if app in self.apps]
        if not ids:
            return set(), False
        inspected = json.loads(self.run(docker.inspect(ids), "docker inspect").stdout)
        host = any(item["HostConfig"].get("NetworkMode") == "host" for item in inspected)
        addresses = {
            network.get("IPAddress")
            for item in inspected
            for network in ((item.get("NetworkSettings") or {}).get("Networks") or {}).values()
            if network.get("IPAddress")
        }
        return addresses, host
