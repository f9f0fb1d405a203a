"""The deliberately broken releases break exactly as rehearsal/README.md ("Broken releases") says.

Real containers, labelled with this module's run id and pid (see tests/test_standin_apps.py, whose
helpers this reuses), removed at the end, also after a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from rehearsal.images import BROKEN_RELEASES
from tests.rehearsal.test_standin_apps import SECRETS_MOUNT, Rehearsal, image, manage, rehearsal_of

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    yield from rehearsal_of(("v37-2", "v37-3", *BROKEN_RELEASES), tmp_path_factory)


def run_to_exit(rehearsal: Rehearsal, release: str, secrets: Path) -> tuple[int, str, str]:
    """Starts atmosphere at `release`; returns its exit code, stdout and stderr once it stops."""
    container = rehearsal.client.containers.run(
        image("atmosphere", release),
        detach=True,
        labels=rehearsal.labels,
        network=rehearsal.network.name,
        volumes={str(secrets): {"bind": SECRETS_MOUNT, "mode": "ro"}},
    )
    code = rehearsal.wait_exit(container)
    return code, container.logs(stderr=False).decode(), container.logs(stdout=False).decode()


def tables(rehearsal: Rehearsal, db: str) -> list[str]:
    sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    return rehearsal.psql(db, sql).splitlines()


def test_v37_91_exits_3_at_start_after_the_secrets_check(rehearsal: Rehearsal) -> None:
    rehearsal.create_database("broken91")
    code, _, stderr = run_to_exit(
        rehearsal, "v37-91", rehearsal.secrets("b91", atmosphere_db="broken91")
    )
    assert code == 3
    assert stderr.count("\n") == 1 and "exiting at start with 3" in stderr
    assert tables(rehearsal, "broken91") == []  # it never migrated
    no_git = rehearsal.secrets("b91-nogit", git=False)
    code, _, stderr = run_to_exit(rehearsal, "v37-91", no_git)
    assert code == 1 and "refusing to start" in stderr


def test_v37_92_answers_500_on_version_only(rehearsal: Rehearsal) -> None:
    rehearsal.create_database("broken92")
    app = rehearsal.run_app("atmosphere", "v37-92", rehearsal.secrets("b92", "broken92"))
    version = requests.get(f"{app.url}/api/v2/version", timeout=5)
    assert version.status_code == 500 and "deliberately broken" in version.json()["detail"]
    assert requests.get(f"{app.url}/api/v2/instances", timeout=5).json() == {"results": []}
    assert requests.get(f"{app.url}/api/status/celery", timeout=5).status_code == 200
    assert manage(app, "migrate", "--check")[0] == 0
    assert manage(app, "maintenance", "start", "--message", "m")[0] == 0
    assert requests.get(f"{app.url}/api/v2/version", timeout=5).status_code == 503
    assert manage(app, "maintenance", "stop")[0] == 0
    branch = app.exec_run(["git", "rev-parse", "--abbrev-ref", "HEAD"]).output.decode().strip()
    assert branch == "v37-92"


def test_v37_93_fails_half_way_and_leaves_the_damage(rehearsal: Rehearsal) -> None:
    rehearsal.create_database("broken93")
    secrets = rehearsal.secrets("b93", atmosphere_db="broken93")
    old = rehearsal.run_app("atmosphere", "v37-2", secrets)
    rehearsal.psql(
        "broken93",
        "INSERT INTO core_atmosphereuser (id, username, email, is_staff) "
        "VALUES (1, 'alice', '', false);"
        "INSERT INTO core_instance (name, owner_id, status, created_at) VALUES "
        "('web', 1, 'active', now()), ('db', 1, 'suspended', now()), ('old', 1, 'deleted', now())",
    )
    old.remove(force=True)

    code, stdout, stderr = run_to_exit(rehearsal, "v37-93", secrets)
    assert code != 0 and "core.0003: failed half-way" in stdout + stderr
    columns = rehearsal.psql(
        "broken93",
        "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns "
        "WHERE table_name = 'core_instance'",
    )
    assert columns == "created_at,display_name,id,is_running,owner_id"
    assert rehearsal.psql("broken93", "SELECT display_name FROM core_instance") == "web"
    applied = "SELECT string_agg(name, ',' ORDER BY id) FROM django_migrations WHERE app = 'core'"
    assert rehearsal.psql("broken93", applied) == "0001_initial,0002_instance_is_running_volume"

    # Every later start fails again, and the previous releases cannot serve this database.
    code, stdout, stderr = run_to_exit(rehearsal, "v37-93", secrets)
    assert code != 0 and 'column "name" does not exist' in stdout + stderr
    for release in ("v37-3", "v37-2"):
        app = rehearsal.run_app("atmosphere", release, secrets)
        assert requests.get(f"{app.url}/api/v2/instances", timeout=5).status_code == 500
        app.remove(force=True)


def test_v37_98_settings_name_the_production_database_whatever_the_ini_says(
    rehearsal: Rehearsal,
) -> None:
    secrets = rehearsal.secrets("b98", atmosphere_db="copy_of_atmo_prod")
    read = "from atmosphere.settings.local import DATABASES as d; d = d['default']; "
    chain = (
        f"ln -s {SECRETS_MOUNT}/inis/atmosphere.ini variables.ini && "
        "/opt/env/atmo/bin/python configure >/dev/null && "
        f"/opt/env/atmo/bin/python -c \"{read}print(d['HOST'], d['PORT'], d['NAME'])\""
    )
    output = rehearsal.client.containers.run(
        image("atmosphere", "v37-98"),
        entrypoint=["/bin/bash", "-c", chain],
        labels=rehearsal.labels,
        volumes={str(secrets): {"bind": SECRETS_MOUNT, "mode": "ro"}},
        remove=True,
    )
    assert (
        f"DATABASE_HOST = {rehearsal.postgres.name}"
        in (secrets / "inis/atmosphere.ini").read_text()
    )
    assert output.decode().split() == ["postgres", "5432", "copy_of_atmo_prod"]


@pytest.mark.parametrize("release", BROKEN_RELEASES)
def test_troposphere_broken_releases_are_v37_3(rehearsal: Rehearsal, release: str) -> None:
    rehearsal.create_database(f"tropo{release[-2:]}")
    secrets = rehearsal.secrets(f"t{release}", troposphere_db=f"tropo{release[-2:]}")
    app = rehearsal.run_app("troposphere", release, secrets)
    version = requests.get(f"{app.url}/tropo-api/version", timeout=5).json()
    assert version["git_branch"] == release
    columns = rehearsal.psql(
        f"tropo{release[-2:]}",
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'api_userpreferences' AND column_name LIKE '%beta%'",
    )
    assert columns == "hide_beta_interface"
    app.remove(force=True)
