"""Rollback: the old release back, with its data, proven; maintenance stays on throughout.

Migrations run on `up -d` and some are lossy, so an image rollback alone can leave a newer
schema behind, and a bad release can lose rows: when a database's schema or rows differ from
when the apps stopped, it is restored from the proven dump plus the window dump of the tables
written after it (in one transaction), so no write made before the stop is lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atmo_release import compose_file, row_checks, window_dumps
from atmo_release.checks import require
from atmo_release.commands import pg, psql
from atmo_release.deployment import Deployment
from atmo_release.fingerprint import quote
from atmo_release.release import Release


def needed(deployment: Deployment) -> bool:
    """Only a run that touched the running release has something to roll back."""
    state = deployment.state
    return not deployment.planning and (state.compose_edited or state.new_release_up)


def previous_tags(deployment: Deployment, to: Release | None = None) -> dict[str, str]:
    if to is not None:
        return {app: to.image_tag for app in deployment.apps}
    return {
        app: compose_file.split_reference(image)[1] or ""
        for app, image in deployment.state.previous_images.items()
    }


def _dollar_quoted(text: str) -> str:
    tag = "atmo"
    while f"${tag}$" in text:
        tag += "x"
    return f"${tag}${text}${tag}$"


def restore_database(
    deployment: Deployment, database: str, dump_path: Path, window: dict[str, Any] | None = None
) -> None:
    """Empty the public schema as its owner, load the dump, then replace the rows of the
    tables in the window dump with its rows and add the new rows of the grown ones, all in one
    transaction. The active maintenance records are carried over: the dumps predate them, and
    users must stay out."""
    config, db = deployment.env.database, deployment.db
    tables = [
        s.maintenance_table for s in deployment.env.services.values() if s.database == database
    ]
    active = {
        table: [
            row[0]
            for row in db.query(
                database, f"SELECT row_to_json(t)::text FROM {table} t WHERE end_date IS NULL"
            )
        ]
        for table in tables
    }
    empty = ["DROP SCHEMA public CASCADE", f'CREATE SCHEMA public AUTHORIZATION "{config.user}"']
    window = window or {}
    tables = list(window.get("tables") or [])
    replace = window_dumps.replace_rows_sql(tables) if tables else []
    grown: dict[str, dict[str, Any]] = window.get("grown") or {}
    if config.where == "host":
        argv = pg.host_restore(
            config.host, config.port, config.user, database, str(dump_path), empty
        )
        argv += window_dumps.load_args(window, str)
        deployment.run(
            argv,
            f"restore of {database} from {dump_path}",
            env=psql.session_env(deployment.password),
            timeout=3600,
        )
    else:
        argv = deployment.compose.exec_(
            config.service,
            [
                *pg.restore_plain(config.user, database, "/dev/stdin")[:-2],
                *(item for sql in empty for item in ("-c", sql)),
                "-f",
                "/dev/stdin",
            ],
            env=psql.session_env(deployment.password),
        )
        text = deployment.target.read_text(dump_path)
        if tables:
            text += "".join(f"{sql};\n" for sql in replace)
            text += deployment.target.read_text(Path(window["path"]))
        for table, rows in grown.items():
            text += f"COPY public.{quote(table)} FROM stdin;\n"
            text += deployment.target.read_text(Path(rows["path"])) + "\\.\n"
            add = window_dumps.add_rows_sql(table, rows["path"], rows["sequence"])
            text += "".join(f"{sql};\n" for sql in add[1:])
        deployment.run(
            argv,
            f"restore of {database} from {dump_path}",
            input=text,
            timeout=3600,
        )
    for table, rows in active.items():
        for row in rows:
            db.execute(
                database,
                f"INSERT INTO {table} SELECT * FROM json_populate_record("
                f"NULL::{table}, {_dollar_quoted(row)}::json)",
            )
        db.execute(
            database,
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))",
        )


def roll_back(deployment: Deployment, reason: str, to: Release | None = None) -> None:
    """Stop the new containers, set the old tags, restore changed databases, start the old."""
    tags = previous_tags(deployment, to)
    require(
        all(tags.values()),
        "the previous release's image tags are unknown: roll back by hand "
        "with python -m atmo_release.compose_file and docker-compose up -d",
    )
    state, databases = deployment.state, deployment.databases
    deployment.containers.stop()
    deployment.compose_edit.set_tags(tags)
    restored = []
    for name, before in state.schema_before.items():
        stopped = row_checks.checked(state.snapshot_before.get(name) or {})
        if databases.schema(name) == before and not (
            stopped and databases.changes_from(stopped, name)
        ):
            continue
        info = state.dumps.get(name) or {}
        require(
            bool(info.get("path")),
            f"the schema or rows of {name} changed and no dump of it is recorded: "
            "restore it by hand before starting the old release",
        )
        window = info.get("window")
        restore_database(deployment, name, Path(str(info["path"])), window)
        restored.append(
            f"{name} from {info['path']}"
            + "".join(f" and {path}" for path in window_dumps.files(window))
        )
    deployment.containers.up()
    state.new_release_up = False
    state.rollback = {
        "why": reason,
        "images": tags,
        "restored": restored or "no database (schema unchanged)",
    }
    deployment.record.facts["rollback"] = state.rollback
    deployment.note(
        f"rolled back to {tags} because {reason}; restored: {', '.join(restored) or 'no database'}"
    )


def check_old_release_answers(deployment: Deployment) -> None:
    """The rolled-back images run, answer, and serve the versions from before the run."""
    tags = deployment.state.rollback["images"]
    deployment.readiness.wait("rollback_readiness")
    deployment.containers.check_running(
        {app: f"{deployment.service(app).image}:{tags[app]}" for app in deployment.apps}
    )
    deployment.readiness.check_versions_as_before()


def check_rows_as_before(deployment: Deployment) -> None:
    """Every table exactly as the apps left it when they stopped: no write lost, none added."""
    deployment.databases.check_rows_as_stopped()
    deployment.state.rollback["proven"] = True
