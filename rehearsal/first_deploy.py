"""The new host of a rehearsed first deployment, beside a RehearsalStack playing the old one.

The stack (its seeded Postgres, its apps on the older release, its bare upstream and secrets
repository) is the old production. This adds what a fresh deploy host has before the runbook
starts: an empty PostgreSQL (the "host database") on a docker network of its own under the alias
`postgres`, free 127.0.0.1 ports for the new apps, and the new deployment's environment file in
the schema of environments/*.toml. Everything carries the stack's run label, and `down()`
removes it (the sweeper would too).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from testcontainers.community.postgres import PostgresContainer

from rehearsal import images
from rehearsal.database import DB_NAMES, DB_USER
from rehearsal.stack import RehearsalStack


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):  # an inline table, as in a list of tables
        return "{" + ", ".join(f"{key} = {_toml_value(v)}" for key, v in value.items()) + "}"
    raise TypeError(f"no TOML for {value!r}")


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for the environment schema: scalars, lists of strings or of tables, nested
    tables."""
    scalars = [f"{key} = {_toml_value(v)}" for key, v in data.items() if not isinstance(v, dict)]
    text = "\n".join(scalars) + ("\n" if scalars else "")
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{prefix}{key}"
            nested = any(isinstance(v, dict) for v in value.values())
            body = to_toml(value, f"{name}.")
            text += body if nested else f"\n[{name}]\n{body}"
    return text


class NewHost:
    """Build with `up()`, always finish with `down()`; `env_file` is the new deployment."""

    def __init__(self, stack: RehearsalStack) -> None:
        self.stack = stack
        self.root = Path(tempfile.mkdtemp(prefix="atmo-first-deploy-"))
        self.project = f"{stack.project}-first"
        self.network = self.project
        self.env_file = self.root / "first-deploy.toml"
        self.deploy_dir = self.root / "atmosphere-docker"
        self.secrets_dir = self.root / "atmosphere-docker-secrets"
        self.ports: dict[str, int] = {}
        self.postgres: PostgresContainer | None = None

    def up(self) -> NewHost:
        started = time.monotonic()
        stack = self.stack
        stack.client.networks.create(self.network, labels=stack.labels)
        self.postgres = PostgresContainer(
            images.POSTGRES_IMAGE,
            username=DB_USER,
            password=stack.password,  # what the secrets' inis say: the apps log in with it
            dbname=DB_NAMES[0],
            driver=None,
        )
        self.postgres.with_env("POSTGRES_EXTRA_DBS", " ".join(DB_NAMES[1:]))
        self.postgres.ports["5432/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
        self.postgres.with_name(f"{self.project}-postgres").with_kwargs(labels=stack.labels)
        self.postgres.start()
        wrapped = self.postgres.get_wrapped_container()
        stack.client.networks.get(self.network).connect(wrapped, aliases=["postgres"])
        self.ports["postgres"] = int(self.postgres.get_exposed_port(5432))
        self.ports["atmosphere"], self.ports["troposphere"] = _free_port(), _free_port()
        self._wait_postgres()
        self._write_environment()
        stack.log(f"first deployment's new host: {round(time.monotonic() - started, 2)} s")
        return self

    def _wait_postgres(self, timeout: float = 60) -> None:
        argv = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.ports["postgres"])]
        deadline = time.monotonic() + timeout
        while subprocess.run(argv, check=False, timeout=10).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the new host's Postgres was not ready within {timeout:g} s")
            time.sleep(0.3)

    def _write_environment(self) -> None:
        """The stack's environment with the new host's values: same schema, same parser."""
        data = tomllib.loads(self.stack.env_file.read_text())
        data["name"] = "rehearsal-first-deploy"
        data["deploy"].update(
            dir=str(self.deploy_dir), project=self.project, backup_dir=str(self.root / "backups")
        )
        data["secrets"]["dir"] = str(self.secrets_dir)
        data["database"].update(host="127.0.0.1", port=self.ports["postgres"])
        for app in ("atmosphere", "troposphere"):
            data["services"][app]["url"] = f"http://127.0.0.1:{self.ports[app]}"
        header = (
            f"# first deployment of rehearsal {self.stack.run_id}; environments/*.toml schema\n"
        )
        self.env_file.write_text(header + to_toml(data))

    def adapt_compose(self, path: Path) -> None:
        """The cloned compose file publishes the old apps' ports on the old network: point it at
        the new host's (production has `network_mode: host` and needs no such edit)."""
        stack, text = self.stack, path.read_text()
        for app, inner in (("atmosphere", 8000), ("troposphere", 8001)):
            old = f"127.0.0.1:{stack.ports[app]}:{inner}"
            if old not in text:
                raise RuntimeError(f"{path} does not publish {old}: the rehearsal cannot adapt it")
            text = text.replace(old, f"127.0.0.1:{self.ports[app]}:{inner}")
        text = text.replace(f"name: '{stack.network}'", f"name: '{self.network}'")
        path.write_text(text)

    def compose(self, *args: str) -> list[str]:
        path = self.deploy_dir / "docker-compose.prod.yml"
        return ["docker-compose", "-f", str(path), "-p", self.project, *args]

    def down(self) -> None:
        """Remove the new compose project, the new Postgres, the network and the files."""
        if (self.deploy_dir / "docker-compose.prod.yml").is_file():
            subprocess.run(
                self.compose("down", "--volumes", "--remove-orphans"),
                capture_output=True,
                check=False,
                timeout=300,
                env={**os.environ},
            )
        if self.postgres is not None:
            try:
                self.postgres.get_wrapped_container().remove(force=True, v=True)
            except Exception as error:  # noqa: BLE001 - already gone is fine; say anything else
                if "No such container" not in str(error) and "404" not in str(error):
                    self.stack.log(f"could not remove the new Postgres: {error}")
        for network in self.stack.client.networks.list(names=[self.network]):
            if network.name == self.network:
                network.remove()
        shutil.rmtree(self.root, ignore_errors=True)
