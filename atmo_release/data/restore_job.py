"""A restore running as a job on the deploy host, watched from the runner, and read back by a
later run when nobody saw it end (the SSH connection cut, the runner killed).

The job's status file beside the dump says whether its process still runs and how it exited;
the transaction id in its log lets PostgreSQL itself say whether the restore committed or was
rolled back, so a restore is never left unknown or half done.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from atmo_release.checks import CheckFailed
from atmo_release.commands import files, restore
from atmo_release.data.client import DatabaseClient
from atmo_release.data.restore_stream import TRANSACTION_PREFIX, Part, transaction_id
from atmo_release.target import Target

# Seconds a restore may take: a floor, plus its input read at a pessimistic 2 MiB/s (psql
# loads a plain dump at over 20 MiB/s on a healthy host).
TIMEOUT_FLOOR_S = 600.0
TIMEOUT_BYTES_PER_S = 2 * 2**20
COMMITTED, ABORTED, RUNNING = "committed", "aborted", "in progress"


def timeout_for(size_bytes: int) -> float:
    return TIMEOUT_FLOOR_S + size_bytes / TIMEOUT_BYTES_PER_S


@dataclass(frozen=True)
class JobState:
    """What the status file says: `started <pid> <epoch>`, `exited <rc> <epoch>`, and
    `settled <verdict> <epoch>` once a run has judged it."""

    pid: int | None = None
    started: int | None = None
    exit_code: int | None = None
    settled: str = ""

    @classmethod
    def parse(cls, text: str) -> JobState:
        fields: dict[str, list[str]] = {}
        for line in text.splitlines():
            word, *rest = line.split() or [""]
            fields.setdefault(word, rest)
        started, exited, settled = (
            fields.get("started"),
            fields.get("exited"),
            fields.get("settled"),
        )
        return cls(
            pid=int(started[0]) if started else None,
            started=int(started[1]) if started and len(started) > 1 else None,
            exit_code=int(exited[0]) if exited else None,
            settled=settled[0] if settled else "",
        )


class RestoreJob:
    """One restore of `database`, its files named after the dump and the run that started it:
    `<dump>.restore-<run>.status`, `.log`, and the small parts of its input."""

    def __init__(self, target: Target, status: Path, database: str = "") -> None:
        self.target, self.status, self.database = target, Path(status), database
        self.stem = str(self.status)[: -len(".status")]
        self.log = Path(f"{self.stem}.log")

    @classmethod
    def beside(cls, target: Target, dump: Path, run_id: str, database: str) -> RestoreJob:
        return cls(target, Path(f"{dump}.restore-{run_id}.status"), database)

    def as_record(self) -> dict[str, str]:
        return {"database": self.database, "status": str(self.status), "log": str(self.log)}

    def inputs(self, parts: Sequence[Part]) -> list[str]:
        """The paths of the job's input in order; the small parts are written first (0600)."""
        paths = []
        for part in parts:
            if part.path:
                paths.append(part.path)
                continue
            path = Path(f"{self.stem}.{part.name}")
            if not self.target.create_exclusive(path, part.text, 0o600):
                raise CheckFailed(f"{path} exists already: a restore's files are never reused")
            paths.append(str(path))
        return paths

    def size(self, paths: Sequence[str]) -> int:
        total = 0
        for path in paths:
            found = self.target.run(files.mode_and_size(path))
            if not found.ok:
                raise CheckFailed(f"the restore's input {path} is not there: {found.tail(1)}")
            total += int(found.stdout.split()[1])
        return total

    def start(self, inputs: Sequence[str], argv: Sequence[str], env: Mapping[str, str]) -> None:
        result = self.target.run(
            restore.start_job(str(self.status), str(self.log), inputs, argv), env=env, timeout=60
        )
        deadline = time.monotonic() + 30
        while result.ok and not self.target.exists(self.status):
            if time.monotonic() >= deadline:
                raise CheckFailed(f"the restore of {self.database} did not start: no {self.status}")
            time.sleep(0.05)
        if not result.ok:
            raise CheckFailed(
                f"the restore of {self.database} could not be started on the host: "
                f"{self.target.redactor(result.tail(2))}"
            )

    def read(self) -> JobState:
        result = self.target.run(restore.job_status(str(self.status)))
        if not result.ok:
            raise CheckFailed(f"the restore's status file {self.status} cannot be read")
        return JobState.parse(result.stdout)

    def alive(self, state: JobState) -> bool:
        return (
            state.pid is not None
            and self.target.run(restore.job_alive(state.pid, str(self.status))).ok
        )

    def wait(self, timeout: float, poll: float = 0.2) -> JobState:
        """Until the job has exited (or its process is gone without saying so); CheckFailed
        after `timeout` seconds, the job left running on the host."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                state = self.read()
            except CheckFailed as error:
                raise CheckFailed(
                    f"the host stopped answering while the restore of {self.database} ran: "
                    f"it goes on there on its own; its status is in {self.status}"
                ) from error
            if state.exit_code is not None:
                return state
            if not self.alive(state):
                return self.read()  # it writes its exit before it ends: read after it ended
            if time.monotonic() >= deadline:
                raise CheckFailed(
                    f"the restore of {self.database} still runs after {timeout:.0f} s "
                    f"(pid {state.pid} on the host, status in {self.status}): wait for it, "
                    "then run features/rollback.feature, which reads how it ended"
                )
            time.sleep(poll)
            poll = min(poll * 1.5, 2.0)

    def transaction(self) -> int | None:
        found = self.target.run(restore.job_transaction(str(self.log), TRANSACTION_PREFIX))
        return transaction_id(found.stdout) if found.ok else None

    def verdict(self, db: DatabaseClient, database: str) -> str:
        """`committed`, `aborted` (PostgreSQL rolled it back), `in progress`, or `not begun`
        (it never reached its BEGIN). Transaction ids are the server's, so any of its
        databases answers."""
        xid = self.transaction()
        if xid is None:
            return "not begun"
        return db.scalar(database, f"SELECT txid_status({xid})") or "unknown"

    def log_tail(self) -> str:
        found = self.target.run(files.last_bytes(self.log, 1500))
        lines = [line for line in found.stdout.splitlines() if line.strip()]
        return self.target.redactor(" / ".join(lines[-3:])) or "nothing logged"

    def settle(self, verdict: str) -> None:
        self.target.run(restore.settle(str(self.status), verdict))


def unsettled(target: Target, directory: Path) -> list[RestoreJob]:
    """The restore jobs in `directory` that no run saw to their end."""
    found = target.run(restore.find_status_files(str(directory)))
    jobs = [RestoreJob(target, Path(line)) for line in sorted(found.stdout.splitlines()) if line]
    return [job for job in jobs if not job.read().settled]
