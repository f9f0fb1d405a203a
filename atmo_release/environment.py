"""Environment files (`environments/<name>.toml`): loaded and validated once, before any action."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atmo_release.smoke_settings import SmokeError, SmokeSettings, parse_smoke

APPS = ("atmosphere", "troposphere")


class EnvironmentFileError(ValueError):
    """An environment that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class SshSettings:
    """How the deploy host is reached: part of an environment, whatever transport uses it."""

    destination: str  # user@host
    port: int = 22
    identity_file: Path | None = None
    known_hosts: Path | None = None
    host_key_alias: str = ""


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    venv: str
    workdir: str
    url: str
    ini: str
    database: str
    maintenance_table: str


@dataclass(frozen=True)
class Database:
    where: str
    user: str
    names: tuple[str, ...]
    password_from: str
    host: str = "127.0.0.1"
    port: int = 5432
    service: str = ""
    verify_image: str = "postgres:15"
    # How long the run waits, once the apps stopped, for the databases' other sessions to end.
    other_sessions_wait_s: float = 60.0


@dataclass(frozen=True)
class Environment:
    name: str
    path: Path
    org: str
    production: bool
    maintenance_message: str
    deploy_dir: Path
    compose_file: str
    compose_command: tuple[str, ...]  # empty: unset, the run detects it on the deploy host
    project: str
    backup_dir: Path
    secrets_dir: Path
    secrets_branch: str
    required_keys: tuple[str, ...]
    database: Database
    services: dict[str, Service]
    readiness_interval_s: float
    readiness_timeout_s: float
    smoke: SmokeSettings
    extra: dict[str, Any] = field(default_factory=dict)
    lock_stale_after_s: float = 12 * 3600
    free_space_margin_mb: float = 512
    ssh: SshSettings | None = None  # None: the deploy host is the machine that runs pytest

    @property
    def compose_path(self) -> Path:
        return self.deploy_dir / self.compose_file

    @property
    def api_token_env(self) -> str:
        return self.smoke.api_token_env


_SCHEMA: dict[str, Any] = {
    "name": str,
    "org": str,
    "production": bool,
    "maintenance_message": str,
    "deploy": {
        "dir": str,
        "compose_file": str,
        "compose_command?": list,
        "project": str,
        "backup_dir": str,
        "lock_stale_after_s?": (int, float),
        "free_space_margin_mb?": (int, float),
    },
    "secrets": {"dir": str, "branch": str, "required_keys": list},
    "database": {
        "where": str,
        "user": str,
        "names": list,
        "password_from": str,
        "verify_image?": str,
        "host?": str,
        "port?": int,
        "service?": str,
        "other_sessions_wait_s?": (int, float),
    },
    "services": "services",
    "readiness": {"interval_s": (int, float), "timeout_s": (int, float)},
    "smoke": {
        "api_token_env": str,
        "browser?": bool,
        "username?": str,
        "password_env?": str,
        "checks?": "smoke_checks",
    },
    "target?": {
        "ssh": str,
        "port?": int,
        "identity_file?": str,
        "known_hosts?": str,
        "host_key_alias?": str,
    },
    # Optional tables of the weeks before release day, kept as they are in Environment.extra.
    "release_candidate?": {
        "checkouts_dir": str,
        "remote": str,
        "branch": str,
        "merge": str,
        "github_owner": str,
        "github_api?": str,
        "github_token_env?": str,
        "registry": str,
        "images_timeout_s": (int, float),
        "images_interval_s?": (int, float),
        "repositories?": list,
        "slated_label?": str,
    },
    # Where the release record lives: the GitHub release every run's reports are attached to.
    "release_record?": {
        "repository": str,
        "draft?": bool,
        "api?": str,
        "uploads?": str,
        "token_env?": str,
    },
    "prepare?": {"holidays?": list, "notice_working_days?": int},
    "production_variables?": {"branch": str, "environment": str, "atmobeta_only?": list},
    "notice?": {"smtp_host": str, "smtp_port": int, "from": str, "to": str, "window?": str},
    "notify?": {"webhook_url_env": str, "timeout_s?": (int, float)},
    "statusio?": {
        "api": str,
        "statuspage_id": str,
        "api_id_env": str,
        "api_key_env": str,
        "infrastructure?": list,
        "window_start_utc": str,
        "window_end_utc": str,
    },
}
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# What Compose v2 accepts for `-p` (v1 lower-cases and strips anything else, so its containers'
# project label would no longer be the name the file gives).
_PROJECT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
EXTRA_TABLES = (
    "release_candidate",
    "release_record",
    "prepare",
    "notice",
    "statusio",
    "production_variables",
    "notify",
)
# A dead webhook may cost one timeout per run: a short one, so the deployment never waits long.
NOTIFY_TIMEOUT_S = (0.1, 10.0)
# Users are locked out while the run waits for other sessions to end: at most an hour.
OTHER_SESSIONS_WAIT_S = (0.0, 3600.0)
_SERVICE_SCHEMA: dict[str, Any] = {
    "image": str,
    "venv": str,
    "workdir": str,
    "url": str,
    "ini": str,
    "database": str,
    "maintenance_table": str,
}


def _check(path: Path, data: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> None:
    known = {key.rstrip("?") for key in schema}
    for key in data:
        if key not in known:
            raise EnvironmentFileError(
                f"{path}: unknown key {prefix}{key!s}; known keys here: {', '.join(sorted(known))}"
            )
    for key, kind in schema.items():
        optional = key.endswith("?")
        key = key.rstrip("?")
        where = f"{prefix}{key}"
        if key not in data:
            if optional:
                continue
            raise EnvironmentFileError(f"{path}: missing value for {where}")
        value = data[key]
        if kind == "services":
            _check_services(path, value, where)
        elif kind == "smoke_checks":
            continue  # read by atmo_release.smoke_settings, which knows the services by then
        elif isinstance(kind, dict):
            if not isinstance(value, dict):
                raise EnvironmentFileError(f"{path}: {where} must be a table [{where}]")
            _check(path, value, kind, f"{where}.")
        elif not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise EnvironmentFileError(f"{path}: {where} has the wrong type ({value!r})")
        elif value in ("", []):
            raise EnvironmentFileError(f"{path}: missing value for {where} (it is empty)")
        elif kind is list and not all(isinstance(item, str) and item for item in value):
            raise EnvironmentFileError(f"{path}: {where} must list non-empty strings ({value!r})")


def _check_services(path: Path, services: Any, where: str) -> None:
    if not isinstance(services, dict):
        raise EnvironmentFileError(f"{path}: {where} must be a table of services")
    for app in APPS:
        if app not in services:
            raise EnvironmentFileError(f"{path}: missing value for {where}.{app}")
    for name, service in services.items():
        if not isinstance(service, dict):
            raise EnvironmentFileError(f"{path}: {where}.{name} must be a table")
        _check(path, service, _SERVICE_SCHEMA, f"{where}.{name}.")


def parse_environment(path: Path) -> Environment:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise EnvironmentFileError(f"{path}: not valid TOML ({error})") from error
    _check(path, data, _SCHEMA)
    if data["database"]["where"] not in ("host", "service"):
        raise EnvironmentFileError(f'{path}: database.where must be "host" or "service"')
    if data["database"]["where"] == "service" and not data["database"].get("service"):
        raise EnvironmentFileError(f"{path}: missing value for database.service")
    timeout = data.get("notify", {}).get("timeout_s", NOTIFY_TIMEOUT_S[0])
    if not NOTIFY_TIMEOUT_S[0] <= timeout <= NOTIFY_TIMEOUT_S[1]:
        raise EnvironmentFileError(
            f"{path}: notify.timeout_s is {timeout}; give between {NOTIFY_TIMEOUT_S[0]} and "
            f"{NOTIFY_TIMEOUT_S[1]} seconds"
        )
    wait = data["database"].get("other_sessions_wait_s", OTHER_SESSIONS_WAIT_S[0])
    if not OTHER_SESSIONS_WAIT_S[0] <= wait <= OTHER_SESSIONS_WAIT_S[1]:
        raise EnvironmentFileError(
            f"{path}: database.other_sessions_wait_s is {wait}; give between "
            f"{OTHER_SESSIONS_WAIT_S[0]:g} and {OTHER_SESSIONS_WAIT_S[1]:g} seconds"
        )
    record = data.get("release_record") or {}
    if record and not _REPOSITORY.match(record["repository"]):
        raise EnvironmentFileError(
            f"{path}: release_record.repository must be OWNER/REPOSITORY, e.g. cyverse/atmosphere"
        )
    deploy, secrets, db = data["deploy"], data["secrets"], data["database"]
    try:
        smoke = parse_smoke(path, data["smoke"], tuple(data["services"]))
    except SmokeError as error:
        raise EnvironmentFileError(str(error)) from error
    if not _PROJECT.match(deploy["project"]):
        raise EnvironmentFileError(
            f"{path}: deploy.project {deploy['project']!r} must be lower-case letters, digits, "
            "'-' and '_', starting with a letter or digit (as Compose names the project)"
        )
    return Environment(
        name=data["name"],
        path=path,
        org=data["org"],
        production=data["production"],
        maintenance_message=data["maintenance_message"],
        deploy_dir=Path(deploy["dir"]),
        compose_file=deploy["compose_file"],
        compose_command=tuple(deploy.get("compose_command", ())),
        project=deploy["project"],
        backup_dir=Path(deploy["backup_dir"]),
        lock_stale_after_s=float(deploy.get("lock_stale_after_s", 12 * 3600)),
        free_space_margin_mb=float(deploy.get("free_space_margin_mb", 512)),
        secrets_dir=Path(secrets["dir"]),
        secrets_branch=secrets["branch"],
        required_keys=tuple(secrets["required_keys"]),
        database=Database(
            where=db["where"],
            user=db["user"],
            names=tuple(db["names"]),
            password_from=db["password_from"],
            host=db.get("host", "127.0.0.1"),
            port=db.get("port", 5432),
            service=db.get("service", ""),
            verify_image=db.get("verify_image", "postgres:15"),
            other_sessions_wait_s=float(db.get("other_sessions_wait_s", 60)),
        ),
        services={name: Service(name=name, **values) for name, values in data["services"].items()},
        readiness_interval_s=float(data["readiness"]["interval_s"]),
        readiness_timeout_s=float(data["readiness"]["timeout_s"]),
        smoke=smoke,
        extra={key: data[key] for key in EXTRA_TABLES if key in data},
        ssh=_ssh_settings(path, data.get("target")),
    )


def _ssh_settings(path: Path, table: dict[str, Any] | None) -> SshSettings | None:
    if table is None:
        return None
    known_hosts = table.get("known_hosts")
    identity = table.get("identity_file")
    return SshSettings(
        destination=table["ssh"],
        port=table.get("port", 22),
        identity_file=(path.parent / identity) if identity else None,
        known_hosts=(path.parent / known_hosts) if known_hosts else None,
        host_key_alias=table.get("host_key_alias", ""),
    )


def extra_table(environment: Environment, name: str, keys: str) -> dict[str, Any]:
    """The optional table `[name]` a feature needs, or an error naming it and its `keys`."""
    table: dict[str, Any] = environment.extra.get(name) or {}
    if not table:
        raise EnvironmentFileError(f"{environment.path}: missing table [{name}] ({keys})")
    return table


def known_environments(directory: Path) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.toml"))


def load_environment(name: str, directory: Path) -> Environment:
    """The environment called `name`, or an error listing the known ones."""
    path = directory / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(["rehearsal", *known_environments(directory)])
        raise EnvironmentFileError(
            f"unknown environment {name!r}: known environments are {known} "
            f"(add {path} to define it)"
        )
    return parse_environment(path)
