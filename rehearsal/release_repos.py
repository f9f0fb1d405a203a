"""Stand-ins for the week before release: app repositories with an upstream, and a registry.

`ReleaseRehearsal.up()` makes, under one temporary root:
    upstream/<repo>.git    bare repository holding master (the "GitHub" of the rehearsal), for
                           atmosphere, troposphere and atmosphere-ansible
    checkouts/<repo>       clone whose remote is named "upstream", CHANGELOG.md shaped like the
                           real one (template comment, code-named releases, trailing spaces);
                           a repository in `older` was last released earlier, so its next
                           release skips numbers as atmosphere-ansible's did
and starts a registry testcontainer from `atmo-rehearsal/registry:2`, labelled with the run id
and this process's pid. `publish(app, tag)` plays the tagged build: it pushes a tiny image
through the registry's HTTP API. `down()` removes all of it; safe after a half-done `up()`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import docker
import requests
from testcontainers.core.container import DockerContainer

from rehearsal import images
from rehearsal.shell import GIT_ENV
from rehearsal.sweep import PID_LABEL, RUN_LABEL, sweep_leftovers

REPOSITORIES = ("atmosphere", "troposphere", "atmosphere-ansible")
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"

CHANGELOG = """\
# Changelog
All notable changes to this project will be documented in this file.

The format is based on [Keep a Changelog](http://keepachangelog.com/en/1.0.0/)
and this project adheres to [Semantic Versioning](http://semver.org/spec/v2.0.0.html).{trail}{trail}

<!--
## [<exact release including patch>](<github compare url>) - <release date in YYYY-MM-DD>
### Added
  - <summary of new features>
-->

## [Unreleased](https://github.com/cyverse/{app}/compare/{previous}...HEAD) - YYYY-MM-DD
### Changed
  - Read the {app} settings from the environment
    ([#901](https://github.com/cyverse/{app}/pull/901))

### Fixed
  - A stuck maintenance record no longer hides the login page{trail}
  - <for any bug fixes>

## [{previous}](https://github.com/cyverse/{app}/compare/{before}...{previous}) - 2020-02-14
### Fixed
  - Volume attach waits for the volume to be in use

## Carbonaceous-Comet (v29)
### Added
  - A code-named release without a compare link
"""


def changelog(app: str, previous: str, before: str) -> str:
    return CHANGELOG.format(app=app, previous=previous, before=before, trail=" ")


def _git(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(argv[:3])} failed: {done.stderr[-400:]}")
    return done.stdout.strip()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tiny_image(label: str) -> tuple[bytes, bytes, bytes]:
    """(config, gzipped layer, manifest) of a one-file image: enough to be a tag in a registry."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = f"{label}\n".encode()
        info = tarfile.TarInfo("release")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"org.cyverse.atmo-release": "rehearsal"}},
            "rootfs": {"type": "layers", "diff_ids": [_digest(raw.getvalue())]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": _digest(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": _digest(layer),
                }
            ],
        }
    ).encode()
    return config, layer, manifest


def _empty_unreleased(text: str) -> str:
    """The changelog with nothing under its Unreleased heading (a release with no changes)."""
    lines = text.splitlines(keepends=True)
    start = next(n for n, line in enumerate(lines) if line.startswith("## [Unreleased]"))
    end = next(n for n in range(start + 1, len(lines)) if lines[n].startswith("## "))
    return "".join(lines[: start + 1] + ["\n"] + lines[end:])


@dataclass
class ReleaseRehearsal:
    """Repositories and a registry for release_candidate.feature; always finish with `down()`."""

    previous: str = "v37-5"
    before: str = "v37-4"
    log: Callable[[str], None] = print
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atmo-rc-")))
    registry_port: int = 0
    older: dict[str, tuple[str, str]] = field(default_factory=dict)  # repo -> (previous, before)

    def __post_init__(self) -> None:
        self.labels = {
            RUN_LABEL: self.run_id,
            PID_LABEL: str(os.getpid()),
            images.PROJECT_LABEL: images.PROJECT_LABEL_VALUE,
        }
        self.checkouts = self.root / "checkouts"
        self._container: DockerContainer | None = None
        self._client: docker.DockerClient | None = None

    @property
    def registry(self) -> str:
        return f"http://127.0.0.1:{self.registry_port}"

    def upstream(self, app: str) -> Path:
        return self.root / "upstream" / f"{app}.git"

    def up(self) -> ReleaseRehearsal:
        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
        self._client = docker.from_env()
        sweep_leftovers(self._client, self.log)
        for repo in REPOSITORIES:
            self.make_repository(repo)
        self._start_registry()
        return self

    def make_repository(self, app: str) -> None:
        bare, checkout = self.upstream(app), self.checkouts / app
        bare.parent.mkdir(parents=True, exist_ok=True)
        _git("init", "-q", "--bare", "-b", "master", str(bare))
        _git("clone", "-q", "-o", "upstream", str(bare), str(checkout))
        _git("checkout", "-q", "-B", "master", cwd=checkout)
        previous, before = self.older.get(app, (self.previous, self.before))
        (checkout / "CHANGELOG.md").write_text(changelog(app, previous, before))
        (checkout / "README.md").write_text(f"# {app} (rehearsal)\n")
        _git("add", "-A", cwd=checkout)
        _git("commit", "-q", "-m", "Rehearsal history", cwd=checkout)
        _git("tag", "-a", previous, "-m", f"Release {previous}", cwd=checkout)
        _git("push", "-q", "upstream", "master", f"refs/tags/{previous}", cwd=checkout)

    def _start_registry(self) -> None:
        started = time.monotonic()
        container = DockerContainer(images.REGISTRY_IMAGE)
        container.ports["5000/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
        container.with_name(f"atmo-rc-{self.run_id}-registry").with_kwargs(labels=self.labels)
        self._container = container
        container.start()
        self.registry_port = int(container.get_exposed_port(5000))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.registry}/v2/", timeout=2).ok:
                    self.log(f"registry up in {time.monotonic() - started:.1f} s")
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("the rehearsal registry did not answer /v2/ within 60 s")

    def publish(self, name: str, tag: str) -> str:
        """Push a tiny image as `name:tag` through the registry HTTP API; its manifest digest."""
        config, layer, manifest = tiny_image(f"{name}:{tag}")
        for blob in (config, layer):
            start = requests.post(f"{self.registry}/v2/{name}/blobs/uploads/", timeout=10)
            start.raise_for_status()
            location = urljoin(self.registry, start.headers["Location"])
            joiner = "&" if "?" in location else "?"
            done = requests.put(
                f"{location}{joiner}digest={_digest(blob)}",
                data=blob,
                headers={"Content-Type": "application/octet-stream"},
                timeout=10,
            )
            done.raise_for_status()
        put = requests.put(
            f"{self.registry}/v2/{name}/manifests/{tag}",
            data=manifest,
            headers={"Content-Type": MANIFEST_V2},
            timeout=10,
        )
        put.raise_for_status()
        return put.headers.get("Docker-Content-Digest", _digest(manifest))

    def empty_unreleased(self, app: str) -> None:
        """Fault: commit and push a changelog whose Unreleased section is empty."""
        checkout = self.checkouts / app
        path = checkout / "CHANGELOG.md"
        path.write_text(_empty_unreleased(path.read_text()))
        _git("commit", "-q", "-am", "Empty the Unreleased section", cwd=checkout)
        _git("push", "-q", "upstream", "master", cwd=checkout)

    def down(self) -> None:
        if self._container is not None:
            try:
                self._container.stop()
            except Exception as error:  # noqa: BLE001 - the sweep below removes it anyway
                self.log(f"registry stop: {error}")
        if self._client is not None:
            sweep_leftovers(self._client, self.log, run_id=self.run_id)
        shutil.rmtree(self.root, ignore_errors=True)
