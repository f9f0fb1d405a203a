"""Earlier release records (`<records dir>/<run>/record.json`): the memory later runs consult."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_records(records_dir: Path, env: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every readable deployment record of `env`, newest first; unreadable ones are skipped."""
    found: list[tuple[str, Path, dict[str, Any]]] = []
    for path in records_dir.glob("*/record.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("env") == env:
            found.append((str(data.get("started", "")), path, data))
    for _, path, data in sorted(found, key=lambda item: item[0], reverse=True):
        yield path, data


def facts(record: dict[str, Any]) -> dict[str, Any]:
    value = record.get("facts")
    return value if isinstance(value, dict) else {}


def last_passed(records_dir: Path, env: str, fact: str) -> tuple[Path, dict[str, Any]] | None:
    """The newest passed deployment record of `env` that holds `fact`."""
    return next(
        (
            (path, data)
            for path, data in read_records(records_dir, env)
            if data.get("outcome") == "passed" and facts(data).get(fact)
        ),
        None,
    )
