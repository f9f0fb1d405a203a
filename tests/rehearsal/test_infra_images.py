"""The infrastructure stand-ins keep the contract in rehearsal/README.md on a real engine.

Every container made here carries the rehearsal label with this module's run id and is removed
at teardown, after a failure too, so the next start can sweep anything a killed run left behind.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import urllib.request
import uuid
from collections.abc import Iterator

import docker
import pytest
from testcontainers.community.postgres import PostgresContainer
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy

from rehearsal.images import POSTGRES_IMAGE, PROJECT_LABEL, REGISTRY_IMAGE, ensure_images
from rehearsal.sweep import owner_labels

pytestmark = pytest.mark.docker

RUN_ID = f"test-infra-{uuid.uuid4().hex[:12]}"
RUN_LABEL = "org.cyverse.atmo-release.rehearsal"
LABELS = {RUN_LABEL: RUN_ID, **owner_labels()}  # the sweep removes them once this pid is gone
USER, PASSWORD, DB = "atmo_app", "s3cret pass'word", "atmo_prod"

# Slow on purpose: readiness must wait for the init scripts, not only for the first server.
SLOW_INIT_SCRIPT = """\
sleep 3
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\
    -c 'CREATE TABLE seeded (id int); INSERT INTO seeded VALUES (1);'
"""


@pytest.fixture(scope="module", autouse=True)
def images() -> Iterator[None]:
    """Build or reuse the images under test; Ryuk cannot be pulled here, teardown cleans up."""
    ensure_images([POSTGRES_IMAGE, REGISTRY_IMAGE])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
        patch.setattr(testcontainers_config, "ryuk_disabled", True)
        yield


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresContainer]:
    init_dir = tmp_path_factory.mktemp("initdb")
    (init_dir / "01-slow.sh").write_text(SLOW_INIT_SCRIPT)
    init_dir.chmod(0o755)  # the entrypoint reads it as the postgres user
    container = (
        PostgresContainer(
            POSTGRES_IMAGE, username=USER, password=PASSWORD, dbname=DB, driver=None, labels=LABELS
        )
        .with_env("POSTGRES_EXTRA_DBS", "troposphere")
        .with_volume_mapping(str(init_dir), "/docker-entrypoint-initdb.d", "ro")
    )
    with container:
        yield container


def psql(server: PostgresContainer, sql: str, password: str = PASSWORD) -> tuple[int, str]:
    """Run psql in a throwaway client container that reaches the server over published TCP."""
    client = docker.from_env()
    port = server.get_exposed_port(5432)
    argv = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", DB, "-tAc", sql]
    container = client.containers.run(
        POSTGRES_IMAGE,
        argv,
        environment={"PGPASSWORD": password},
        network_mode="host",
        labels=LABELS,
        detach=True,
    )
    try:
        rc = container.wait(timeout=60)["StatusCode"]
        return rc, container.logs().decode().strip()
    finally:
        container.remove(force=True, v=True)  # the image declares a data volume
        client.close()


def test_postgres_accepts_the_user_over_tcp_with_the_password(postgres: PostgresContainer) -> None:
    assert psql(postgres, "SELECT current_user") == (0, USER)


def test_postgres_rejects_a_wrong_password(postgres: PostgresContainer) -> None:
    rc, output = psql(postgres, "SELECT 1", password="wrong")
    assert rc != 0
    assert "password authentication failed" in output


def test_postgres_has_the_extra_database_owned_by_the_user_in_utf8(
    postgres: PostgresContainer,
) -> None:
    sql = (
        "SELECT datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database"
        f" WHERE datname IN ('{DB}', 'troposphere') ORDER BY datname"
    )
    assert psql(postgres, sql) == (0, f"{DB}|{USER}|UTF8\ntroposphere|{USER}|UTF8")


def test_postgres_is_ready_only_after_the_init_scripts(postgres: PostgresContainer) -> None:
    assert psql(postgres, "SELECT count(*) FROM seeded") == (0, "1")


def test_postgres_container_carries_the_run_label(postgres: PostgresContainer) -> None:
    assert postgres.get_wrapped_container().labels[RUN_LABEL] == RUN_ID


@pytest.fixture(scope="module")
def registry() -> Iterator[DockerContainer]:
    container = (
        DockerContainer(REGISTRY_IMAGE, labels=LABELS)
        .with_exposed_ports(5000)
        .waiting_for(HttpWaitStrategy(5000, "/v2/"))
    )
    with container:
        yield container


def docker_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], input=stdin, capture_output=True, check=False)


def one_file_image_tar(content: str) -> bytes:
    """A root filesystem with one unique file: its layer exists nowhere else, so a pull
    after removing the local tag has to fetch it from the registry."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = content.encode()
        info = tarfile.TarInfo("run-id")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_registry_accepts_a_push_and_serves_the_pull(registry: DockerContainer) -> None:
    port = registry.get_exposed_port(5000)
    repository = f"atmo-test/{RUN_ID}"
    ref = f"localhost:{port}/{repository}:t"
    imported = docker_cli(
        "import",
        "--change",
        f"LABEL {PROJECT_LABEL}=rehearsal",
        *(arg for key, value in LABELS.items() for arg in ("--change", f"LABEL {key}={value}")),
        "-",
        ref,
        stdin=one_file_image_tar(RUN_ID),
    )
    assert imported.returncode == 0, imported.stderr
    image_id = imported.stdout.decode().strip()
    try:
        pushed = docker_cli("push", ref)
        assert pushed.returncode == 0, pushed.stderr
        assert docker_cli("rmi", ref).returncode == 0
        assert docker_cli("image", "inspect", image_id).returncode != 0, "layer still local"

        pulled = docker_cli("pull", ref)
        assert pulled.returncode == 0, pulled.stderr
        inspected = docker_cli("image", "inspect", "--format", "{{.Id}}", ref)
        assert inspected.stdout.decode().strip() == image_id

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/_catalog", timeout=10) as reply:
            assert repository in json.load(reply)["repositories"]
    finally:
        docker_cli("rmi", "--force", ref)
