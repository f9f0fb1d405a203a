"""A throwaway deploy host that plays atmobeta, reached by the suite over SSH only.

One container runs what the real host runs: a Docker engine with one Compose (docker-compose v1,
or with `compose_flavour="v2"` the `docker compose` plugin and no docker-compose), PostgreSQL
15 on 127.0.0.1:5432, sshd (keys only). It is prepared through `docker exec` with atmobeta's
layout (rehearsal.host_prepare), serves the older release under compose project
`atmosphere-docker`, and pulls `cyverse/...` and `postgres:15` through the rehearsal registry as
its Docker Hub mirror. `up()` writes the environment file (atmobeta's, plus `[target]` and the
published urls) beside a fresh key pair and the host's known key; `down()` removes everything
of the run, volume included. Modules: rehearsal.host_container (containers, docker exec),
rehearsal.host_prepare (the prepare stage), rehearsal.host_environment (the file, the keys).

    python -m rehearsal.deploy_host up [--compose=v2]  # prints the environment file, timings
    python -m rehearsal.deploy_host down RUN_ID
"""

from __future__ import annotations

import argparse
import os
import secrets as random_secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import docker as docker_sdk
import requests

from rehearsal import compose_flavours, database, host_environment, host_prepare, images
from rehearsal.deploy_repos import NEW_RELEASE, OLD_RELEASE
from rehearsal.host_container import HostContainers
from rehearsal.image_manifest import DEPLOY_HOST_IMAGE
from rehearsal.shell import Log, wait_until
from rehearsal.sweep import PID_LABEL, RUN_LABEL, owner_labels, sweep_leftovers

TOKEN_ENV = "ATMO_RELEASE_API_TOKEN"  # atmobeta's smoke.api_token_env
PASSWORD_ENV = "ATMO_RELEASE_EXEMPT_PASSWORD"  # and its smoke.password_env
HOSTNAME = "atmobeta"
# What up() needs built: the host, the registry, the apps at both releases, postgres:15.
NEEDED_IMAGES = (
    DEPLOY_HOST_IMAGE,
    images.REGISTRY_IMAGE,
    images.POSTGRES_IMAGE,
    *(images.app_image(app, r) for app in images.APPS for r in images.RELEASES),
)


def default_root(run_id: str) -> Path:
    """The host's private folder (keys, known_hosts, environment file), found again by run id."""
    return Path(tempfile.gettempdir()) / f"atmo-deploy-host-{run_id}"


class DeployHost:
    """`up()` returns the environment file; always finish with `down()` (safe twice)."""

    def __init__(
        self,
        log: Log = print,
        root: Path | None = None,
        run_id: str | None = None,
        owner_pid: int | None = None,
        release_record: str = "",
        compose_flavour: str = "v1",
    ) -> None:
        """`release_record`: the `[release_record]` table its environment file gets instead of
        atmobeta's (the rehearsal's GitHub stand-in). `compose_flavour`: the host's one Compose, v1
        (docker-compose, as atmobeta.toml names it) or v2 (docker compose only, and an
        environment file without deploy.compose_command: the run detects it)."""
        self.log = log
        self.release_record = release_record
        self.compose_flavour = compose_flavour
        self.compose_command = compose_flavours.command(compose_flavour)
        self.run_id = run_id or uuid.uuid4().hex[:10]
        self.root = root or default_root(self.run_id)
        # The sweep keeps what a live process owns: the CLI names the shell that called it.
        owner = {PID_LABEL: str(owner_pid)} if owner_pid else {}
        labels = {
            RUN_LABEL: self.run_id,
            **owner_labels(),
            **owner,
            images.PROJECT_LABEL: images.PROJECT_LABEL_VALUE,
        }
        self.containers = HostContainers(self.run_id, labels, log, compose_flavour=compose_flavour)
        self.token = random_secrets.token_hex(20)
        self.token_env = TOKEN_ENV
        self.alias = f"atmo-rehearsal-host-{self.run_id}"
        self.env_file = self.root / "atmobeta-host.toml"
        self.timings: dict[str, float] = {}

    @property
    def ports(self) -> dict[str, int]:
        return self.containers.ports

    def variables(self) -> dict[str, str]:
        """What a run against the host exports: the exempt user's token, and their password,
        which on the stand-ins is the token."""
        return {TOKEN_ENV: self.token, PASSWORD_ENV: self.token}

    def urls(self) -> dict[str, str]:
        return {app: f"http://127.0.0.1:{self.ports[app]}" for app in images.APPS}

    # -- lifecycle ------------------------------------------------------------------------------

    def up(self) -> Path:
        """Build (or reuse) the images, start and prepare the host with the older release
        serving, write the environment file; on any failure, remove what was made."""
        started = time.monotonic()
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        self.timings["up"] = round(time.monotonic() - started, 2)
        self.log(f"deploy host {self.run_id}: up in {self.timings['up']} s")
        return self.env_file

    def _up(self) -> None:
        self.root.mkdir(mode=0o700)
        client = docker_sdk.from_env()
        self._timed("sweep", lambda: sweep_leftovers(client, self.log))
        self._timed("images", lambda: images.ensure_images(NEEDED_IMAGES, log=lambda _: None))
        warm = time.monotonic()
        c = self.containers
        self._timed("network", c.create_network)
        self._timed("registry", c.start_registry)
        with ThreadPoolExecutor(max_workers=1) as pool:
            old = pool.submit(self._publish, (OLD_RELEASE,), False)
            public_key = host_environment.make_key_pair(self.root, self.run_id)
            self._timed("host", lambda: c.start_host(public_key, HOSTNAME))
            self._timed("ready", c.wait_ready)
            self.root.joinpath("stage").mkdir()
            layout = host_prepare.HostLayout(self.root / "stage", self._app_ports())
            self._timed("database", lambda: host_prepare.prepare_database(c, layout.password))
            self._timed("repositories", lambda: host_prepare.install_repositories(c, layout))
            self._timed("push old", old.result)
            self._timed("old release", self._start_old_release)
            self.timings["serving"] = round(time.monotonic() - warm, 2)
            self.log(f"deploy host: {OLD_RELEASE} serving {self.timings['serving']} s after start")
            new: Future[None] = pool.submit(self._publish, (NEW_RELEASE,), True)
            psql = host_prepare.HostPsql(c, layout.password)
            self._timed("seed", lambda: database.seed(psql, self.token))
            self._timed("push new", new.result)
        self._write_environment(c.host_key())
        self.timings["warm"] = round(time.monotonic() - warm, 2)

    def down(self) -> None:
        """Remove every container, network and volume of this run, then the private folder."""
        sweep_leftovers(docker_sdk.from_env(), self.log, run_id=self.run_id)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- steps ----------------------------------------------------------------------------------

    def _timed(self, name: str, action: Callable[[], object]) -> None:
        started = time.monotonic()
        action()
        self.timings[name] = round(time.monotonic() - started, 2)
        self.log(f"deploy host {name}: {self.timings[name]} s")

    def _app_ports(self) -> dict[str, int]:
        return {app: self.ports[app] for app in images.APPS}

    def _publish(self, releases: tuple[str, ...], postgres: bool) -> None:
        names = host_prepare.hub_names(releases, postgres)
        host_prepare.publish_images(self.containers, names, lambda _: None)

    def _start_old_release(self) -> None:
        host_prepare.start_release(self.containers, self.compose_command)
        probes = {"atmosphere": "/api/status/celery", "troposphere": "/tropo-api/version"}
        for app, path in probes.items():
            url = self.urls()[app] + path
            wait_until(lambda url=url: requests.get(url, timeout=2).ok, f"host's {app}", 120)

    def _write_environment(self, host_key: str) -> None:
        host_environment.write_known_hosts(self.root, self.alias, host_key)
        self.env_file.write_text(
            host_environment.host_environment_toml(
                self.urls(),
                self.ports["ssh"],
                self.alias,
                self.run_id,
                release_record=self.release_record,
                detect_compose=self.compose_flavour != "v1",
            )
        )
        token_file = self.root / "api-token"
        token_file.write_text(self.token + "\n")
        token_file.chmod(0o600)


def main(argv: list[str] | None = None) -> int:
    """`python -m rehearsal.deploy_host up|down [RUN_ID]`."""
    parser = argparse.ArgumentParser(prog="python -m rehearsal.deploy_host", description=__doc__)
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("run_id", nargs="?", help="down: the run id that up printed")
    parser.add_argument("--compose", choices=tuple(compose_flavours.COMMANDS), default="v1")
    args = parser.parse_args(argv)
    if args.command == "down":
        if not args.run_id:
            parser.error("down needs the RUN_ID that up printed")
        DeployHost(run_id=args.run_id).down()
        print(f"deploy host {args.run_id}: removed")
        return 0
    # Owned by the calling shell: a sweep by another rehearsal keeps it while that shell lives.
    host = DeployHost(owner_pid=os.getppid(), compose_flavour=args.compose)
    env_file = host.up()
    print(f"\nrun id:      {host.run_id}")
    print(f"environment: {env_file}")
    token = f"$(cat {host.root / 'api-token'})"
    print(f"token:       export {TOKEN_ENV}={token} {PASSWORD_ENV}={token}")
    print(
        f"ssh:         ssh -F /dev/null -o UserKnownHostsFile={host.root}/known_hosts "
        f"-o HostKeyAlias={host.alias} -i {host.root}/id_ed25519 -p {host.ports['ssh']} "
        "root@127.0.0.1"
    )
    print(f"remove:      python -m rehearsal.deploy_host down {host.run_id}")
    print("timings (s): " + ", ".join(f"{k} {v}" for k, v in host.timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
