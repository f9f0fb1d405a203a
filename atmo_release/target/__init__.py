"""Where commands run and files live: one protocol every library module takes.

Only this package names a concrete target; `open_target` chooses it, and a plan wraps it.

Rule: runs argv and reads and writes files, reporting each command; judges nothing.
May import: the top of the package, `commands`.
"""

from __future__ import annotations

from atmo_release.environment import SshSettings
from atmo_release.redact import Redactor
from atmo_release.target.local import LocalTarget
from atmo_release.target.plan import PlanTarget
from atmo_release.target.protocol import CommandListener, Result, Target, changes
from atmo_release.target.ssh import SshTarget


def open_target(
    redactor: Redactor | None = None, *, planning: bool = False, ssh: SshSettings | None = None
) -> Target:
    """The target a run acts on: this machine, or the deploy host over SSH (its connection
    opened, so a wrong host key is refused before any action); or only its plan."""
    chosen: Target = LocalTarget(redactor) if ssh is None else SshTarget(ssh, redactor).open()
    return PlanTarget(chosen) if planning else chosen


__all__ = [
    "CommandListener",
    "LocalTarget",
    "PlanTarget",
    "Result",
    "SshTarget",
    "Target",
    "changes",
    "open_target",
]
