"""The labels every throwaway object carries, so that a sweeper can tell whose it is."""

from __future__ import annotations

import os
import socket

RUN_LABEL = "org.cyverse.atmo-release.rehearsal"
PID_LABEL = "org.cyverse.atmo-release.pid"
HOST_LABEL = "org.cyverse.atmo-release.host"


def owner_labels() -> dict[str, str]:
    """Who owns a labelled object, as the sweep judges it: a pid means something only on its
    host (and pid namespace, whose host name a container has of its own)."""
    return {PID_LABEL: str(os.getpid()), HOST_LABEL: socket.gethostname()}


def pid_alive(pid: int | str) -> bool:
    """Whether a process of this host (and pid namespace) has `pid`; a pid that is not a
    number names none."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def run_labels(run_id: str) -> dict[str, str]:
    return {RUN_LABEL: run_id, **owner_labels()}
