"""Settings files of the secrets checkout: parsed faithfully; only names of changes leave."""

import pytest

from atmo_release.resources.secrets_checkout import (
    SettingsFileError,
    key_changes,
    parse_env_file,
    parse_ini,
    parse_settings,
    secret_values,
)

ATMOSPHERE_INI = """\
[local.py]
DATABASE_NAME = atmo_prod
DATABASE_USER = atmo_app
DATABASE_PASSWORD = Pa55-w0rd%
DATABASE_HOST = 127.0.0.1
DATABASE_PORT = 5432
SERVER_URL = https://atmobeta.cyverse.org
SECRET_KEY = django-insecure-xyz
MAINTENANCE_EXEMPT_USERNAMES = alice,bob

[celery]
BROKER_TOKEN: tok-celery-1
lowercase_name = kept
"""


def test_parse_ini_keeps_key_case_and_reads_all_sections() -> None:
    values = parse_ini(ATMOSPHERE_INI)
    assert values["DATABASE_PASSWORD"] == "Pa55-w0rd%"
    assert values["SECRET_KEY"] == "django-insecure-xyz"
    assert values["MAINTENANCE_EXEMPT_USERNAMES"] == "alice,bob"
    assert values["BROKER_TOKEN"] == "tok-celery-1"
    assert values["lowercase_name"] == "kept"
    assert "database_password" not in values
    assert len(values) == 10


def test_a_key_in_two_sections_keeps_both_values() -> None:
    values = parse_ini("[local.py]\nSECRET_KEY = first-secret\n[other]\nSECRET_KEY = second-one\n")
    assert sorted(secret_values(values)) == ["first-secret", "second-one"]


def test_parse_env_file() -> None:
    text = """\
# the env file
server_name=atmobeta.cyverse.org
export ATMO_TOKEN="quoted value"
PLAIN=value # trailing comment
SINGLE='single # not a comment'
EMPTY=
   INDENTED=yes
#COMMENTED=no
echo not-an-assignment
if [ -z "$x" ]; then
NOT A=line
"""
    assert parse_env_file(text) == {
        "server_name": "atmobeta.cyverse.org",
        "ATMO_TOKEN": "quoted value",
        "PLAIN": "value",
        "SINGLE": "single # not a comment",
        "EMPTY": "",
        "INDENTED": "yes",
    }


def test_export_with_more_than_one_space() -> None:
    assert parse_env_file("export  KEY=v\nexport\tOTHER=w\n") == {"KEY": "v", "OTHER": "w"}


def test_parse_env_file_quotes() -> None:
    assert parse_env_file("A='it''s'\nB=\"say \\\"hi\\\"\"\nC='$(rm -rf /)'\n") == {
        "A": "its",
        "B": 'say "hi"',
        "C": "$(rm -rf /)",
    }


def test_parse_env_file_export_and_quoted_hash() -> None:
    assert parse_env_file("export KEY='a # b'\n") == {"KEY": "a # b"}


def test_a_hash_inside_a_word_is_not_a_comment() -> None:
    assert parse_env_file("PASSWORD=abc#def\n") == {"PASSWORD": "abc#def"}


def test_parse_settings_dispatches_on_the_name() -> None:
    assert parse_settings("inis/atmosphere.ini", "[s]\nK = v\n") == {"K": "v"}
    assert parse_settings("env", "K=v\n") == {"K": "v"}


def test_secret_values_picks_only_secret_names() -> None:
    values = parse_ini(ATMOSPHERE_INI)
    values |= {"API_TOKEN": "tok-1234", "EMPTY_PASSWORD": "", "server_name": "atmo.org"}
    assert sorted(secret_values(values)) == sorted(
        ["Pa55-w0rd%", "django-insecure-xyz", "tok-celery-1", "tok-1234"]
    )
    for plain in ("atmo_prod", "atmo_app", "127.0.0.1", "5432", "alice,bob", "atmo.org", "kept"):
        assert plain not in secret_values(values)


def test_key_changes_names_keys_never_values() -> None:
    before = {
        "env": {"server_name": "old.example.org", "GONE_TOKEN": "gone-secret-1"},
        "inis/atmosphere.ini": {"DATABASE_PASSWORD": "old-secret-2", "DATABASE_USER": "atmo_app"},
        "inis/troposphere.ini": {"SECRET_KEY": "same-secret-3"},
    }
    after = {
        "env": {"server_name": "old.example.org", "NEW_TOKEN": "new-secret-4"},
        "inis/atmosphere.ini": {"DATABASE_PASSWORD": "new-secret-5", "DATABASE_USER": "atmo_app"},
        "inis/troposphere.ini": {"SECRET_KEY": "same-secret-3"},
    }
    changes = key_changes(before, after)
    assert changes == {
        "added": ["env:NEW_TOKEN"],
        "removed": ["env:GONE_TOKEN"],
        "changed": ["inis/atmosphere.ini:DATABASE_PASSWORD"],
    }
    text = repr(changes)
    for value in ("secret", "old.example.org", "atmo_app"):
        assert value not in text


def test_key_changes_with_a_file_added_or_removed() -> None:
    changes = key_changes({"env": {"A": "1"}}, {"inis/atmosphere.ini": {"B": "2"}})
    assert changes == {"added": ["inis/atmosphere.ini:B"], "removed": ["env:A"], "changed": []}
    assert key_changes({}, {}) == {"added": [], "removed": [], "changed": []}


def test_a_multi_line_quoted_value_does_not_break_the_file() -> None:
    values = parse_env_file('A=1\nCERT="-----BEGIN\nabc\n-----END"\nB=2\n')
    assert values["A"] == "1" and values["B"] == "2"


@pytest.mark.parametrize(
    "text",
    ["DB_PASSWORD = hunter2\n[database]\nNAME = x\n", "[a]\nSECRET_KEY hunter2 no equals\n"],
)
def test_a_broken_ini_is_refused_without_quoting_its_lines(text: str) -> None:
    with pytest.raises(SettingsFileError) as error:
        parse_settings("inis/atmosphere.ini", text)
    assert "hunter2" not in str(error.value) and "inis/atmosphere.ini" in str(error.value)
