"""Faults injected into a rehearsal and undone afterwards, also when the test fails."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from atmo_release.release_day.deployment import Deployment
from rehearsal.stack import RehearsalStack

RUN: dict[str, Any] = {"check": True, "capture_output": True, "text": True}


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], **RUN).stdout.strip()


@contextmanager
def rewritten(path: Path, data: bytes) -> Iterator[bytes]:
    """`path` holds `data` inside the block, its own bytes (yielded) again after it."""
    original = path.read_bytes()
    path.write_bytes(data)
    try:
        yield original
    finally:
        path.write_bytes(original)


@contextmanager
def renamed_table(stack: RehearsalStack, database: str, table: str) -> Iterator[None]:
    """`table` is missing under its name inside the block, as if a release had dropped it."""
    stack.psql(database, f"ALTER TABLE {table} RENAME TO fault_{table}")
    try:
        yield
    finally:
        stack.psql(database, f"ALTER TABLE fault_{table} RENAME TO {table}")


@contextmanager
def rows_deleted(stack: RehearsalStack, database: str, table: str, where: str) -> Iterator[None]:
    """The rows of `table` matching `where` are gone inside the block, back (same ids) after."""
    stack.psql(database, f"CREATE TABLE fault_saved AS SELECT * FROM {table} WHERE {where}")
    stack.psql(database, f"DELETE FROM {table} WHERE id IN (SELECT id FROM fault_saved)")
    try:
        yield
    finally:
        stack.psql(database, f"INSERT INTO {table} SELECT * FROM fault_saved")
        stack.psql(database, "DROP TABLE fault_saved")


@contextmanager
def code_committed(deployment: Deployment, app: str, restart: bool = False) -> Iterator[None]:
    """A commit in the running `app` container's code, as a hot fix made in place would be;
    with `restart` the container restarts, so its process serves that code."""
    container = deployment.containers.now()[app].id
    git = ["exec", container, "git", "-C", deployment.service(app).workdir]
    docker(*git, "-c", "user.name=fault", "-c", "user.email=fault@example.org", "commit", "-q",
           "--allow-empty", "-m", "hot fix")  # fmt: skip
    if restart:
        docker("restart", container)
    try:
        yield
    finally:
        docker(*git, "reset", "-q", "--soft", "HEAD~1")
        if restart:
            docker("restart", container)


@contextmanager
def file_replaced_inside(container: str, path: str, text: str) -> Iterator[str]:
    """`path` in the running `container` holds `text` inside the block (a hot edit); its own
    bytes (yielded) again after it."""
    original = subprocess.run(["docker", "exec", container, "cat", path], **RUN).stdout
    write = ["docker", "exec", "-i", container, "tee", path]
    subprocess.run(write, input=text, **RUN)
    try:
        yield original
    finally:
        subprocess.run(write, input=original, **RUN)


@contextmanager
def unreachable_inside(container: str, host: str) -> Iterator[None]:
    """Inside the block `host` resolves to a closed port in `container` (its /etc/hosts names
    it first), as a proxy pointed at the wrong address would be."""
    hosts = subprocess.run(["docker", "exec", container, "cat", "/etc/hosts"], **RUN).stdout
    with file_replaced_inside(container, "/etc/hosts", f"127.0.0.1 {host}\n{hosts}"):
        yield
