"""Attach a run's reports to the GitHub release of its tag, and read the asset list back.

    python -m atmo_release.attach reports/<run> --env NAME

Idempotent: a file already attached with the same content is not uploaded again. Assets are
named `<env>-<UTC start>-<kind>` so that runs and environments never collide; the files
uploaded are the redacted ones, passed through the redactor once more on the way out. An
immutable published release takes no files: only its body's block says where they are.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from atmo_release.environment import (
    Environment,
    EnvironmentFileError,
    load_environment,
    parse_environment,
)
from atmo_release.github.pull_requests import GitHubError
from atmo_release.github.release_body import run_block, with_block
from atmo_release.github.releases import GitHubReleases
from atmo_release.record.home import RecordHome, find_or_create
from atmo_release.redact import Redactor
from atmo_release.release import Release

ROOT = Path(__file__).resolve().parents[2]
# kind -> content type; the record files are `<stem>.json|html` (record, first_deploy-record).
KINDS = {
    "junit.xml": "application/xml",
    "cucumber.json": "application/json",
    "record.json": "application/json",
    "record.html": "text/html; charset=utf-8",
}


def attach_command(directory: Path, env: str) -> str:
    return f"python -m atmo_release.attach {directory} --env {env}"


@dataclass(frozen=True)
class RunReports:
    """A run's report folder: junit.xml, cucumber.json and `<stem>.json|html`."""

    directory: Path
    stem: str = "record"

    @classmethod
    def find(cls, directory: Path) -> RunReports:
        if (directory / "record.json").is_file():
            return cls(directory)
        stems = sorted(p.stem for p in directory.glob("*-record.json"))
        if len(stems) != 1:
            raise FileNotFoundError(
                f"{directory} holds no record.json (or one <feature>-record.json): "
                "give the folder of one run, e.g. reports/rehearsal-v37-3-20261127T090000Z"
            )
        return cls(directory, stems[0])

    def record(self) -> dict[str, Any]:
        return json.loads((self.directory / f"{self.stem}.json").read_text())

    def files(self) -> dict[str, Path]:
        own = {"record.json": f"{self.stem}.json", "record.html": f"{self.stem}.html"}
        return {kind: self.directory / own.get(kind, kind) for kind in KINDS}

    def prefix(self, record: dict[str, Any]) -> str:
        stamp = datetime.fromisoformat(record["started"]).strftime("%Y%m%dT%H%M%SZ")
        return f"{record['env']}-{stamp}"


@dataclass
class Attached:
    """What one attach did: the release, each asset read back, and what is not attached."""

    release_url: str = ""
    uploaded: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_attached: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # not written by the run (record.html)

    @property
    def html_url(self) -> str | None:
        """Where the attached record.html is read, if it was attached."""
        html = next((a for name, a in self.assets.items() if name.endswith("-record.html")), None)
        return str(html["browser_download_url"]) if html else None

    @property
    def log_url(self) -> str:
        return self.html_url or self.release_url

    def lines(self) -> list[str]:
        lines = [f"release: {self.release_url}"] if self.release_url else []
        lines += [
            f"attached {name} ({asset['size']} bytes"
            + (", already there)" if name in self.already else ")")
            for name, asset in self.assets.items()
        ]
        lines += [f"not written, so not attached: {name}" for name in self.missing]
        lines += [f"NOT attached {name}: {why}" for name, why in self.not_attached.items()]
        return lines


def _same(asset: dict[str, Any], data: bytes) -> bool:
    digest = asset.get("digest")
    if digest and digest != "sha256:" + hashlib.sha256(data).hexdigest():
        return False
    return int(asset.get("size", -1)) == len(data)


def images_of(environment: Environment, release: str) -> dict[str, str]:
    tag = Release.parse(release).image_tag
    return {app: f"{service.image}:{tag}" for app, service in environment.services.items()}


def attach(
    client: GitHubReleases,
    home: RecordHome,
    reports: RunReports,
    environment: Environment,
    redactor: Redactor,
) -> Attached:
    """Upload what is not there yet, read the asset list back, update this run's body block."""
    record = reports.record()
    tag = Release.parse(record["release"]).git_tag
    repo = home.repository
    release, _ = find_or_create(client, repo, tag, tag, "", home.draft)
    done = Attached(release_url=str(release.get("html_url", "")))
    release_id = int(release["id"])
    immutable = bool(release.get("immutable")) and not release.get("draft")
    present = {asset["name"]: asset for asset in client.assets(repo, release_id)}
    prefix = reports.prefix(record)
    wanted: dict[str, bytes] = {}
    for kind, path in reports.files().items():
        name = f"{prefix}-{kind}"
        if not path.is_file():
            done.missing.append(name)
            continue
        if immutable:
            done.not_attached[name] = f"the release is immutable; the file stays at {path}"
            continue
        data = redactor(path.read_text(errors="replace")).encode()
        wanted[name] = data
        if name in present:
            if _same(present[name], data):
                done.already.append(name)
            else:
                done.not_attached[name] = "a different file of that name is already attached"
            continue
        try:
            client.upload_asset(repo, release_id, name, data, KINDS[kind])
            done.uploaded.append(name)
        except GitHubError as error:
            done.not_attached[name] = str(error)
    listed = {asset["name"]: asset for asset in client.assets(repo, release_id)}
    for name, data in wanted.items():
        if name in listed and _same(listed[name], data):
            done.assets[name] = listed[name]
        else:
            done.not_attached.setdefault(name, "not in the release's asset list with its size")
    try:
        _write_block(client, home, tag, record, done, images_of(environment, record["release"]))
    except (GitHubError, ValueError) as error:
        done.not_attached["the release body's block"] = str(error)
    return done


def _write_block(
    client: GitHubReleases,
    home: RecordHome,
    tag: str,
    record: dict[str, Any],
    done: Attached,
    images: dict[str, str],
) -> None:
    """Re-read the body right before replacing this run's block, so others' edits are kept."""
    release = client.release_by_tag(home.repository, tag)
    if release is None:
        raise GitHubError(f"the release of {tag} in {home.repository} is gone")
    links = {a["name"]: str(a["browser_download_url"]) for a in done.assets.values()}
    elsewhere = ", ".join(sorted(done.not_attached)) if done.not_attached else ""
    body = release.get("body") or ""
    updated = with_block(
        body, record["env"], record["run_id"], run_block(record, images, links, elsewhere)
    )
    if updated != body:
        client.update_release(home.repository, int(release["id"]), body=updated)


def main(argv: list[str] | None = None, say: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atmo_release.attach",
        description="attach a run's reports to the GitHub release of its tag",
    )
    parser.add_argument("reports", type=Path, help="the run's folder, e.g. reports/<run>")
    parser.add_argument("--env", required=True, help="environment name or .toml path")
    args = parser.parse_args(argv)
    try:
        environment = (
            parse_environment(Path(args.env))
            if args.env.endswith(".toml")
            else load_environment(args.env, ROOT / "environments")
        )
        home = RecordHome.of(environment)
        reports = RunReports.find(args.reports)
    except (EnvironmentFileError, OSError, ValueError) as error:
        say(f"refused: {error}")
        return 2
    if home is None:
        say(f"refused: {environment.path} has no [release_record] table naming the repository")
        return 2
    client = home.client()
    if client is None:
        say(f"refused: {home.no_token_note()}; export it and run this again")
        return 2
    try:
        done = attach(client, home, reports, environment, Redactor([home.token]))
    except GitHubError as error:
        say(f"not attached: {error}")
        return 1
    for line in done.lines():
        say(line)
    say(f"uploaded {len(done.uploaded)}, already there {len(done.already)}")
    return 1 if done.not_attached else 0
