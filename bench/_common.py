"""Shared helpers of the bench scripts: import path, timestamps, result files and tables."""

from __future__ import annotations

import json
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def stamp() -> str:
    """UTC timestamp for result file names, e.g. 20250101T120000Z."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def host_facts() -> dict[str, Any]:
    import os

    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_at_write": [round(x, 2) for x in os.getloadavg()],
        "utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write `data` to bench/results/<name>-<UTC stamp>.json and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}-{stamp()}.json"
    path.write_text(json.dumps({"bench": name, **host_facts(), **data}, indent=2) + "\n")
    return path


def summary(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 2),
        "median": round(statistics.median(values), 2),
        "max": round(max(values), 2),
    }


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "FAIL"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain fixed-width table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
