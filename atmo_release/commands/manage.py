"""`manage.py maintenance` inside an app container, as an argv (no `bash -c` string)."""

from __future__ import annotations

from atmo_release.commands import Read


def maintenance(venv: str, workdir: str, verb: str, *options: str) -> list[str]:
    return [f"{venv}/bin/python", f"{workdir}/manage.py", "maintenance", verb, *options]


def maintenance_start(venv: str, workdir: str, title: str, message: str) -> list[str]:
    return maintenance(venv, workdir, "start", "--title", title, "--message", message)


def maintenance_stop(venv: str, workdir: str) -> list[str]:
    return maintenance(venv, workdir, "stop")


def migrate_check(venv: str, workdir: str) -> Read:
    return Read([f"{venv}/bin/python", f"{workdir}/manage.py", "migrate", "--check"])


def showmigrations_plan(venv: str, workdir: str) -> Read:
    return Read([f"{venv}/bin/python", f"{workdir}/manage.py", "showmigrations", "--plan"])


def git_head(workdir: str) -> Read:
    return Read(["git", "-C", workdir, "rev-parse", "HEAD"])
