"""Rollback: the old release back, with its data, proven; maintenance stays on throughout.

Migrations run on `up -d` and some are lossy, so an image rollback alone can leave a newer
schema behind: when a database's schema differs from before the deploy, its dump is restored.
"""

from __future__ import annotations

from pathlib import Path

from atmo_release import compose_file, http_checks
from atmo_release.checks import require
from atmo_release.commands import pg
from atmo_release.database import compare_snapshots
from atmo_release.deployment import Deployment
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


def restore_database(deployment: Deployment, database: str, dump_path: Path) -> None:
    """Empty the public schema as its owner, then load the dump in one transaction. The active
    maintenance records are carried over: the dump predates them, and users must stay out."""
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
    if config.where == "host":
        argv = pg.host_restore(
            config.host, config.port, config.user, database, str(dump_path), empty
        )
        deployment.run(
            argv,
            f"restore of {database} from {dump_path}",
            env={"PGPASSWORD": deployment.password},
            timeout=3600,
            changes=True,
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
        deployment.run(
            argv,
            f"restore of {database} from {dump_path}",
            input=deployment.target.read_text(dump_path),
            timeout=3600,
            changes=True,
        )
    for table, rows in active.items():
        for row in rows:
            db.query(
                database,
                f"INSERT INTO {table} SELECT * FROM json_populate_record("
                f"NULL::{table}, {_dollar_quoted(row)}::json)",
            )
        db.query(
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
    deployment.run(deployment.compose.stop(), "docker-compose stop", timeout=900, changes=True)
    path = deployment.env.compose_path
    current = deployment.target.read_text(path)
    deployment.target.write_text(path, compose_file.set_image_tags(current, tags))
    restored = []
    for name, before in deployment.schema_before.items():
        if deployment.schema_fingerprint(name) == before:
            continue
        dump = (deployment.dumps.get(name) or {}).get("path")
        require(
            bool(dump),
            f"the schema of {name} changed and no dump of it is recorded: "
            "restore it by hand before starting the old release",
        )
        restore_database(deployment, name, Path(str(dump)))
        restored.append(f"{name} from {dump}")
    deployment.run(deployment.compose.up(), "docker-compose up -d", timeout=900, changes=True)
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
    problems: list[str] = []
    for name, before in deployment.snapshot_before.items():
        lost, notes = compare_snapshots(before, deployment.db.snapshot(name))
        problems += [f"{name}: {text}" for text in lost + notes]
    require(
        not problems,
        "after the rollback the data is not as before the deploy: " + "; ".join(problems),
    )
    deployment.record.facts["rollback"]["proven"] = True
