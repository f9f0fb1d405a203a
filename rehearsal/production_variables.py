"""The atmobeta preparation's rehearsal: a secrets repository with a history, and the record of
the last production deployment. No containers: only files under one temporary root.

`SecretsHistory.up()` makes:
    atmosphere-docker-secrets/   branches prod, atmobeta and jetstream-prod as the deploy
                                 rehearsal makes them (only atmobeta's atmosphere.ini has
                                 ARGO_TOKEN), then checked out on atmobeta
    records/production-.../record.json
                                 a passed production deployment of prod's commit, dated a second
                                 after the newest commit
and, dated a minute and two minutes after that deployment:
    atmobeta  MAINTENANCE_EXEMPT_USERNAMES gains a user (production does not follow: to confirm)
              and GUACAMOLE_URL is added;
    prod      the variables prepared: ARGO_TOKEN and GUACAMOLE_URL added (with the fault
              `missing-prod-key`, ARGO_TOKEN is left out).
"""

from __future__ import annotations

import json
import os
import secrets as random_secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rehearsal.database import EXEMPT_USER
from rehearsal.deploy_repos import SECRETS_BRANCH, make_secrets
from rehearsal.shell import GIT_ENV

PRODUCTION_BRANCH = "prod"
GUACAMOLE_URL = "GUACAMOLE_URL = https://guacamole.rehearsal.invalid\n"
FAULTS = ("none", "missing-prod-key")


def _git(repo: Path, *args: str, when: int | None = None) -> str:
    dated = {"GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000"}
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, **(dated if when else {})},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:2])} failed: {done.stderr[-400:]}")
    return done.stdout.strip()


@dataclass
class SecretsHistory:
    """Always finish with `down()`."""

    fault: str = "none"
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atmo-prodvars-")))
    password: str = field(default_factory=lambda: random_secrets.token_urlsafe(18))
    secret_keys: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=lambda: {"atmosphere": 8000, "troposphere": 8001})
    database_host: str = "127.0.0.1"

    @property
    def secrets_dir(self) -> Path:
        return self.root / "atmosphere-docker-secrets"

    @property
    def records(self) -> Path:
        return self.root / "records"

    @property
    def values(self) -> list[str]:
        """Every secret value of every branch: none may reach a report."""
        return [self.password, *self.secret_keys.values()]

    def up(self) -> SecretsHistory:
        self.secrets_dir.mkdir(parents=True)
        make_secrets(self)
        deployed = int(_git(self.secrets_dir, "log", "-1", "--all", "--format=%ct")) + 1
        self._record(_git(self.secrets_dir, "rev-parse", PRODUCTION_BRANCH), deployed)
        ini = "inis/atmosphere.ini"
        self._commit(
            SECRETS_BRANCH,
            ini,
            lambda text: (
                text.replace(
                    f"MAINTENANCE_EXEMPT_USERNAMES = {EXEMPT_USER}\n",
                    f"MAINTENANCE_EXEMPT_USERNAMES = {EXEMPT_USER},atmo-ops\n",
                )
                + GUACAMOLE_URL
            ),
            deployed + 60,
        )
        self.secret_keys["argo-prod"] = random_secrets.token_hex(16)
        argo = (
            ""
            if self.fault == "missing-prod-key"
            else f"ARGO_TOKEN = {self.secret_keys['argo-prod']}\n"
        )
        self._commit(
            PRODUCTION_BRANCH, ini, lambda text: text + argo + GUACAMOLE_URL, deployed + 120
        )
        _git(self.secrets_dir, "checkout", "-q", SECRETS_BRANCH)
        return self

    def _commit(self, branch: str, path: str, edit: Callable[[str], str], when: int) -> None:
        _git(self.secrets_dir, "checkout", "-q", branch)
        file = self.secrets_dir / path
        file.write_text(edit(file.read_text()))
        _git(
            self.secrets_dir,
            "commit",
            "-q",
            "-am",
            f"{branch}: variables for the release",
            when=when,
        )

    def _record(self, commit: str, when: int) -> None:
        stamp = datetime.fromtimestamp(when, UTC)
        folder = self.records / f"production-v37-5-{stamp:%Y%m%dT%H%M%SZ}"
        folder.mkdir(parents=True)
        record = {
            "env": "production",
            "release": "v37-5",
            "outcome": "passed",
            "started": stamp.isoformat(timespec="seconds"),
            "finished": stamp.isoformat(timespec="seconds"),
            "facts": {"secrets_commit": commit},
        }
        (folder / "record.json").write_text(json.dumps(record, indent=2))

    def down(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
