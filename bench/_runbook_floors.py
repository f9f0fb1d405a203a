"""The floors the suite's maintenance window is judged against (bench/maintenance_window.py):
the bare stop/edit/up and the raw runbook's own commands, typed on a rehearsal stack as a
driver would without the suite."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from atmo_release.commands import docker as docker_argv
from atmo_release.commands import manage as manage_argv
from atmo_release.environment import parse_environment
from atmo_release.web import http_checks
from rehearsal.deploy_repos import NEW_RELEASE, OLD_RELEASE
from rehearsal.stack import RehearsalStack


def _sh(argv: list[str], timeout: float = 900) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed: {(done.stderr or done.stdout)[-400:]}")


def bare_runbook(stack: RehearsalStack, interval_s: float, timeout_s: float) -> dict[str, Any]:
    """stop, edit tags, up -d, wait until both apps answer; seconds per phase and in total."""
    for app in ("atmosphere", "troposphere"):
        _sh(["docker", "pull", f"{stack.image(app)}:release-{NEW_RELEASE}"])
    phases: dict[str, float] = {}
    started = time.monotonic()

    def phase(name: str, action: Callable[[], object]) -> None:
        begun = time.monotonic()
        action()
        phases[name] = round(time.monotonic() - begun, 2)

    phase("stop", lambda: _sh(stack.compose("stop")))
    phase(
        "edit",
        lambda: stack.compose_path.write_text(
            stack.compose_path.read_text().replace(
                f":release-{OLD_RELEASE}'", f":release-{NEW_RELEASE}'"
            )
        ),
    )
    phase("up -d", lambda: _sh(stack.compose("up", "-d")))
    atmosphere = f"http://127.0.0.1:{stack.ports['atmosphere']}"
    troposphere = f"http://127.0.0.1:{stack.ports['troposphere']}"
    probes = {
        "atmosphere": lambda: http_checks.atmosphere_ready(atmosphere),
        "troposphere": lambda: http_checks.troposphere_ready(troposphere),
    }
    phase("wait ready", lambda: http_checks.wait_until(probes, interval_s, timeout_s))
    return {"seconds": round(time.monotonic() - started, 2), "phases": phases}


def raw_runbook(stack: RehearsalStack, interval_s: float, timeout_s: float) -> dict[str, Any]:
    """The runbook's own commands typed in its order, as a driver would without this suite:
    maintenance start on troposphere and atmosphere, stop, a commit of each container, the
    deploy checkout reset and pulled, the tag edit, pull (already pulled, as the suite's
    preflight does), up -d, poll until both apps answer, maintenance stop on both. Its window
    is the suite's: from the first maintenance start's end to the last stop's end."""
    env = parse_environment(stack.env_file)
    for app in ("atmosphere", "troposphere"):
        _sh(["docker", "pull", f"{stack.image(app)}:release-{NEW_RELEASE}"])
    phases: dict[str, float] = {}

    def phase(name: str, action: Callable[[], object]) -> None:
        begun = time.monotonic()
        action()
        phases[name] = round(time.monotonic() - begun, 2)

    def manage(app: str, argv: Callable[[str, str], list[str]]) -> Callable[[], None]:
        service = env.services[app]
        return lambda: _sh(stack.compose("exec", "-T", app, *argv(service.venv, service.workdir)))

    def start(venv: str, workdir: str) -> list[str]:
        title = f"{datetime.now():%Y-%m-%d} {NEW_RELEASE} deployment"
        return manage_argv.maintenance_start(venv, workdir, title, env.maintenance_message)

    def commit_each() -> None:
        for app in ("atmosphere", "troposphere"):
            container = subprocess.run(
                stack.compose("ps", "-q", app), capture_output=True, text=True, check=True
            ).stdout.strip()
            image = f"old_{stack.project}_{app}:release-{OLD_RELEASE}"
            _sh(docker_argv.commit(container, image, stack.labels))

    def reset_and_pull() -> None:
        _sh(["git", "-C", str(stack.deploy_dir), "reset", "--hard"])
        _sh(["git", "-C", str(stack.deploy_dir), "pull"])

    def edit() -> None:
        text = stack.compose_path.read_text()
        old, new = f":release-{OLD_RELEASE}", f":release-{NEW_RELEASE}"
        if old not in text:
            raise RuntimeError(f"no {old} tag in {stack.compose_path} after the pull")
        stack.compose_path.write_text(text.replace(old, new))

    atmosphere = f"http://127.0.0.1:{stack.ports['atmosphere']}"
    troposphere = f"http://127.0.0.1:{stack.ports['troposphere']}"
    probes = {
        "atmosphere": lambda: http_checks.atmosphere_ready(atmosphere),
        "troposphere": lambda: http_checks.troposphere_ready(troposphere),
    }
    phase("maintenance start troposphere", manage("troposphere", start))
    opened = time.monotonic()
    phase("maintenance start atmosphere", manage("atmosphere", start))
    phase("stop", lambda: _sh(stack.compose("stop")))
    phase("commit", commit_each)
    phase("reset and pull", reset_and_pull)
    phase("edit", edit)
    phase("pull", lambda: _sh(stack.compose("pull")))
    phase("up -d", lambda: _sh(stack.compose("up", "-d")))
    phase("wait ready", lambda: http_checks.wait_until(probes, interval_s, timeout_s))
    phase("maintenance stop troposphere", manage("troposphere", manage_argv.maintenance_stop))
    phase("maintenance stop atmosphere", manage("atmosphere", manage_argv.maintenance_stop))
    return {"seconds": round(time.monotonic() - opened, 2), "phases": phases}
