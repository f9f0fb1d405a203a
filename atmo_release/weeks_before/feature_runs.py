"""The run of a feature with its own record (prepare, release_candidate, first_deploy), beside
the deploy record, and what each feature before release day hands its steps.

Why separate files (`<feature>-record.json|md|html`): a deploy gate that reads `record.json` must
never take a passed preparation for a passed deployment.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from atmo_release.environment import Environment
from atmo_release.github.pull_requests import GitHubClient, token_from
from atmo_release.record.run_record import ReleaseRecord, utc_now
from atmo_release.redact import Redactor
from atmo_release.release import Release
from atmo_release.target import Target
from atmo_release.weeks_before import attest
from atmo_release.weeks_before.candidate_repos import AppRepository, CandidateSettings
from atmo_release.weeks_before.notice import NoticeSettings
from atmo_release.weeks_before.production_variables import Comparison, ProductionVariablesSettings
from atmo_release.weeks_before.registry import Registry
from atmo_release.weeks_before.slated import SlatedPull
from atmo_release.weeks_before.statusio import StatusIO

# The attestation prepare_atmobeta.feature asks for: production's variables were compared.
ATTEST = "prod-variables"


@dataclass
class PreReleaseRun:
    feature: str
    record: ReleaseRecord
    reports_dir: Path
    redactor: Redactor = field(default_factory=Redactor)

    @property
    def stem(self) -> str:
        return f"{self.feature}-record"

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        """JSON, Markdown and HTML."""
        json_path, md_path, html_path = (
            self.reports_dir / f"{self.stem}.{suffix}" for suffix in ("json", "md", "html")
        )
        return json_path, md_path, html_path

    @property
    def html_path(self) -> Path:
        return self.paths[2]

    def fact(self, key: str, value: Any) -> None:
        self.record.facts[key] = value

    def write(self) -> list[Path]:
        """Write JSON, Markdown and HTML, redacted; the feature's name leads the JSON."""
        return self.record.write(self.reports_dir, self.redactor, self.stem, feature=self.feature)

    def checkpoint(self) -> None:
        """After each step, so that a run killed mid-way still leaves its trace."""
        self.write()

    def finish(self, halted_at: str = "") -> None:
        self.record.finished = utc_now()
        self.record.outcome = "halted" if halted_at else "passed"
        self.record.halted_at = halted_at
        self.write()

    def read_back(self) -> dict[str, Any]:
        return json.loads(self.paths[0].read_text())


@dataclass
class Prepare:
    """What prepare.feature's steps share across scenarios."""

    run: PreReleaseRun
    environment: Environment
    release: Release
    release_date: date
    notice_date: date
    holidays: list[date]
    needed_days: int
    attestations: dict[str, attest.Attestation]
    rehearsal: bool
    notice: NoticeSettings | None = None
    statusio: StatusIO | None = None
    sink: Any = None
    sent: dict[str, str] = field(default_factory=dict)


@dataclass
class Candidate:
    """What release_candidate.feature's steps share across scenarios."""

    run: PreReleaseRun
    environment: Environment
    release: Release
    day: date
    settings: CandidateSettings
    repos: dict[str, AppRepository]
    registry: Registry
    digests: dict[str, str] = field(default_factory=dict)
    allow_open_prs: str | None = None
    slated: dict[str, list[SlatedPull]] = field(default_factory=dict)

    def image(self, app: str) -> tuple[str, str]:
        """(repository name in the registry, tag) of the app's release image."""
        return self.environment.services[app].image, self.release.image_tag

    @property
    def imaged(self) -> list[str]:
        """The repositories whose tag builds an image: those the environment runs as a service."""
        return [name for name in self.repos if name in self.environment.services]

    def github(self) -> GitHubClient:
        token = token_from(self.settings.github_token_env)
        self.run.redactor.add([token])
        return GitHubClient(self.settings.github_api, token)


@dataclass
class AtmobetaPreparation:
    """What prepare_atmobeta.feature's steps share."""

    run: PreReleaseRun
    environment: Environment
    settings: ProductionVariablesSettings
    target: Target
    records_dir: Path
    attestations: dict[str, attest.Attestation]
    comparison: Comparison | None = None


def warn_one_person(crew_chief: str, driver: str) -> str | None:
    if crew_chief.strip().lower() == driver.strip().lower():
        message = (
            f"{crew_chief} is both crew chief and driver: the runbook wants two people, one to "
            "deploy and one to follow and communicate"
        )
        warnings.warn(message, UserWarning, stacklevel=2)
        return message
    return None
