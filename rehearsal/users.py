"""What users do with a release once it serves: a sign-up, a launch, an ended allocation, a
changed preference. A rollback of the release must keep it (the schema of v37-3 and later)."""

from __future__ import annotations

from collections.abc import Callable

SIGNED_UP = "signed-up-after-release"
LAUNCHED = "launched-after-release"
WRITES_AFTER_RELEASE = [
    (
        "atmo_prod",
        "INSERT INTO core_atmosphereuser (username, email, is_staff) "
        f"VALUES ('{SIGNED_UP}', 'new@example.org', false)",
    ),
    (
        "atmo_prod",
        "INSERT INTO core_instance (name, owner_id, is_running, created_at) "
        f"SELECT '{LAUNCHED}', id, true, now() FROM core_atmosphereuser "
        f"WHERE username = '{SIGNED_UP}'",
    ),
    (
        "atmo_prod",
        "UPDATE core_allocation SET end_date = now() WHERE owner_id = "
        "(SELECT id FROM core_atmosphereuser WHERE username = 'user03')",  # open-ended until now
    ),
    (
        "troposphere",
        "UPDATE api_userpreferences SET hide_beta_interface = NOT hide_beta_interface "
        "WHERE username = 'user04'",
    ),
]


def use_the_release(execute: Callable[[str, str], object]) -> None:
    """`execute(database, sql)` each write, as users of the release would make them."""
    for database, sql in WRITES_AFTER_RELEASE:
        execute(database, sql)
