"""The deploy host's git repositories, as the runbook finds them on release day.

Under the stack's root:
    upstream.git/                bare "upstream" of the deploy checkout, one commit ahead
    atmosphere-docker/           the deploy checkout: docker-compose.prod.yml + a local edit
    atmosphere-docker-secrets/   branches prod, atmobeta, jetstream-prod, each with its inis
"""

from __future__ import annotations

import secrets as random_secrets
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rehearsal.database import DB_USER, EXEMPT_USER
from rehearsal.image_manifest import APPS
from rehearsal.shell import free_port, run

if TYPE_CHECKING:
    from rehearsal.stack_parts import StackParts

OLD_RELEASE, NEW_RELEASE = "v37-2", "v37-3"
SECRETS_BRANCH = "atmobeta"


class SecretsLayout(Protocol):
    """What the secrets repository is made from (also alone, for the atmobeta preparation)."""

    secrets_dir: Path
    ports: dict[str, int]
    password: str
    secret_keys: dict[str, str]
    database_host: str  # as the apps' ini names it


class Layout(SecretsLayout, Protocol):
    """What the repositories are made for: the rehearsal stack, or the deploy host (which lays
    them out on the runner, then copies them in)."""

    root: Path
    upstream: Path
    deploy_dir: Path
    compose_path: Path
    backup_dir: Path

    def compose_text(self, release: str) -> str: ...


def compose_text(stack: StackParts, release: str) -> str:
    """docker-compose.prod.yml running both apps at `release` from the stack's registry. Under
    v2 it is a file that v1 refuses (a top-level `name:`, no `version:`), as one written for v2."""
    labels = "".join(f"      {key}: '{value}'\n" for key, value in stack.labels.items())
    v2 = stack.compose_flavour == "v2"
    head = f"name: '{stack.project}'\n" if v2 else "version: '3'\n"
    network = (
        f"    name: '{stack.network}'\n    external: true\n"
        if v2
        else f"    external:\n      name: '{stack.network}'\n"
    )
    return (
        f"---\n{head}\nservices:\n\n"
        "  atmosphere:\n"
        f"    image: '{stack.image('atmosphere')}:release-{release}'\n"
        "    volumes:\n"
        "      - '../atmosphere-docker-secrets:/opt/dev/atmosphere-docker-secrets'\n"
        "      - './logs/atmosphere:/opt/dev/atmosphere/logs'\n"
        "    ports:\n"
        f"      - '127.0.0.1:{stack.ports['atmosphere']}:8000'\n"
        f"    labels:\n{labels}"
        "\n\n"
        "  troposphere:\n"
        f"    image: '{stack.image('troposphere')}:release-{release}'\n"
        "    volumes:\n"
        "      - '../atmosphere-docker-secrets:/opt/dev/atmosphere-docker-secrets'\n"
        "      - './logs/troposphere:/opt/dev/troposphere/logs'\n"
        "    depends_on:\n"
        "      - 'atmosphere'\n"
        "    ports:\n"
        f"      - '127.0.0.1:{stack.ports['troposphere']}:8001'\n"
        f"    labels:\n{labels}"
        "\n"
        f"networks:\n  default:\n{network}"
    )


def make_repositories(stack: Layout) -> None:
    """The secrets, then upstream at OLD_RELEASE and its clone, then one more upstream commit
    (to pull on release day) and a local edit of the compose file (not to lose). The apps'
    ports are free ones unless the layout already chose them."""
    for app in APPS:
        stack.ports.setdefault(app, free_port())
    make_secrets(stack)
    work = stack.root / "upstream-work"
    run(["git", "init", "-q", "-b", "master", str(work)])
    (work / "docker-compose.prod.yml").write_text(stack.compose_text(OLD_RELEASE))
    (work / "README.md").write_text("# atmosphere-docker\n")
    run(["git", "-C", str(work), "add", "-A"])
    run(["git", "-C", str(work), "commit", "-q", "-m", f"Deploy {OLD_RELEASE}"])
    run(["git", "clone", "-q", "--bare", str(work), str(stack.upstream)])
    run(["git", "clone", "-q", str(stack.upstream), str(stack.deploy_dir)])
    (work / "README.md").write_text("# atmosphere-docker\n\nUpgrade notes for v37-3.\n")
    run(["git", "-C", str(work), "commit", "-q", "-am", "Notes for v37-3"])
    run(["git", "-C", str(work), "push", "-q", str(stack.upstream), "master"])
    with (stack.compose_path).open("a") as compose:
        compose.write("# driver's note: local edit that git reset --hard would lose\n")
    stack.backup_dir.mkdir()


def ini(stack: SecretsLayout, app: str, branch: str) -> str:
    """An app's settings on a secrets branch; only atmobeta's atmosphere has an ARGO_TOKEN."""
    extra = (
        f"ARGO_TOKEN = {stack.secret_keys['argo']}\n"
        if (app == "atmosphere" and branch == SECRETS_BRANCH)
        else ""
    )
    return (
        "[local.py]\n"
        f"DATABASE_NAME = {'atmo_prod' if app == 'atmosphere' else 'troposphere'}\n"
        f"DATABASE_USER = {DB_USER}\nDATABASE_PASSWORD = {stack.password}\n"
        f"DATABASE_HOST = {stack.database_host}\nDATABASE_PORT = 5432\n"
        f"SERVER_URL = http://127.0.0.1:{stack.ports[app]}\n"
        f"SECRET_KEY = {stack.secret_keys[f'{app}-{branch}']}\n"
        f"MAINTENANCE_EXEMPT_USERNAMES = {EXEMPT_USER}\n{extra}"
    )


def make_secrets(stack: SecretsLayout) -> None:
    repo = stack.secrets_dir
    run(["git", "init", "-q", "-b", "prod", str(repo)])
    (repo / "inis").mkdir()
    stack.secret_keys["argo"] = random_secrets.token_hex(16)
    for branch in ("prod", "atmobeta", "jetstream-prod"):
        if branch != "prod":
            run(["git", "-C", str(repo), "checkout", "-q", "-b", branch, "prod"])
        for app in APPS:
            stack.secret_keys[f"{app}-{branch}"] = random_secrets.token_urlsafe(24)
            (repo / "inis" / f"{app}.ini").write_text(ini(stack, app, branch))
        (repo / "env").write_text(f"env_type={branch}\nserver_name=rehearsal-{branch}\n")
        run(["git", "-C", str(repo), "add", "-A"])
        run(["git", "-C", str(repo), "commit", "-q", "-m", f"{branch} settings"])
    run(["git", "-C", str(repo), "checkout", "-q", "prod"])
