"""Environment files: the shipped ones load; every malformed variant names the file and the key."""

from pathlib import Path

import pytest

from atmo_release.environment import (
    EnvironmentFileError,
    known_environments,
    load_environment,
    parse_environment,
)

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ROOT / "environments"
ATMOBETA = (ENVIRONMENTS / "atmobeta.toml").read_text()


def variant(tmp_path: Path, old: str, new: str, name: str = "variant") -> Path:
    """atmobeta.toml with exactly one occurrence of `old` replaced by `new`, in tmp_path."""
    assert ATMOBETA.count(old) == 1, f"{old!r} is not unique in atmobeta.toml"
    path = tmp_path / f"{name}.toml"
    path.write_text(ATMOBETA.replace(old, new))
    return path


def refused(path: Path) -> str:
    with pytest.raises(EnvironmentFileError) as caught:
        parse_environment(path)
    message = str(caught.value)
    assert str(path) in message, message
    return message


@pytest.mark.parametrize("name", ["atmobeta", "production", "jetstream"])
def test_every_shipped_file_loads(name: str) -> None:
    env = parse_environment(ENVIRONMENTS / f"{name}.toml")
    assert env.name == name
    assert env.path == ENVIRONMENTS / f"{name}.toml"
    assert set(env.services) == {"atmosphere", "troposphere"}
    assert env.compose_path == Path("/opt/dev/atmosphere-docker/docker-compose.prod.yml")
    assert env.compose_command == ("docker-compose",)
    assert env.database.where == "host"
    assert env.database.names == ("atmo_prod", "troposphere")
    assert env.database.port == 5432
    assert env.services["atmosphere"].venv == "/opt/env/atmo"
    assert env.services["troposphere"].maintenance_table == "api_maintenancerecord"
    assert isinstance(env.readiness_timeout_s, float)


def test_atmobeta() -> None:
    env = parse_environment(ENVIRONMENTS / "atmobeta.toml")
    assert env.secrets_branch == "atmobeta"
    assert env.production is False
    assert env.org == "cyverse"
    assert env.services["atmosphere"].url == "https://atmobeta.cyverse.org"


def test_production() -> None:
    env = parse_environment(ENVIRONMENTS / "production.toml")
    assert env.production is True
    assert env.secrets_branch == "prod"
    assert env.org == "cyverse"


def test_jetstream() -> None:
    env = parse_environment(ENVIRONMENTS / "jetstream.toml")
    assert env.secrets_branch == "jetstream-prod"
    assert env.org == "jetstream"
    assert env.production is True


def test_an_unchanged_copy_loads(tmp_path: Path) -> None:
    path = tmp_path / "copy.toml"
    path.write_text(ATMOBETA)
    assert parse_environment(path).secrets_branch == "atmobeta"


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = variant(tmp_path, "production = false\n", "production = false\ncolour = 'blue'\n")
    message = refused(path)
    assert "unknown key colour" in message


def test_unknown_key_inside_a_service(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        'venv = "/opt/env/atmo"\n',
        'venv = "/opt/env/atmo"\nvenv_path = "/opt/env/atmo"\n',
    )
    message = refused(path)
    assert "unknown key services.atmosphere.venv_path" in message


def test_unknown_key_inside_a_table(tmp_path: Path) -> None:
    path = variant(tmp_path, 'branch = "atmobeta"\n', 'branch = "atmobeta"\nremote = "x"\n')
    assert "unknown key secrets.remote" in refused(path)


def test_missing_value(tmp_path: Path) -> None:
    path = variant(tmp_path, 'branch = "atmobeta"\n', "")
    message = refused(path)
    assert "missing value for secrets.branch" in message


def test_empty_value_is_missing(tmp_path: Path) -> None:
    path = variant(tmp_path, 'branch = "atmobeta"', 'branch = ""')
    message = refused(path)
    assert "missing value for secrets.branch" in message


def test_empty_list_is_missing(tmp_path: Path) -> None:
    path = variant(tmp_path, 'compose_command = ["docker-compose"]', "compose_command = []")
    assert "missing value for deploy.compose_command" in refused(path)


def test_missing_service_value(tmp_path: Path) -> None:
    path = variant(tmp_path, 'maintenance_table = "api_maintenancerecord"\n', "")
    assert "missing value for services.troposphere.maintenance_table" in refused(path)


def test_missing_service(tmp_path: Path) -> None:
    start = ATMOBETA.index("[services.troposphere]")
    end = ATMOBETA.index("[readiness]")
    path = variant(tmp_path, ATMOBETA[start:end], "")
    assert "missing value for services.troposphere" in refused(path)


def test_missing_table(tmp_path: Path) -> None:
    start = ATMOBETA.index("[smoke]")
    end = ATMOBETA.index("# The weeks before release day")
    path = variant(tmp_path, ATMOBETA[start:end], "")
    assert "missing value for smoke" in refused(path)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("production = false", 'production = "no"', "production"),
        ("production = false", "production = 0", "production"),
        ("port = 5432", 'port = "5432"', "database.port"),
        ("port = 5432", "port = true", "database.port"),
        ("interval_s = 2", "interval_s = true", "readiness.interval_s"),
        ("timeout_s = 300", 'timeout_s = "300"', "readiness.timeout_s"),
        (
            'compose_command = ["docker-compose"]',
            'compose_command = "docker-compose"',
            "deploy.compose_command",
        ),
        ('venv = "/opt/env/atmo"', "venv = 3", "services.atmosphere.venv"),
        ('name = "atmobeta"', "name = ['atmobeta']", "name"),
    ],
)
def test_wrong_types(tmp_path: Path, old: str, new: str, key: str) -> None:
    path = variant(tmp_path, old, new)
    message = refused(path)
    assert f"{key} has the wrong type" in message


def test_a_float_readiness_is_accepted(tmp_path: Path) -> None:
    path = variant(tmp_path, "interval_s = 2", "interval_s = 0.5")
    assert parse_environment(path).readiness_interval_s == 0.5


def test_a_scalar_where_a_table_belongs(tmp_path: Path) -> None:
    start = ATMOBETA.index("[smoke]")
    path = tmp_path / "scalar.toml"
    path.write_text(ATMOBETA[:start].replace('org = "cyverse"', 'org = "cyverse"\nsmoke = 1'))
    assert "smoke must be a table" in refused(path)


def test_list_items_have_the_wrong_type(tmp_path: Path) -> None:
    path = variant(tmp_path, 'names = ["atmo_prod", "troposphere"]', 'names = ["atmo_prod", 2]')
    assert "database.names" in refused(path)


@pytest.mark.parametrize("where", ["ssh", "", "HOST"])
def test_database_where_other_than_host_or_service(tmp_path: Path, where: str) -> None:
    path = variant(tmp_path, 'where = "host"', f'where = "{where}"')
    message = refused(path)
    assert "database.where" in message


def test_database_as_a_service(tmp_path: Path) -> None:
    path = variant(tmp_path, 'where = "host"', 'where = "service"\nservice = "postgres"')
    env = parse_environment(path)
    assert env.database.where == "service"
    assert env.database.service == "postgres"


def test_database_as_a_service_needs_the_service_name(tmp_path: Path) -> None:
    path = variant(tmp_path, 'where = "host"', 'where = "service"')
    assert "missing value for database.service" in refused(path)


def test_optional_database_keys_default(tmp_path: Path) -> None:
    path = variant(tmp_path, 'host = "127.0.0.1"\nport = 5432\n', "")
    env = parse_environment(path)
    assert (env.database.host, env.database.port, env.database.service) == ("127.0.0.1", 5432, "")


def test_the_wait_for_other_sessions_defaults_to_a_minute_and_is_bounded(
    tmp_path: Path,
) -> None:
    assert parse_environment(ENVIRONMENTS / "atmobeta.toml").database.other_sessions_wait_s == 60
    five = variant(tmp_path, "port = 5432\n", "port = 5432\nother_sessions_wait_s = 5\n")
    assert parse_environment(five).database.other_sessions_wait_s == 5
    for wrong, said in (("-1", "is -1; give between 0 and 3600"), ('"60"', "has the wrong type")):
        path = variant(tmp_path, "port = 5432\n", f"port = 5432\nother_sessions_wait_s = {wrong}\n")
        assert f"database.other_sessions_wait_s {said}" in refused(path)


def test_invalid_toml(tmp_path: Path) -> None:
    path = variant(tmp_path, "production = false", "production = ")
    assert "not valid TOML" in refused(path)


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(EnvironmentFileError) as caught:
        load_environment("nope", ENVIRONMENTS)
    message = str(caught.value)
    assert "'nope'" in message
    for name in ("rehearsal", "atmobeta", "production", "jetstream"):
        assert name in message
    assert "known environments are rehearsal, atmobeta, " in message


def test_load_environment_by_name() -> None:
    assert load_environment("jetstream", ENVIRONMENTS).org == "jetstream"


def test_known_environments(tmp_path: Path) -> None:
    found = known_environments(ENVIRONMENTS)
    assert {"atmobeta", "jetstream", "production"} <= set(found)
    assert found == sorted(found)
    assert known_environments(tmp_path) == []


def test_the_notify_table_is_optional_and_kept(tmp_path: Path) -> None:
    table = '\n[notify]\nwebhook_url_env = "ATMO_RELEASE_WEBHOOK_URL"\ntimeout_s = 2\n'
    path = tmp_path / "notify.toml"
    path.write_text(ATMOBETA + table)
    assert parse_environment(path).extra["notify"] == {
        "webhook_url_env": "ATMO_RELEASE_WEBHOOK_URL",
        "timeout_s": 2,
    }
    assert "notify" not in parse_environment(ENVIRONMENTS / "atmobeta.toml").extra


@pytest.mark.parametrize(
    "table, expected",
    [
        ('webhook_url = "https://hooks.example/x"', "unknown key notify.webhook_url"),
        ("timeout_s = 2", "missing value for notify.webhook_url_env"),
        ('webhook_url_env = "W"\ntimeout_s = 60', "notify.timeout_s is 60; give between"),
        ('webhook_url_env = "W"\ntimeout_s = 0', "notify.timeout_s is 0; give between"),
    ],
)
def test_a_wrong_notify_table_is_refused(tmp_path: Path, table: str, expected: str) -> None:
    path = tmp_path / "notify.toml"
    path.write_text(f"{ATMOBETA}\n[notify]\n{table}\n")
    assert expected in refused(path)
