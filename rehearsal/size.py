"""The rehearsal's size knob (`--rehearsal-size`, `RehearsalStack(size_mb=...)`), parsed apart from
the stack so that option validation imports nothing of Docker."""

from __future__ import annotations

import math
import re

# MB and GB are binary here, as pg_database_size is read: 1GB = 1024 MiB.
UNITS_MB = {"m": 1, "mb": 1, "mib": 1, "g": 1024, "gb": 1024, "gib": 1024}
MAX_SIZE_MB = 64 * 1024
_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)")


class SizeError(ValueError):
    """A size that cannot be used; the message is one sentence naming the value."""


def parse_size_mb(text: str) -> int:
    """`1GB`, `1.5GiB`, `500MB`, `500M`, `0` -> whole MiB (rounded up); 0 keeps the small seed.

    A number other than 0 needs its unit, so that `500` is never read as the wrong one.
    """
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None:
        raise SizeError(
            f"{text!r} is not a size: give a number of MB or GB, like 500MB, 1.5GB or 0"
        )
    number, unit = float(match.group(1)), match.group(2)
    if unit and unit not in UNITS_MB:
        raise SizeError(f"{text!r} has the unknown unit {unit!r}: use MB or GB, like 500MB or 1GB")
    if not unit and number != 0:
        number_text = match.group(1)
        raise SizeError(f"{text!r} has no unit: write it as {number_text}MB or {number_text}GB")
    size_mb = math.ceil(number * UNITS_MB.get(unit, 1))
    if size_mb > MAX_SIZE_MB:
        raise SizeError(f"{text!r} is over the {MAX_SIZE_MB // 1024}GB the rehearsal can seed")
    return size_mb
