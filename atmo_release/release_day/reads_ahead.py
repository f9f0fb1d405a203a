"""Checks that only read, started together as soon as what they judge is in place, and taken
each by its own step in the feature's order: users are locked out while the checks after the
upgrade run, and most of their time is waiting on other processes.

A step that takes a check gets its verdict (a failure halts the run there, as if it had run
then), its commands and its notes; the record keeps the seconds the check's own work took
beside the seconds the step waited. Nothing that changes the deployment runs while a check is
in flight: the target waits for them first (`before_change`), so a halt's rollback never acts
under a check still reading."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from atmo_release.record.run_record import (
    PRECISE,
    RECORDING_INTO,
    ReleaseRecord,
    StepEntry,
    utc_now,
)
from atmo_release.target import Target

Check = Callable[[], object]


@dataclass
class _Ahead:
    entry: StepEntry
    done: Future[None] = field(default_factory=Future)


class ReadsAhead:
    def __init__(self, record: ReleaseRecord, target: Target) -> None:
        self.record = record
        self.target = target
        self.pending: dict[str, _Ahead] = {}
        self.started: set[str] = set()
        self._owner: int | None = None

    def start(self, checks: Mapping[str, Check], after: Mapping[str, Sequence[str]]) -> None:
        """Start every check of `checks`, each in its own thread once the checks `after` names
        for it have ended (passed or failed: a failure is its own step's to tell)."""
        self._owner = threading.get_ident()
        if self.settle not in self.target.before_change:
            self.target.before_change.append(self.settle)
        started = {
            key: _Ahead(StepEntry(section="", step=key, started=utc_now(PRECISE))) for key in checks
        }
        self.pending.update(started)
        self.started.update(started)
        for key, check in checks.items():
            waits = [started[first] for first in after.get(key, ()) if first in started]
            threading.Thread(
                target=self._run,
                args=(check, started[key], waits),
                name=f"ahead-{key}",
                daemon=True,
            ).start()

    @staticmethod
    def _run(check: Check, ahead: _Ahead, waits: list[_Ahead]) -> None:
        for first in waits:
            first.done.exception()  # ended, whichever way: its step says how
        RECORDING_INTO.set(ahead.entry)
        began = time.monotonic()
        failed: BaseException | None = None
        try:
            check()
        except BaseException as error:  # noqa: BLE001 - every outcome goes to the step
            failed = error
        ahead.entry.seconds = round(time.monotonic() - began, 3)
        if failed is None:
            ahead.done.set_result(None)
        else:
            ahead.done.set_exception(failed)

    def take(self, key: str, check: Check) -> None:
        """The verdict of `key` read ahead, into the step running now; `check` runs now when
        it was not started (a run resumed in the middle, a plan)."""
        ahead = self.pending.get(key)
        if ahead is None:
            check()
            return
        ahead.done.exception()  # still pending while waited for: a Ctrl-C here, and settle waits
        del self.pending[key]
        self._into_step(ahead, "")
        ahead.done.result()

    def settle(self) -> None:
        """Every check in flight ends before the one that started them changes anything;
        those no step took (the run halted first) leave their commands in the step running
        now, said as such. Other threads never wait: a check may change what is its own."""
        if not self.pending or threading.get_ident() != self._owner:
            return
        left, self.pending = self.pending, {}
        for key, ahead in left.items():
            ahead.done.exception()
            self._into_step(ahead, f"{key}, read ahead, was not judged: the run went on first")

    def _into_step(self, ahead: _Ahead, why: str) -> None:
        if not self.record.steps:
            return
        step = self.record.steps[-1]
        step.commands += ahead.entry.commands
        step.notes += ahead.entry.notes + ([why] if why else [])
        if not why:
            step.ahead_seconds = ahead.entry.seconds
            step.notes.append(
                f"read ahead beside the other checks: its own work took {ahead.entry.seconds:g} s"
            )
