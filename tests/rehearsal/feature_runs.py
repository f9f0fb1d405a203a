"""Runs of features/deploy.feature in a subprocess against a test's own rehearsal stack (or
deploy host), as a second operator or a rerun would start them, and a reading of the stack to
compare."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import docker

from rehearsal.deploy_host import DeployHost
from rehearsal.stack import RehearsalStack

ROOT = Path(__file__).resolve().parents[2]


def feature(
    stack: RehearsalStack | DeployHost,
    out: Path,
    *extra: str,
    driver: str = "Ada",
    env_file: Path | None = None,
    release: str = "v37-3",
    path: str = "features/deploy.feature",
    plugins: tuple[str, ...] = ("tests.rehearsal.rehearsal_probe",),
    **probe: str,
) -> subprocess.Popen[str]:
    environ = {**os.environ, **stack.variables(), **probe}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            path,
            *(item for plugin in plugins for item in ("-p", plugin)),
            f"--env={env_file or stack.env_file}",
            f"--release={release}",
            "--crew-chief=Lin",
            f"--driver={driver}",
            f"--records-dir={out.parent}",
            f"--junitxml={out / 'junit.xml'}",
            *extra,
        ],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def env_file_with(stack: RehearsalStack, path: Path, old: str, new: str) -> Path:
    """The stack's environment file with one edit, beside the run's reports."""
    text = stack.env_file.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def finish(child: subprocess.Popen[str], timeout: float = 600) -> tuple[int, str]:
    output, _ = child.communicate(timeout=timeout)
    return child.returncode, output


def state(stack: RehearsalStack) -> dict[str, object]:
    client = docker.from_env()
    containers = client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={stack.project}"}
    )
    title_rows = stack.psql("atmo_prod", "SELECT count(*) FROM maintenance_record")
    return {
        "containers": sorted(
            f"{c.labels['com.docker.compose.service']} {c.status} "
            f"{c.attrs['Config']['Image'].rsplit(':', 1)[1]}"
            for c in containers
        ),
        "maintenance_records": int(title_rows),
        "active": int(
            stack.psql(
                "atmo_prod", "SELECT count(*) FROM maintenance_record WHERE end_date IS NULL"
            )
        ),
        "backups": sorted(
            t for i in client.images.list(name=f"old_{stack.project}_*") for t in i.tags
        ),
        "rows": stack.counts(),
    }


UNTOUCHED = {
    "containers": ["atmosphere running release-v37-2", "troposphere running release-v37-2"],
    "maintenance_records": 0,
    "active": 0,
    "backups": [],
}


def released(stack: RehearsalStack) -> dict[str, object]:
    return {
        "containers": ["atmosphere running release-v37-3", "troposphere running release-v37-3"],
        "maintenance_records": 1,
        "active": 0,
        "backups": [
            f"old_{stack.project}_atmosphere:release-v37-2",
            f"old_{stack.project}_troposphere:release-v37-2",
        ],
    }
