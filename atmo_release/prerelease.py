"""The run of a feature with its own record (prepare, release_candidate, first_deploy), beside
the deploy record.

Why separate files (`<feature>-record.json|md|html`): a deploy gate that reads `record.json` must
never take a passed preparation for a passed deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atmo_release.record import ReleaseRecord, utc_now
from atmo_release.redact import Redactor


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
