"""The deploy lock on the target: one release run per environment at a time, with who and why."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from atmo_release.labels import pid_alive
from atmo_release.target import Target


class LockRefused(RuntimeError):
    """Another run holds the lock (or a dead one does and nobody said to break it)."""


@dataclass(frozen=True)
class LockHolder:
    driver: str
    env: str
    release: str
    run_id: str
    pid: int
    host: str
    since: str

    def describe(self) -> str:
        return (
            f"{self.driver} holds the deploy lock of {self.env} since {self.since} "
            f"(release {self.release}, run {self.run_id}, pid {self.pid} on {self.host})"
        )


def _age_s(since: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(since)).total_seconds()


@dataclass
class DeployLock:
    target: Target
    path: Path
    stale_after_s: float

    def holder(self) -> LockHolder | None:
        if not self.target.exists(self.path):
            return None
        try:
            return LockHolder(**json.loads(self.target.read_text(self.path)))
        except (OSError, ValueError, TypeError):
            return LockHolder("unknown", "?", "?", "?", 0, "?", "unknown time")

    def stale_reason(self, holder: LockHolder) -> str | None:
        """Why the holder's run is dead, or None while it may still be running."""
        if holder.host == socket.gethostname() and not pid_alive(holder.pid):
            return f"its process {holder.pid} is gone"
        try:
            age = _age_s(holder.since)
        except ValueError:
            return "it cannot be read"
        if age > self.stale_after_s:
            return f"it is {age:.0f} s old, over the limit of {self.stale_after_s:g} s"
        return None

    def acquire(self, me: LockHolder, wait_s: float = 0, break_reason: str | None = None) -> str:
        """Take the lock, waiting up to `wait_s`; returns what happened, for the record."""
        deadline = time.monotonic() + wait_s
        broken = ""
        while True:
            if self.target.create_exclusive(self.path, json.dumps(asdict(me), indent=2)):
                return f"taken{broken}"
            holder = self.holder()
            if holder is None:
                continue
            stale = self.stale_reason(holder)
            if stale and break_reason:
                self.target.remove(self.path)
                broken = (
                    f" after breaking a stale lock ({holder.describe()}; {stale}): {break_reason}"
                )
                continue
            if stale:
                raise LockRefused(
                    f"{holder.describe()}, but the lock is stale because {stale}: "
                    'break it with --break-lock "<reason>" once you know that run '
                    "is dead"
                )
            if time.monotonic() >= deadline:
                waited = f" (waited {wait_s:g} s)" if wait_s else ""
                raise LockRefused(
                    f"{holder.describe()}{waited}: wait for it with --lock-wait "
                    "SECONDS, or ask them"
                )
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))

    def release(self, me: LockHolder) -> None:
        holder = self.holder()
        if holder is not None and holder.run_id == me.run_id:
            self.target.remove(self.path)
