"""Reads of a file where it lives, by coreutils: a check on the target needs no local copy."""

from __future__ import annotations

from pathlib import Path

from atmo_release.commands import Read


def mode_and_size(path: Path | str) -> Read:
    """`<raw mode in hex> <bytes>` of the file (symlinks followed): the mode tells a regular
    file from a directory, in every locale (`%F` is translated)."""
    return Read(["stat", "-L", "-c", "%f %s", "--", str(path)])


def first_bytes(path: Path | str, count: int) -> Read:
    return Read(["head", "-c", str(count), "--", str(path)])


def last_bytes(path: Path | str, count: int) -> Read:
    return Read(["tail", "-c", str(count), "--", str(path)])
