"""A pytest plugin for tests/test_first_deploy.py: exposes the run's secrets, injects one fault.

Loaded with `-p tests.rehearsal.first_deploy_probe` into a run of features/first_deploy.feature:
ATMO_TEST_SECRETS_FILE  where to write the database passwords (outside the reports)
ATMO_TEST_FAULT         `truncate-dump`: cut the atmo dump in half right after it is taken;
                        `delete-row`: delete an instance from the new database after the load
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

DUMPED = "both databases of the old production are dumped as their owner into the backup directory"
LOADED = "the dumps are loaded into the new database"


@pytest.hookimpl(trylast=True)
def pytest_bdd_after_step(request: pytest.FixtureRequest, step: Any, **_: Any) -> None:
    first = request.getfixturevalue("first_deploy_run")
    secrets_file = os.environ.get("ATMO_TEST_SECRETS_FILE")
    if secrets_file and not Path(secrets_file).exists():
        Path(secrets_file).write_text(f"{first.old_db_password}\n")
    fault = os.environ.get("ATMO_TEST_FAULT", "")
    if fault == "truncate-dump" and step.name == DUMPED:
        path = first.dumps["atmo_prod"]
        size = path.stat().st_size
        with path.open("r+b") as dump:
            dump.truncate(size // 2)
    if fault == "delete-row" and step.name == LOADED:
        first.new.db.query(
            "atmo_prod", "DELETE FROM core_instance WHERE id = (SELECT max(id) FROM core_instance)"
        )
