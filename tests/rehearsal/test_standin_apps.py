"""The stand-in application images keep the contract in rehearsal/README.md.

Real containers on a private network: one atmo-rehearsal/postgres:15 and the app images, built or
reused by rehearsal/images.py. Every container, network and volume carries the rehearsal label
of this module's run id and is removed at the end, also after a failure.
"""

import contextlib
import shlex
import subprocess
import time
import uuid
from pathlib import Path

import docker
import pytest
import requests

from atmo_release.web import browser, journey
from rehearsal.images import POSTGRES_IMAGE, app_image, ensure_images
from rehearsal.sweep import RUN_LABEL, owner_labels
from tests.rehearsal.faults import unreachable_inside

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"atmosphere": 8000, "troposphere": 8001}
READY_PATHS = {"atmosphere": "/api/status/celery", "troposphere": "/login"}
SECRETS_MOUNT = "/opt/dev/atmosphere-docker-secrets"
DB_USER = "atmo_app"
DB_PASSWORD = "rehearsal-db-password"
EXEMPT = "atmo-admin"
TABLES = {
    "atmosphere": ("atmo_prod", "maintenance_record"),
    "troposphere": ("troposphere", "api_maintenancerecord"),
}
# Quotes, command substitution, a separator and a newline: all must land in the table as typed.
NASTY_TITLE = 'v37-3 "deploy" it\'s $(touch /tmp/pwned); `id` & done\nsecond line'


def image(app, release):
    return app_image(app, release)


class Rehearsal:
    """Docker objects of one test module, all labelled with its run id."""

    def __init__(self, client, tmp_dir):
        self.client = client
        self.tmp_dir = tmp_dir
        # A concurrent rehearsal sweeps labelled objects whose process is gone: name ours.
        self.labels = {RUN_LABEL: f"standin-{uuid.uuid4().hex[:10]}", **owner_labels()}
        self.network = client.networks.create(self.labels[RUN_LABEL], labels=self.labels)
        self.postgres = None

    def start_postgres(self):
        volume = self.client.volumes.create(f"{self.labels[RUN_LABEL]}-pgdata", labels=self.labels)
        self.postgres = self.client.containers.run(
            POSTGRES_IMAGE,
            detach=True,
            labels=self.labels,
            network=self.network.name,
            environment={
                "POSTGRES_USER": DB_USER,
                "POSTGRES_PASSWORD": DB_PASSWORD,
                "POSTGRES_DB": "atmo_prod",
                "POSTGRES_EXTRA_DBS": "troposphere",
            },
            volumes={volume.name: {"bind": "/var/lib/postgresql/data", "mode": "rw"}},
            name=f"{self.labels[RUN_LABEL]}-postgres",
        )
        deadline = time.monotonic() + 60
        while self.postgres.exec_run(["pg_isready", "-q", "-h", "127.0.0.1"]).exit_code != 0:
            assert time.monotonic() < deadline, self.postgres.logs().decode()
            time.sleep(0.5)

    def psql(self, db, sql):
        """Runs SQL as the database owner; returns the unaligned rows."""
        result = self.postgres.exec_run(
            ["psql", "-U", DB_USER, "-d", db, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]
        )
        assert result.exit_code == 0, result.output.decode()
        return result.output.decode().strip()

    def create_database(self, name):
        self.psql("atmo_prod", f"CREATE DATABASE {name} OWNER {DB_USER}")

    def secrets(
        self,
        name,
        atmosphere_db="atmo_prod",
        troposphere_db="troposphere",
        password=DB_PASSWORD,
        git=True,
    ):
        """A secrets checkout with inis/atmosphere.ini and inis/troposphere.ini."""
        folder = self.tmp_dir / name
        (folder / "inis").mkdir(parents=True)
        for app, db in (("atmosphere", atmosphere_db), ("troposphere", troposphere_db)):
            (folder / "inis" / f"{app}.ini").write_text(
                "[local.py]\n"
                f"DATABASE_NAME = {db}\n"
                f"DATABASE_USER = {DB_USER}\n"
                f"DATABASE_PASSWORD = {password}\n"
                f"DATABASE_HOST = {self.postgres.name}\n"
                "DATABASE_PORT = 5432\n"
                "SERVER_URL = https://atmo.example.org\n"
                "SECRET_KEY = rehearsal-secret-key-%(not-interpolated)s\n"
                f"MAINTENANCE_EXEMPT_USERNAMES = {EXEMPT}, ops\n"
            )
        if git:
            subprocess.run(["git", "init", "-q", str(folder)], check=True)
        return folder

    def run_app(self, app, release, secrets, alias=False):
        """Starts an app container; returns it once it serves HTTP, with .app_name and .url set.
        With `alias` the network knows it by the app's name (troposphere reaches `atmosphere`)."""
        port = PORTS[app]
        endpoint = self.client.api.create_endpoint_config(aliases=[app] if alias else None)
        container = self.client.containers.run(
            image(app, release),
            detach=True,
            labels=self.labels,
            network=self.network.name,
            networking_config={self.network.name: endpoint},
            ports={f"{port}/tcp": ("127.0.0.1", None)},
            volumes={str(secrets): {"bind": SECRETS_MOUNT, "mode": "ro"}},
        )
        container.app_name = app
        deadline = time.monotonic() + 60
        while True:
            container.reload()
            assert container.status in ("created", "running"), container.logs().decode()
            published = container.ports.get(f"{port}/tcp")
            if published:
                container.url = f"http://127.0.0.1:{published[0]['HostPort']}"
                try:
                    if requests.get(container.url + READY_PATHS[app], timeout=2).ok:
                        return container
                except (requests.ConnectionError, requests.Timeout):
                    pass  # a slow first answer on a busy machine: ask again until the deadline
            assert time.monotonic() < deadline, container.logs().decode()
            time.sleep(0.3)

    def wait_exit(self, container):
        """The exit code of a container that is expected to stop by itself."""
        return container.wait(timeout=90)["StatusCode"]

    def remove_all(self):
        """Removes this run's containers, networks and volumes, also ones already half gone."""
        selector = {"label": f"{RUN_LABEL}={self.labels[RUN_LABEL]}"}
        for container in self.client.containers.list(all=True, filters=selector):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
        for network in self.client.networks.list(filters=selector):
            with contextlib.suppress(docker.errors.NotFound):
                network.remove()
        for volume in self.client.volumes.list(filters=selector):
            with contextlib.suppress(docker.errors.NotFound):
                volume.remove(force=True)


def rehearsal_of(releases, tmp_path_factory):
    """A Rehearsal with its Postgres, the images of `releases` built or reused; removed after."""
    ensure_images(
        [POSTGRES_IMAGE, *(image(app, release) for app in PORTS for release in releases)],
        log=lambda line: None,
    )
    client = docker.from_env()
    stack = Rehearsal(client, tmp_path_factory.mktemp("secrets"))
    try:
        stack.start_postgres()
        yield stack
    finally:
        stack.remove_all()
        client.close()


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    yield from rehearsal_of(("v37-2", "v37-3"), tmp_path_factory)


@pytest.fixture(scope="module")
def apps(rehearsal):
    """atmosphere and troposphere v37-3 on atmo_prod and troposphere, with an exempt user and
    alice, each owning instances; the network knows this atmosphere as `atmosphere`."""
    secrets = rehearsal.secrets("prod")
    running = {app: rehearsal.run_app(app, "v37-3", secrets, alias=True) for app in PORTS}
    rehearsal.psql(
        "atmo_prod",
        "INSERT INTO core_atmosphereuser (username, email, is_staff, api_token) VALUES "
        f"('{EXEMPT}', 'admin@example.org', true, 'token-admin'), "
        "('alice', 'alice@example.org', false, 'token-alice');"
        "INSERT INTO core_instance (name, owner_id, is_running, created_at) "
        "SELECT name, (SELECT id FROM core_atmosphereuser WHERE username = owner), running, now() "
        f"FROM (VALUES ('admin-vm', '{EXEMPT}', true), ('alice-web', 'alice', true), "
        "('alice-db', 'alice', false)) AS rows (name, owner, running)",
    )
    return running


@pytest.fixture
def app(request, apps, rehearsal):
    """One running app, parametrized by name; no maintenance record is active before or after."""
    db, table = TABLES[request.param]
    end_all = f"UPDATE {table} SET end_date = now() WHERE end_date IS NULL"
    rehearsal.psql(db, end_all)
    yield apps[request.param]
    rehearsal.psql(db, end_all)


def manage(container, *args):
    """`manage.py ...` through the venv python, without a shell; returns (exit code, output)."""
    app = container.app_name
    result = container.exec_run([f"/opt/env/{app}/bin/python", f"/opt/dev/{app}/manage.py", *args])
    return result.exit_code, result.output.decode()


def active_count(rehearsal, app):
    db, table = TABLES[app]
    return int(rehearsal.psql(db, f"SELECT count(*) FROM {table} WHERE end_date IS NULL"))


both_apps = pytest.mark.parametrize("app", list(PORTS), indirect=True)


@both_apps
def test_starts_stack_and_stop_ends_them_all(app, rehearsal):
    db, table = TABLES[app.app_name]
    assert manage(app, "maintenance", "stop") == (0, "There are no active records\n")
    assert manage(app, "maintenance", "show") == (0, "There are no active records\n")
    for title in ("first", "second"):
        code, output = manage(app, "maintenance", "start", "--title", title, "--message", "m")
        assert code == 0, output
    assert active_count(rehearsal, app.app_name) == 2
    active = f"SELECT disable_login FROM {table} WHERE end_date IS NULL"
    assert rehearsal.psql(db, active).splitlines() == ["t", "t"]
    code, output = manage(app, "maintenance", "show")
    assert code == 0 and "first: m" in output and "second: m" in output
    code, output = manage(app, "maintenance", "stop")
    assert code == 0 and output.count("Record ended") == 2
    assert active_count(rehearsal, app.app_name) == 0
    assert manage(app, "maintenance", "stop") == (0, "There are no active records\n")


@both_apps
def test_unknown_verb_exits_non_zero(app):
    code, output = manage(app, "maintenance", "begin")
    assert code != 0 and "Unknown command: begin" in output


@both_apps
def test_dry_run_writes_nothing(app, rehearsal):
    db, table = TABLES[app.app_name]
    total = rehearsal.psql(db, f"SELECT count(*) FROM {table}")
    code, output = manage(app, "maintenance", "start", "--title", "t", "--dry-run")
    assert code == 0 and "Dry run" in output
    assert rehearsal.psql(db, f"SELECT count(*) FROM {table}") == total
    assert manage(app, "maintenance", "start", "--title", "t", "--message", "m")[0] == 0
    code, output = manage(app, "maintenance", "stop", "--dry-run")
    assert code == 0 and "Dry run" in output
    assert active_count(rehearsal, app.app_name) == 1


@both_apps
def test_start_date_option(app, rehearsal):
    db, table = TABLES[app.app_name]
    for title, given in (("dated", "2022-02-14T08:00"), ("day", "2022-02-15")):
        code, output = manage(app, "maintenance", "start", "--title", title, "--start-date", given)
        assert code == 0, output
    started = f"SELECT start_date AT TIME ZONE 'UTC' FROM {table} WHERE end_date IS NULL"
    started += " ORDER BY start_date"
    assert rehearsal.psql(db, started).splitlines() == [
        "2022-02-14 08:00:00",
        "2022-02-15 00:00:00",
    ]
    code, output = manage(app, "maintenance", "start", "--start-date", "next tuesday")
    assert code != 0 and "not an ISO 8601 date" in output


@both_apps
def test_title_and_message_stored_literally(app, rehearsal):
    db, table = TABLES[app.app_name]
    venv = {"atmosphere": "/opt/env/atmo", "troposphere": "/opt/env/troposphere"}[app.app_name]
    message = "$(reboot); 50% done"
    command = (
        f"source {venv}/bin/activate && ./manage.py maintenance start "
        f"--title {shlex.quote(NASTY_TITLE)} --message {shlex.quote(message)}"
    )
    result = app.exec_run(["/bin/bash", "-c", command])
    assert result.exit_code == 0, result.output.decode()
    stored = f"SELECT title || '|' || message FROM {table} WHERE end_date IS NULL"
    assert rehearsal.psql(db, stored) == f"{NASTY_TITLE}|{message}"
    assert app.exec_run(["test", "-e", "/tmp/pwned"]).exit_code != 0


@pytest.mark.parametrize("app", ["atmosphere"], indirect=True)
def test_runbook_invocation_and_atmosphere_503(app):
    assert requests.get(f"{app.url}/api/v2/version", timeout=5).status_code == 200
    result = app.exec_run(
        [  # exactly as the runbook types it
            "/bin/bash",
            "-c",
            "source /opt/env/atmo/bin/activate && ./manage.py maintenance start "
            "--title 'v37-3 deploy' --message 'Atmosphere is being upgraded'",
        ]
    )
    assert result.exit_code == 0, result.output.decode()
    expected = {"detail": "v37-3 deploy: Atmosphere is being upgraded"}
    for path in ("/api/v2/version", "/api/v2/instances"):
        response = requests.get(app.url + path, timeout=5)
        assert (response.status_code, response.json()) == (503, expected)
        for token, status in (("token-alice", 503), ("token-admin", 200), ("", 503)):
            headers = {"Authorization": f"Token {token}"}
            assert requests.get(app.url + path, headers=headers, timeout=5).status_code == status
    celery = requests.get(f"{app.url}/api/status/celery", timeout=5)
    assert (celery.status_code, celery.json()) == (200, {"celery": "ok"})
    assert manage(app, "maintenance", "stop")[0] == 0
    assert requests.get(f"{app.url}/api/v2/version", timeout=5).status_code == 200


def signed_in(troposphere, username, password):
    """A session signed in through troposphere's form; the form's answer too."""
    session = requests.Session()
    answer = session.post(
        troposphere.url + "/login",
        data={"username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    return session, answer


@pytest.mark.parametrize("app", ["troposphere"], indirect=True)
def test_troposphere_pages(app, apps):
    def get(path, session=None):
        return (session or requests).get(app.url + path, allow_redirects=False, timeout=5)

    assert get("/application").status_code == 200
    idle = get("/maintenance")
    assert (idle.status_code, idle.headers["Location"]) == (302, "/login")
    assert get("/login").status_code == 200
    alice, answer = signed_in(app, "alice", "token-alice")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/application")
    admin, _ = signed_in(app, EXEMPT, "token-admin")
    code, output = manage(app, "maintenance", "start", "--message", "Back at <5pm> & later")
    assert code == 0, output
    for session in (None, alice, requests.Session()):
        held = get("/application", session)
        assert (held.status_code, held.headers["Location"]) == (302, "/maintenance")
    let_in = get("/application", admin)
    assert let_in.status_code == 200 and f"Signed in as {EXEMPT}." in let_in.text
    page = get("/maintenance")
    assert page.status_code == 200
    assert "Atmosphere is under planned maintenance" in page.text
    assert "Back at &lt;5pm&gt; &amp; later" in page.text
    assert get("/tropo-api/version").status_code == 200
    assert manage(app, "maintenance", "stop")[0] == 0
    assert get("/maintenance").headers["Location"] == "/login"


@pytest.mark.parametrize("app", ["troposphere"], indirect=True)
def test_a_sign_in_with_a_wrong_password_answers_the_form_again(app, apps):
    session, answer = signed_in(app, "alice", "token-admin")
    assert answer.status_code == 401
    assert "Sign-in failed: wrong username or password." in answer.text
    assert "tropo_session" not in session.cookies
    page = session.get(app.url + "/application", timeout=5)
    assert "Signed in as nobody." in page.text and "My instances" not in page.text


def test_atmosphere_auth_gives_the_token_for_the_password_that_is_the_token(apps):
    url = apps["atmosphere"].url + "/auth"
    given = requests.post(url, data={"username": "alice", "password": "token-alice"}, timeout=5)
    assert (given.status_code, given.json()) == (201, {"username": "alice", "token": "token-alice"})
    for form in ({"username": "alice", "password": "token-admin"}, {"username": "alice"}):
        assert requests.post(url, data=form, timeout=5).status_code == 401
    assert requests.get(url, timeout=5).status_code == 405


@pytest.mark.parametrize("app", ["atmosphere"], indirect=True)
def test_troposphere_proxies_the_api_and_the_instance_list_is_the_users(app, apps):
    proxied = apps["troposphere"].url + "/api/v2/instances"

    def names(url, token=None):
        headers = {"Authorization": f"Token {token}"} if token else None
        answer = requests.get(url, headers=headers, timeout=5)
        return answer.status_code, [row["name"] for row in answer.json().get("results", [])]

    assert names(proxied, "token-alice") == (200, ["alice-web", "alice-db"])
    assert names(app.url + "/api/v2/instances", "token-admin") == (200, ["admin-vm"])
    assert names(proxied)[1][-3:] == ["admin-vm", "alice-web", "alice-db"]
    assert manage(app, "maintenance", "start", "--title", "t", "--message", "m")[0] == 0
    held = requests.get(proxied, headers={"Authorization": "Token token-alice"}, timeout=5)
    assert (held.status_code, held.json()) == (503, {"detail": "t: m"})
    assert names(proxied, "token-admin") == (200, ["admin-vm"])
    with unreachable_inside(apps["troposphere"].id, "atmosphere"):
        cut = requests.get(proxied, headers={"Authorization": "Token token-admin"}, timeout=15)
    assert cut.status_code == 502 and "could not reach atmosphere" in cut.json()["detail"]


@pytest.mark.parametrize("app", ["troposphere"], indirect=True)
def test_the_application_page_loads_the_users_instances_in_a_browser(app, apps, tmp_path):
    """Maintenance on troposphere: alice is sent away, the exempt user sees their instance."""
    if browser.missing():
        pytest.skip(f"{browser.missing()}: run scripts/setup.sh")
    troposphere = app.url
    assert manage(app, "maintenance", "start", "--title", "t", "--message", "m")[0] == 0
    with browser.chromium() as driver:
        alice = journey.sign_in_and_look(
            driver, troposphere + "/login", "alice", "token-alice", [], tmp_path / "a.png", 0
        )
        admin = journey.sign_in_and_look(
            driver, troposphere + "/login", EXEMPT, "token-admin", ["admin-vm"], tmp_path / "b.png"
        )
    assert alice.url.endswith("/maintenance") and "under planned maintenance" in alice.text
    assert admin.url == troposphere + "/application"
    assert "Your instances:\nadmin-vm (running)" in admin.text
    assert journey.not_shown(admin.text, ["admin-vm", "alice-web"]) == ["alice-web"]
    assert (tmp_path / "b.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("app", list(PORTS))
def test_gunicorn_port_and_logs_and_migrate_check_after_start(apps, app):
    container = apps[app]
    assert f"Listening at: http://0.0.0.0:{PORTS[app]}" in container.logs(stdout=False).decode()
    assert f'"GET {READY_PATHS[app]} HTTP/1.1" 200' in container.logs(stderr=False).decode()
    assert manage(container, "migrate", "--check")[0] == 0


@pytest.mark.parametrize("app", list(PORTS))
def test_settings_are_rendered_by_configure_and_only_they_are_read(apps, rehearsal, app):
    """As the real images: local.py is not in the image, Django cannot start before configure
    rendered it from the linked ini, and once rendered the ini is no longer read."""
    python, local = f"/opt/env/{app}/bin/python", f"{app}/settings/local.py"
    chain = (
        f"test ! -e {local} && ln -s {SECRETS_MOUNT}/inis/{app}.ini variables.ini && "
        f"{{ {python} manage.py migrate --check 2>&1 | tail -n 1; }} && "
        f"{python} configure && rm variables.ini && {python} manage.py migrate --check && "
        f"stat -c %a {local}"
    )
    output = rehearsal.client.containers.run(
        image(app, "v37-3"),
        entrypoint=["/bin/bash", "-c", chain],
        labels=rehearsal.labels,
        network=rehearsal.network.name,
        volumes={str(rehearsal.secrets(f"configure-{app}")): {"bind": SECRETS_MOUNT}},
        remove=True,
    ).decode()
    lines = output.splitlines()
    assert lines[0] == f"ModuleNotFoundError: No module named '{app}.settings.local'"
    assert lines[1] == f"configure: generated {local} from standin_common/local.py.j2"
    assert "  No migrations to apply." in lines and lines[-1] == "600"
    code, _ = apps[app].exec_run(["test", "-f", f"/opt/dev/{app}/{local}"])
    assert code == 0  # the running app's, rendered by its entrypoint


@pytest.mark.parametrize("app", list(PORTS))
def test_refuses_to_start_without_secrets_git(rehearsal, app):
    container = rehearsal.client.containers.create(
        image(app, "v37-3"),
        labels=rehearsal.labels,
        volumes={str(rehearsal.secrets(f"nogit-{app}", git=False)): {"bind": SECRETS_MOUNT}},
    )
    container.start()
    assert rehearsal.wait_exit(container) == 1
    stderr = container.logs(stdout=False).decode()
    assert stderr.count("\n") == 1 and "refusing to start" in stderr and SECRETS_MOUNT in stderr


def test_failed_migrate_stops_the_container(rehearsal):
    container = rehearsal.client.containers.run(
        image("atmosphere", "v37-3"),
        detach=True,
        labels=rehearsal.labels,
        network=rehearsal.network.name,
        volumes={str(rehearsal.secrets("badpw", password="wrong")): {"bind": SECRETS_MOUNT}},
    )
    assert rehearsal.wait_exit(container) != 0
    assert "password authentication failed" in container.logs().decode()


def test_atmosphere_upgrade_migrates_and_v37_2_breaks_on_the_new_schema(rehearsal):
    rehearsal.create_database("atmo_upgrade")
    secrets = rehearsal.secrets("atmo-upgrade", atmosphere_db="atmo_upgrade")
    old = rehearsal.run_app("atmosphere", "v37-2", secrets)
    old_version = requests.get(f"{old.url}/api/v2/version", timeout=5).json()
    rehearsal.psql(
        "atmo_upgrade",
        "INSERT INTO core_atmosphereuser (id, username, email, is_staff) "
        "VALUES (1, 'alice', '', false);"
        "INSERT INTO core_instance (name, owner_id, status, created_at) VALUES "
        "('web', 1, 'active', now()), ('db', 1, 'suspended', now()), ('old', 1, 'shutoff', now())",
    )
    listed = requests.get(f"{old.url}/api/v2/instances", timeout=5).json()["results"]
    assert [row["status"] for row in listed] == ["active", "suspended", "shutoff"]
    old.remove(force=True)

    # The new code sees the unapplied migration before its entrypoint applies it.
    pending = rehearsal.client.containers.run(
        image("atmosphere", "v37-3"),
        entrypoint=["/bin/bash", "-c"],
        command=[
            f"ln -s {SECRETS_MOUNT}/inis/atmosphere.ini variables.ini && "
            "/opt/env/atmo/bin/python configure >/dev/null && "
            "/opt/env/atmo/bin/python manage.py migrate --check"
        ],
        detach=True,
        labels=rehearsal.labels,
        network=rehearsal.network.name,
        volumes={str(secrets): {"bind": SECRETS_MOUNT}},
    )
    assert rehearsal.wait_exit(pending) == 1
    assert "Traceback" not in pending.logs().decode()

    new = rehearsal.run_app("atmosphere", "v37-3", secrets)
    new_version = requests.get(f"{new.url}/api/v2/version", timeout=5).json()
    assert old_version["git_branch"] == "v37-2" and new_version["git_branch"] == "v37-3"
    assert old_version["git_sha"] != new_version["git_sha"]
    assert new_version["git_sha"].startswith(new_version["git_sha_abbrev"])
    assert rehearsal.psql(
        "atmo_upgrade", "SELECT name, is_running FROM core_instance ORDER BY id"
    ).splitlines() == ["web|t", "db|f", "old|f"]
    assert (
        rehearsal.psql(
            "atmo_upgrade",
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'core_instance' AND column_name = 'status'",
        )
        == "0"
    )
    assert rehearsal.psql("atmo_upgrade", "SELECT count(*) FROM core_volume") == "0"
    listed = requests.get(f"{new.url}/api/v2/instances", timeout=5).json()["results"]
    assert [row["is_running"] for row in listed] == [True, False, False]
    assert manage(new, "migrate", "--check")[0] == 0
    new.remove(force=True)

    rolled_back = rehearsal.run_app("atmosphere", "v37-2", secrets)
    assert requests.get(f"{rolled_back.url}/api/v2/instances", timeout=5).status_code == 500


def test_troposphere_upgrade_inverts_the_beta_flag(rehearsal, apps):
    rehearsal.create_database("tropo_upgrade")
    secrets = rehearsal.secrets("tropo-upgrade", troposphere_db="tropo_upgrade")
    old = rehearsal.run_app("troposphere", "v37-2", secrets)
    old_version = requests.get(f"{old.url}/tropo-api/version", timeout=5).json()
    rehearsal.psql(
        "tropo_upgrade",
        "INSERT INTO api_userpreferences (username, show_beta_interface, created_date) VALUES "
        "('alice', true, now()), ('bob', false, now())",
    )
    old.remove(force=True)

    new = rehearsal.run_app("troposphere", "v37-3", secrets)
    new_version = requests.get(f"{new.url}/tropo-api/version", timeout=5).json()
    assert (old_version["git_branch"], new_version["git_branch"]) == ("v37-2", "v37-3")
    assert old_version["git_sha"] != new_version["git_sha"]
    assert rehearsal.psql(
        "tropo_upgrade", "SELECT username, hide_beta_interface FROM api_userpreferences ORDER BY id"
    ).splitlines() == ["alice|f", "bob|t"]
    session, _ = signed_in(new, "alice", "token-alice")  # through the apps' atmosphere
    assert "Beta interface: on" in session.get(f"{new.url}/application", timeout=5).text
