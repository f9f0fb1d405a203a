"""What a check says when it refuses: most unit tests compare the whole sentence."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from atmo_release.checks import CheckFailed


def refusal(action: Callable[[], object]) -> str:
    """The message of the CheckFailed that `action` raises (the test fails if it raises none)."""
    with pytest.raises(CheckFailed) as failed:
        action()
    return str(failed.value)
