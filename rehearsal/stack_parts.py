"""What the stack's helper modules (its containers, its repositories, its environment file)
need of a rehearsal stack: they know only this, and `stack.py`, which implements it, imports
them, never the other way round."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import docker

from rehearsal.shell import Log


class StackParts(Protocol):
    log: Log
    run_id: str
    root: Path
    ports: dict[str, int]
    password: str
    secret_keys: dict[str, str]
    postgres_settings: tuple[str, ...]
    compose_flavour: str
    compose_command: tuple[str, ...]
    database_host: str
    client: docker.DockerClient
    project: str
    token_env: str
    network: str
    labels: dict[str, str]
    deploy_dir: Path
    secrets_dir: Path
    upstream: Path
    compose_path: Path
    backup_dir: Path

    @property
    def registry(self) -> str: ...

    def image(self, app: str) -> str: ...

    def compose_text(self, release: str) -> str: ...

    def psql(self, database: str, sql: str, timeout: float = 60) -> str: ...
