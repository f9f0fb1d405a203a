"""The deploy host's containers: the rehearsal registry (the host's Docker Hub mirror) and the
host itself, a Docker engine inside a container, on a labelled network of their own.

Everything here is set up with `docker` argv lists and reached through `docker exec`: the
prepare stage is not part of what is rehearsed, only what later goes over SSH is.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from rehearsal.image_manifest import DEPLOY_HOST_IMAGE, REGISTRY_IMAGE
from rehearsal.shell import Log, wait_until

# What this machine allows in place of --privileged (it refuses CAP_SYS_RESOURCE); enough for
# dockerd, iptables, mounts and nested cgroups (../shared/tooling-notes.md).
NARROW_PRIVILEGES = (
    "--cap-add",
    "ALL",
    "--cap-drop",
    "SYS_RESOURCE",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
)
# Ports of the host that the runner reaches, published on loopback: sshd and the two apps
# (which run with network_mode host, so their ports are the host's).
HOST_PORTS = {"ssh": 22, "atmosphere": 8000, "troposphere": 8001}
READY_MARKER = "/run/atmo-ready"
AUTHORIZED_KEYS = "/run/atmo-authorized_keys"  # the entrypoint installs it for root
REGISTRY_ALIAS = "registry"


class HostError(RuntimeError):
    """The deploy host could not be made; the message says which step and why."""


def docker(
    args: Sequence[str], input: str | bytes | None = None, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """The docker CLI with output captured; a failure names the command and its last words."""
    done = subprocess.run(
        ["docker", *args],
        input=input.decode() if isinstance(input, bytes) else input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise HostError(f"docker {' '.join(args[:3])} ... failed: {' / '.join(tail)}")
    return done


@dataclass
class HostContainers:
    """The network, the registry, the host and its /var/lib/docker volume of one rehearsal."""

    run_id: str
    labels: Mapping[str, str]
    log: Log = print
    ports: dict[str, int] = field(default_factory=dict)
    privileged: bool | None = None  # how the host runs, once it does
    # The one Compose the host keeps, v1 or v2 (its entrypoint removes the other).
    compose_flavour: str = "v1"

    def __post_init__(self) -> None:
        prefix = f"atmo-deploy-host-{self.run_id}"
        self.network, self.volume = prefix, f"{prefix}-docker"
        self.registry, self.host = f"{prefix}-registry", f"{prefix}-host"

    def _label_args(self) -> list[str]:
        return [arg for key, value in self.labels.items() for arg in ("--label", f"{key}={value}")]

    # -- network and registry -------------------------------------------------------------------

    def create_network(self) -> None:
        """A network outside 172.16.0.0/12, so the inner engine's docker0 can be 172.17.0.1 (the
        runbook's `listen_addresses` assume it); a /24 taken by another run is skipped."""
        for _ in range(8):
            subnet = f"10.{random.randint(64, 250)}.{random.randint(0, 255)}.0/24"
            done = docker(
                ["network", "create", *self._label_args(), "--subnet", subnet, self.network],
                check=False,
            )
            if done.returncode == 0:
                return
            if "overlap" not in done.stderr.lower():
                raise HostError(f"cannot create network {self.network}: {done.stderr.strip()}")
        raise HostError(f"no free /24 under 10.0.0.0/8 for network {self.network}")

    def start_registry(self) -> None:
        docker(
            [
                "run",
                "-d",
                "--name",
                self.registry,
                *self._label_args(),
                "--network",
                self.network,
                "--network-alias",
                REGISTRY_ALIAS,
                "-p",
                "127.0.0.1::5000",
                REGISTRY_IMAGE,
            ]
        )
        self.ports["registry"] = self.published(self.registry, 5000)
        url = f"http://127.0.0.1:{self.ports['registry']}/v2/"
        wait_until(lambda: requests.get(url, timeout=2).ok, "deploy host's registry", 60)

    # -- the host -------------------------------------------------------------------------------

    def start_host(self, public_key: Path, hostname: str) -> None:
        """Create the host with the runner's public key in it, start it privileged, or with the
        narrow set where --privileged is refused (as on this machine)."""
        docker(["volume", "create", *self._label_args(), self.volume])
        for privileged in (True, False):
            self._create_host(privileged, hostname)
            docker(["cp", str(public_key), f"{self.host}:{AUTHORIZED_KEYS}"])
            started = docker(["start", self.host], check=False)
            if started.returncode == 0:
                self.privileged = privileged
                break
            docker(["rm", "-f", "-v", self.host], check=False)
            if not privileged:
                raise HostError(f"the deploy host does not start: {started.stderr.strip()}")
            self.log("deploy host: --privileged refused here; running with the narrow set")
        for name, port in HOST_PORTS.items():
            self.ports[name] = self.published(self.host, port)

    def _create_host(self, privileged: bool, hostname: str) -> None:
        rights = ["--privileged"] if privileged else list(NARROW_PRIVILEGES)
        docker(
            [
                "create",
                "--name",
                self.host,
                "--hostname",
                hostname,
                *self._label_args(),
                *rights,
                "--network",
                self.network,
                "-v",
                f"{self.volume}:/var/lib/docker",
                "-v",
                "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                "-e",
                f"ATMO_REHEARSAL_REGISTRY={REGISTRY_ALIAS}:5000",
                "-e",
                f"ATMO_REHEARSAL_COMPOSE={self.compose_flavour}",
                *(arg for port in HOST_PORTS.values() for arg in ("-p", f"127.0.0.1::{port}")),
                DEPLOY_HOST_IMAGE,
            ]
        )

    def wait_ready(self, timeout: float = 90) -> None:
        """The entrypoint's marker (dockerd and PostgreSQL answer), then sshd's banner."""
        deadline = time.monotonic() + timeout
        while docker(["exec", self.host, "test", "-e", READY_MARKER], check=False).returncode:
            state = docker(["inspect", "-f", "{{.State.Running}}", self.host], check=False)
            if state.stdout.strip() != "true" or time.monotonic() > deadline:
                raise HostError(f"the deploy host did not get ready: {self.logs_tail()}")
            time.sleep(0.3)
        while not _ssh_banner(self.ports["ssh"]):
            if time.monotonic() > deadline:
                raise HostError(f"sshd on the deploy host does not answer: {self.logs_tail()}")
            time.sleep(0.2)

    def logs_tail(self, lines: int = 5) -> str:
        done = docker(["logs", "--tail", str(lines), self.host], check=False)
        return " / ".join((done.stdout + done.stderr).strip().splitlines()) or "(no output)"

    def exec(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        timeout: float = 300,
    ) -> str:
        """Run `argv` inside the host (prepare stage only); its stdout, or HostError."""
        options = ["-i"] if input is not None else []
        options += ["-u", user] if user else []
        options += ["-w", workdir] if workdir else []
        options += [arg for key, value in (env or {}).items() for arg in ("-e", f"{key}={value}")]
        return docker(["exec", *options, self.host, *argv], input=input, timeout=timeout).stdout

    def host_key(self) -> str:
        """The host's ed25519 public key as `type base64`, read beside SSH (no first-use trust)."""
        key = self.exec(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"]).split()
        return f"{key[0]} {key[1]}"

    @staticmethod
    def published(container: str, port: int) -> int:
        done = docker(["port", container, f"{port}/tcp"])
        return int(done.stdout.splitlines()[0].rsplit(":", 1)[1])


def _ssh_banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False
