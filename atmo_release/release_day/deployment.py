"""One deployment of a release to an environment, and the run that acts on it.

The deployment holds what every resource shares (the environment, the release, the target,
the record, the run's `State`) and hands out its resources; steps and sequencers call those.
Nothing here knows about pytest. Every check re-reads the world and raises CheckFailed with a
sentence; actions never judge themselves.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from atmo_release.checks import CheckFailed, require
from atmo_release.commands.compose import Compose
from atmo_release.data.client import DatabaseClient
from atmo_release.environment import APPS, Environment, Service
from atmo_release.record.history import facts, last_passed
from atmo_release.record.run_record import ReleaseRecord
from atmo_release.redact import Redactor
from atmo_release.release import Release
from atmo_release.release_day import where_left
from atmo_release.release_day.reads_ahead import ReadsAhead
from atmo_release.resources import compose_flavour
from atmo_release.resources.browser_journey import BrowserJourney
from atmo_release.resources.compose_edit import ComposeEdit
from atmo_release.resources.containers import Containers
from atmo_release.resources.databases import Databases
from atmo_release.resources.deploy_checkout import DeployCheckout
from atmo_release.resources.host import Host
from atmo_release.resources.maintenance import Maintenance
from atmo_release.resources.migrations_on_copy import MigrationsOnCopy
from atmo_release.resources.old_release import OldRelease
from atmo_release.resources.other_sessions import OtherSessions
from atmo_release.resources.proven_dumps import ProvenDumps
from atmo_release.resources.readiness import Readiness
from atmo_release.resources.release_rows import ReleaseRows
from atmo_release.resources.restores import Restores
from atmo_release.resources.run_state import State
from atmo_release.resources.secrets_checkout import SecretsCheckout
from atmo_release.resources.smoke_checks import SmokeChecks
from atmo_release.resources.way_back_on_copy import WayBackOnCopy
from atmo_release.resources.way_back_room import WayBackRoom
from atmo_release.resources.way_back_window import WayBackInWindow
from atmo_release.resources.window_copies import WindowCopies
from atmo_release.resources.window_dumps import WindowDumps
from atmo_release.target import PlanTarget, Result, Target, open_target

R = TypeVar("R")


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
    state: State = field(default_factory=State)
    password: str = field(default="", repr=False)
    # Compose as the run calls it: the environment file's deploy.compose_command, else detected.
    compose_command: tuple[str, ...] = ()
    _resources: dict[type, Any] = field(default_factory=dict, init=False, repr=False)
    _making: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.target.listeners.append(self.record.on_command)
        self.record.facts.setdefault("deployment", self.where)
        self.compose_command = self.compose_command or self.env.compose_command

    @property
    def where(self) -> dict[str, str]:
        """What tells this deployment's records from another's of the same environment name
        (each rehearsal stack is `rehearsal`): its compose project and file. Not the runner or
        the transport: a run over SSH may resume one started on the host."""
        return {"project": self.env.project, "compose_file": str(self.env.compose_path)}

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
        """A deployment run on its target (or only its plan), with a fresh record and redactor.
        Its Compose is read first (and detected when the environment file names none: none
        on the target raises ComposeNotFound, before anything ran)."""
        target = open_target(Redactor(), planning=planning, ssh=env.ssh)
        try:
            flavour = compose_flavour.find(target, env.compose_command, env.path)
        except compose_flavour.ComposeNotFound:
            target.close()
            raise
        record = ReleaseRecord(
            env=env.name,
            release=str(release),
            crew_chief=crew_chief,
            driver=driver,
            target=f"{target.name} (run from {os.uname().nodename})",
            run_id=uuid.uuid4().hex[:12],
        )
        if flavour is not None:
            record.facts["compose"] = flavour.as_fact()
        command = flavour.command if flavour else env.compose_command
        return cls(env, release, target, record, reports_dir, compose_command=command)

    @property
    def title(self) -> str:
        return maintenance_title(self.release, self.day)

    @cached_property
    def compose(self) -> Compose:
        return Compose(self.compose_command, str(self.env.compose_path), self.env.project)

    @property
    def db(self) -> DatabaseClient:
        return DatabaseClient(self.target, self.env.database, self.password, self.compose)

    @cached_property
    def reads_ahead(self) -> ReadsAhead:
        return ReadsAhead(self.record, self.target)

    def service(self, app: str) -> Service:
        return self.env.services[app]

    def release_image(self, app: str) -> str:
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

    def note(self, text: str) -> None:
        self.record.note(self.target.redactor(text))

    # -- its resources ----------------------------------------------------------------------

    def resource(self, kind: type[R]) -> R:
        """The run's one resource of `kind`, made on first use: the accessors below and the
        resources themselves (which know only `Run`) share it."""
        with self._making:  # checks read ahead share them from their own threads
            if kind not in self._resources:
                self._resources[kind] = kind(self)  # type: ignore[call-arg]
            return self._resources[kind]

    @property
    def host(self) -> Host:
        return self.resource(Host)

    @property
    def secrets(self) -> SecretsCheckout:
        return self.resource(SecretsCheckout)

    @property
    def containers(self) -> Containers:
        return self.resource(Containers)

    @property
    def databases(self) -> Databases:
        return self.resource(Databases)

    @property
    def other_sessions(self) -> OtherSessions:
        return self.resource(OtherSessions)

    @property
    def proven_dumps(self) -> ProvenDumps:
        return self.resource(ProvenDumps)

    @property
    def migration_rehearsal(self) -> MigrationsOnCopy:
        return self.resource(MigrationsOnCopy)

    @property
    def window_dumps(self) -> WindowDumps:
        return self.resource(WindowDumps)

    @property
    def window_copies(self) -> WindowCopies:
        return self.resource(WindowCopies)

    @property
    def maintenance(self) -> Maintenance:
        return self.resource(Maintenance)

    @property
    def checkout(self) -> DeployCheckout:
        return self.resource(DeployCheckout)

    @property
    def compose_edit(self) -> ComposeEdit:
        return self.resource(ComposeEdit)

    @property
    def readiness(self) -> Readiness:
        return self.resource(Readiness)

    @property
    def smoke_checks(self) -> SmokeChecks:
        return self.resource(SmokeChecks)

    @property
    def browser_journey(self) -> BrowserJourney:
        return self.resource(BrowserJourney)

    @property
    def restores(self) -> Restores:
        return self.resource(Restores)

    @property
    def release_rows(self) -> ReleaseRows:
        return self.resource(ReleaseRows)

    @property
    def way_back_room(self) -> WayBackRoom:
        return self.resource(WayBackRoom)

    @property
    def way_back_rehearsal(self) -> WayBackOnCopy:
        return self.resource(WayBackOnCopy)

    @property
    def way_back_window(self) -> WayBackInWindow:
        return self.resource(WayBackInWindow)

    @property
    def old_release(self) -> OldRelease:
        return self.resource(OldRelease)

    # -- across resources ----------------------------------------------------------------------

    def record_running(self) -> None:
        """The deployment as it runs now: its images, versions and the rows we must keep (a
        resumed run has them from the run it continues), and the databases' clients that are
        not the apps, while nobody is locked out yet."""
        if self.state.resumed_from:
            self.note(
                f"resuming run {self.state.resumed_from}: the previous release, its versions "
                "and its rows are taken from that run's record"
            )
        else:
            self.containers.record_running()
            self.readiness.read_versions_before()
            self.databases.read_running()
        self.other_sessions.note_clients()

    def check_roles(self) -> None:
        """Both roles carry a name (blanks are none); one person in both is only a warning."""
        record = self.record
        require(
            bool(record.crew_chief.strip() and record.driver.strip()),
            "name the crew chief and the driver: --crew-chief=NAME --driver=NAME",
        )
        self.note(f"crew chief {record.crew_chief}, driver {record.driver}")
        if record.crew_chief == record.driver:
            self.note("warning: the crew chief and the driver are the same person")

    def check_running_recorded(self) -> None:
        """What a rollback and the row checks go back to is known: read now, or adopted from
        the record of the run this one resumes."""
        state = self.state
        where = f"the record of run {state.resumed_from}" if state.resumed_from else "preflight"
        require(bool(self.record.previous_release), f"{where} did not learn the previous release")
        missing = sorted(set(self.apps) - set(state.versions_before))
        require(
            not missing,
            f"{where} holds no version from before for {', '.join(missing)}: run again with "
            "--restart to read the running deployment afresh",
        )
        uncounted = sorted(name for name, tables in state.snapshot_preflight.items() if not tables)
        require(
            bool(state.snapshot_preflight) and not uncounted,
            f"{where} counted no table in {', '.join(uncounted) or 'any database'}: run again "
            "with --restart to read the running deployment afresh",
        )

    def stack_state(self) -> dict[str, Any]:
        return where_left.stack_state(self)

    def next_safe_command(self) -> str:
        return where_left.next_safe_command(self)


def last_recorded_secrets_commit(reports_root: Path, env_name: str) -> str | None:
    """The secrets commit of the newest passed deployment of this environment, if any."""
    found = last_passed(reports_root, env_name, "secrets_commit")
    return facts(found[1])["secrets_commit"] if found else None
