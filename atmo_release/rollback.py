"""Rollback: the old release back, with its data, proven; maintenance stays on throughout.

Migrations run on `up -d` and some are lossy, so an image rollback alone can leave a newer
schema behind, and a bad release can lose rows: when a database's schema or rows differ from
when the apps stopped, it is restored from the proven dump plus the window dump of the tables
written after it (in one transaction), so no write made before the stop is lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from atmo_release import compose_file, http_checks, row_checks, window_dumps
from atmo_release.checks import require
from atmo_release.commands import pg
from atmo_release.deployment import Deployment
from atmo_release.fingerprint import quote
from atmo_release.release import Release


def needed(deployment: Deployment) -> bool:
    """Only a run that touched the running release has something to roll back."""
    return not deployment.planning and (deployment.compose_edited or deployment.new_release_up)


def previous_tags(deployment: Deployment, to: Release | None = None) -> dict[str, str]:
    if to is not None:
        return {app: to.image_tag for app in deployment.apps}
    return {
        app: compose_file.split_reference(image)[1] or ""
        for app, image in deployment.previous_images.items()
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
        if tables:
            argv += [*(item for sql in replace for item in ("-c", sql)), "-f", window["path"]]
        for table, rows in grown.items():
            add = window_dumps.add_rows_sql(table, rows["path"], rows["sequence"])
            argv += [item for sql in add for item in ("-c", sql)]
        deployment.run(
            argv,
            f"restore of {database} from {dump_path}",
            env={"PGPASSWORD": deployment.password},
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
            env={"PGPASSWORD": deployment.password},
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
    deployment.run(deployment.compose.stop(), "docker-compose stop", timeout=900)
    path = deployment.env.compose_path
    current = deployment.target.read_text(path)
    deployment.target.write_text(path, compose_file.set_image_tags(current, tags))
    restored = []
    for name, before in deployment.schema_before.items():
        stopped = row_checks.checked(deployment.snapshot_before.get(name) or {})
        rows_now = row_checks.checked(deployment.db.fingerprints(name))
        if deployment.schema_fingerprint(name) == before and not (
            stopped and row_checks.changed_tables(stopped, rows_now)
        ):
            continue
        info = deployment.dumps.get(name) or {}
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
    deployment.run(deployment.compose.up(), "docker-compose up -d", timeout=900)
    deployment.new_release_up = False
    deployment.record.facts["rollback"] = {
        "why": reason,
        "images": tags,
        "restored": restored or "no database (schema unchanged)",
    }
    deployment.note(
        f"rolled back to {tags} because {reason}; restored: {', '.join(restored) or 'no database'}"
    )


def check_old_release_answers(deployment: Deployment) -> None:
    tags = deployment.record.facts["rollback"]["images"]
    http_checks.wait_until(
        {
            "atmosphere": lambda: http_checks.atmosphere_ready(
                deployment.service("atmosphere").url
            ),
            "troposphere": lambda: http_checks.troposphere_ready(
                deployment.service("troposphere").url
            ),
        },
        deployment.env.readiness_interval_s,
        deployment.env.readiness_timeout_s,
    )
    containers = deployment.containers()
    for app in deployment.apps:
        expected = f"{deployment.service(app).image}:{tags[app]}"
        require(
            containers[app].image == expected and containers[app].status == "running",
            f"{app} is {containers[app].status} on {containers[app].image}, expected running "
            f"{expected}",
        )
        before = deployment.versions_before.get(app, {}).get("git_sha")
        served = deployment.version(app)["git_sha"]
        require(
            before is None or served == before,
            f"{app} serves {served[:12]}, not {before[:12] if before else '?'} from before",
        )


def check_rows_as_before(deployment: Deployment) -> None:
    """Every table exactly as the apps left it when they stopped: no write lost, none added."""
    problems: list[str] = []
    for name, before in deployment.snapshot_before.items():
        stopped = row_checks.checked(before)
        now = row_checks.checked(deployment.db.fingerprints(name))
        for table in row_checks.changed_tables(stopped, now):
            how = "; ".join(row_checks.differences(stopped.get(table), now.get(table)))
            problems.append(f"{name}: table {table}: {how}")
    require(
        not problems,
        "after the rollback the data is not as before the deploy: " + "; ".join(problems),
    )
    deployment.record.facts["rollback"]["proven"] = True
