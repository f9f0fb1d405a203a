"""A pytest plugin for tests/rehearsal/test_prepare_atmobeta.py: exposes the secrets' values.

Loaded with `-p tests.rehearsal.prepare_atmobeta_probe` into a run of
features/prepare_atmobeta.feature: ATMO_TEST_SECRETS_FILE names where to write every value of a
password, secret key or token on every commit of the rehearsal's secrets repository, read with
git and configparser here rather than through the code under test.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

SECRET = re.compile(r"PASS|SECRET|TOKEN|KEY", re.IGNORECASE)
INIS = ("inis/atmosphere.ini", "inis/troposphere.ini")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    ).stdout


def secret_values(repo: Path) -> set[str]:
    values: set[str] = set()
    for commit in _git(repo, "rev-list", "--all").split():
        for path in INIS:
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(_git(repo, "show", f"{commit}:{path}"))
            for section in parser.sections():
                values |= {v for k, v in parser.items(section) if SECRET.search(k) and v}
    return values


@pytest.hookimpl(trylast=True)
def pytest_bdd_before_step(request: pytest.FixtureRequest, **_: Any) -> None:
    secrets_file = os.environ.get("ATMO_TEST_SECRETS_FILE")
    if secrets_file and not Path(secrets_file).exists():
        preparation = request.getfixturevalue("prepare_atmobeta_run")
        values = secret_values(preparation.environment.secrets_dir)
        Path(secrets_file).write_text("\n".join(sorted(values)) + "\n")
