"""Production variables prepared: key names compared, never values (real git, no Docker)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from atmo_release.environment import EnvironmentFileError, load_environment
from atmo_release.redact import MASK
from atmo_release.target import LocalTarget
from atmo_release.weeks_before.production_variables import (
    ProductionVariablesError,
    ProductionVariablesSettings,
    changed_only_on_atmobeta,
    compare,
    missing_on_production,
    require_prepared,
)
from fixtures.options import ENVIRONMENTS
from rehearsal.production_variables import SecretsHistory

SETTINGS = ProductionVariablesSettings("prod", "production", ())
TO_CONFIRM = ["inis/atmosphere.ini:MAINTENANCE_EXEMPT_USERNAMES"]


def test_missing_or_empty_on_production_is_named() -> None:
    atmobeta = {"env:A": "1", "env:B": "2", "env:C": "3", "env:EMPTY": " ", "env:ONLY": "x"}
    production = {"env:A": "9", "env:B": "  ", "env:EMPTY": ""}
    assert missing_on_production(atmobeta, production, ("env:ONLY",)) == ["env:B", "env:C"]


def test_changed_on_atmobeta_alone() -> None:
    atmobeta_then = {"k:both": "1", "k:beta": "1", "k:removed": "1", "k:same": "1"}
    atmobeta_now = {"k:both": "2", "k:beta": "2", "k:added": "1", "k:same": "1"}
    production_then = {"k:both": "a", "k:beta": "a", "k:same": "a"}
    production_now = {"k:both": "b", "k:beta": "a", "k:same": "b"}
    found = changed_only_on_atmobeta(atmobeta_then, atmobeta_now, production_then, production_now)
    assert found == ["k:added", "k:beta", "k:removed"]


@pytest.fixture
def history(tmp_path: Path) -> Iterator[SecretsHistory]:
    made = SecretsHistory(root=tmp_path).up()
    yield made
    made.down()


def test_compare_reads_both_branches_since_the_production_record(history: SecretsHistory) -> None:
    target = LocalTarget()
    found = compare(target, history.secrets_dir, SETTINGS, "atmobeta", history.records)
    assert found.missing == [] and found.to_confirm == TO_CONFIRM
    assert found.since.described.startswith("the last production deployment (production-v37-5-")
    read = [v for k, v in history.secret_keys.items() if "jetstream" not in k]
    for value in [history.password, *read]:  # every secret of both branches, then and now
        assert target.redactor(f"<{value}>") == f"<{MASK}>"


def test_without_a_record_the_production_branch_dates_it(
    history: SecretsHistory, tmp_path: Path
) -> None:
    found = compare(LocalTarget(), history.secrets_dir, SETTINGS, "atmobeta", tmp_path / "none")
    assert found.since.described.startswith("the last commit of prod (no passed production")
    # prod's last commit is the newest: nothing on atmobeta is later, so nothing to confirm.
    assert found.to_confirm == []


def test_a_key_missing_on_production_is_refused_by_name(tmp_path: Path) -> None:
    history = SecretsHistory(root=tmp_path, fault="missing-prod-key").up()
    found = compare(LocalTarget(), history.secrets_dir, SETTINGS, "atmobeta", history.records)
    with pytest.raises(ProductionVariablesError) as error:
        require_prepared(found, "prod")
    assert "missing or empty on prod: inis/atmosphere.ini:ARGO_TOKEN;" in str(error.value)
    assert not [value for value in history.values if value in str(error.value)]


def test_a_broken_ini_is_named_without_its_lines(history: SecretsHistory) -> None:
    ini = history.secrets_dir / "inis" / "atmosphere.ini"
    ini.write_text(ini.read_text() + f"SECRET_KEY = {history.password}\n")
    git = ["git", "-C", str(history.secrets_dir), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "commit", "-qam", "duplicate key"], check=True)
    with pytest.raises(ProductionVariablesError) as error:
        compare(LocalTarget(), history.secrets_dir, SETTINGS, "atmobeta", history.records)
    assert "is not a valid ini file" in str(error.value)
    assert history.password not in str(error.value)


def test_a_failed_production_record_is_not_the_last_deployment(history: SecretsHistory) -> None:
    path = next(history.records.glob("*/record.json"))
    path.write_text(json.dumps({**json.loads(path.read_text()), "outcome": "halted"}))
    found = compare(LocalTarget(), history.secrets_dir, SETTINGS, "atmobeta", history.records)
    assert found.since.described.startswith("the last commit of prod")


def test_the_table_is_required_and_named() -> None:
    atmobeta = load_environment("atmobeta", ENVIRONMENTS)
    assert ProductionVariablesSettings.of(atmobeta) == SETTINGS
    with pytest.raises(EnvironmentFileError, match=r"missing table \[production_variables\]"):
        ProductionVariablesSettings.of(replace(atmobeta, extra={}))


def test_a_recorded_commit_unknown_here_is_said(history: SecretsHistory) -> None:
    path = next(history.records.glob("*/record.json"))
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "facts": {"secrets_commit": "f" * 40}}))
    found = compare(LocalTarget(), history.secrets_dir, SETTINGS, "atmobeta", history.records)
    assert found.since.described == (
        f"the last commit of prod ({path.parent.name}'s secrets commit ffffffffffff is not in "
        "this checkout)"
    )
