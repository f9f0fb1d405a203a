"""The stack's environment file (rehearsal.toml): the runbook deploys to the stack through it,
in the schema of environments/*.toml, as it deploys to production through theirs."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from rehearsal.database import DB_NAMES, DB_USER, EXEMPT_USER
from rehearsal.deploy_repos import SECRETS_BRANCH
from rehearsal.image_manifest import POSTGRES_IMAGE

if TYPE_CHECKING:
    from rehearsal.stack_parts import StackParts

ATMOBETA = Path(__file__).resolve().parent.parent / "environments" / "atmobeta.toml"
# Per app: its virtualenv, its database and its maintenance table.
SERVICES = {
    "atmosphere": ("/opt/env/atmo", "atmo_prod", "maintenance_record"),
    "troposphere": ("/opt/env/troposphere", "troposphere", "api_maintenancerecord"),
}


def _service(stack: StackParts, app: str) -> str:
    venv, database, maintenance_table = SERVICES[app]
    return f'''
[services.{app}]
image = "{stack.image(app)}"
venv = "{venv}"
workdir = "/opt/dev/{app}"
url = "http://127.0.0.1:{stack.ports[app]}"
ini = "inis/{app}.ini"
database = "{database}"
maintenance_table = "{maintenance_table}"
'''


def smoke_checks_toml() -> str:
    """atmobeta's [[smoke.checks]]: the rehearsal runs the checks release day runs."""
    checks = tomllib.loads(ATMOBETA.read_text())["smoke"]["checks"]
    return "".join(
        "\n[[smoke.checks]]\n"
        + "".join(f"{key} = {json.dumps(value)}\n" for key, value in check.items())
        for check in checks
    )


def environment_toml(stack: StackParts) -> str:
    return f'''# rehearsal {stack.run_id}; schema of environments/*.toml
name = "rehearsal"
org = "cyverse"
production = false
maintenance_message = "Atmosphere is down for a Scheduled Maintenance, Today between 9am - 4pm MST."

[deploy]
dir = "{stack.deploy_dir}"
compose_file = "docker-compose.prod.yml"
compose_command = {json.dumps(list(stack.compose_command))}
project = "{stack.project}"
backup_dir = "{stack.backup_dir}"

[secrets]
dir = "{stack.secrets_dir}"
branch = "{SECRETS_BRANCH}"
required_keys = ["inis/atmosphere.ini:DATABASE_PASSWORD", "inis/atmosphere.ini:SECRET_KEY",
                 "inis/troposphere.ini:DATABASE_PASSWORD", "inis/troposphere.ini:SECRET_KEY",
                 "env:server_name"]

[database]
where = "host"
host = "127.0.0.1"
port = {stack.ports["postgres"]}
user = "{DB_USER}"
names = {json.dumps(list(DB_NAMES))}
password_from = "inis/atmosphere.ini:DATABASE_PASSWORD"
verify_image = "{POSTGRES_IMAGE}"
{"".join(_service(stack, app) for app in SERVICES)}
[readiness]
interval_s = 0.2
timeout_s = 120

[smoke]
api_token_env = "{stack.token_env}"
browser = true
username = "{EXEMPT_USER}"
password_env = "{stack.token_env}"  # the stand-ins' password of a user is their API token
{smoke_checks_toml()}'''
