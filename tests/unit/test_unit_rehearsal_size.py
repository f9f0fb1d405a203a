"""The rehearsal's size knob: `--rehearsal-size` parsed into MiB, bad values refused in one
sentence at configure time, before any action. No Docker."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from fixtures.options import validate
from rehearsal.size import MAX_SIZE_MB, SizeError, parse_size_mb
from rehearsal.stack import RehearsalStack


@pytest.mark.parametrize(
    ("text", "mib"),
    [
        ("0", 0),
        ("0MB", 0),
        ("1GB", 1024),
        ("1gb", 1024),
        ("1G", 1024),
        ("1GiB", 1024),
        ("500MB", 500),
        ("500M", 500),
        ("500 MiB", 500),
        (" 2GB ", 2048),
        ("1.5GB", 1536),
        (".5GB", 512),
        ("0.1MB", 1),  # rounded up: never smaller than asked
        ("64GB", MAX_SIZE_MB),
    ],
)
def test_sizes_in_mib(text: str, mib: int) -> None:
    assert parse_size_mb(text) == mib


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is not a size"),
        ("GB", "is not a size"),
        ("-1GB", "is not a size"),
        ("1e3MB", "is not a size"),
        ("1,5GB", "is not a size"),
        ("1GB 2MB", "is not a size"),
        ("500", "has no unit: write it as 500MB or 500GB"),
        ("1TB", "unknown unit 'tb'"),
        ("1KB", "unknown unit 'kb'"),
        ("65GB", "over the 64GB"),
    ],
)
def test_bad_sizes_refused_in_one_sentence(text: str, says: str) -> None:
    with pytest.raises(SizeError, match=says) as refused:
        parse_size_mb(text)
    message = str(refused.value)
    assert repr(text) in message and "\n" not in message


def config(**options: object) -> SimpleNamespace:
    """Just enough of a pytest.Config for `validate`: no feature path, so no Docker probe."""
    values: dict[str, object] = {
        "env": "rehearsal",
        "release": None,
        "to": None,
        "target": None,
        "rehearsal": "stack",
        "crew_chief": None,
        "driver": None,
        "rehearsal_size": "0",
        "compose": None,
        "discard_writes_since_release": None,
        "records_dir": "reports",
        **options,
    }
    return SimpleNamespace(
        getoption=values.__getitem__, args=[], option=SimpleNamespace(xmlpath=None)
    )


def test_the_option_reaches_the_run_options() -> None:
    assert validate(config()).rehearsal_size_mb == 0  # type: ignore[arg-type]
    assert validate(config(rehearsal_size="1GB")).rehearsal_size_mb == 1024  # type: ignore[arg-type]


def test_a_bad_option_is_a_usage_error_naming_the_option() -> None:
    with pytest.raises(pytest.UsageError, match=r"^--rehearsal-size: '1 TB' has the unknown"):
        validate(config(rehearsal_size="1 TB"))  # type: ignore[arg-type]


def test_the_size_is_refused_for_a_real_environment() -> None:
    environment = Path(__file__).resolve().parents[2] / "environments" / "atmobeta.toml"
    options = {"env": str(environment), "release": "v37-3", "rehearsal_size": "1GB"}
    with pytest.raises(pytest.UsageError, match="sizes the throwaway rehearsal stack only"):
        validate(config(**options))  # type: ignore[arg-type]


def test_a_negative_size_is_refused_by_the_stack(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="size_mb must be 0 or more"):
        RehearsalStack(log=lambda line: None, root=tmp_path, size_mb=-1)
