"""Reads of a file where it lives, by coreutils: a check on the target needs no local copy."""

from __future__ import annotations

from pathlib import Path

from atmo_release.commands import Read, like


def mode_and_size(path: Path | str) -> Read:
    """`<raw mode in hex> <bytes>` of the file (symlinks followed): the mode tells a regular
    file from a directory, in every locale (`%F` is translated)."""
    return Read(["stat", "-L", "-c", "%f %s", "--", str(path)])


def first_bytes(path: Path | str, count: int) -> Read:
    return Read(["head", "-c", str(count), "--", str(path)])


def last_bytes(path: Path | str, count: int) -> Read:
    return Read(["tail", "-c", str(count), "--", str(path)])


def fed_from(path: Path | str, argv: list[str]) -> list[str]:
    """`argv` reading the file `path` on its stdin, streamed where both are (nothing travels
    through the runner); it reads only when `argv` does."""
    return like(argv, ["sh", "-c", 'f=$1; shift; exec "$@" < "$f"', "sh", str(path), *argv])


def preceded_by(path: Path | str, argv: list[str]) -> list[str]:
    """`argv`'s stdout with the bytes of the file `path` before it (nothing of `argv` runs
    when the file cannot be read): two readings joined into one file as they are written."""
    script = 'f=$1; shift; cat -- "$f" || exit 66; exec "$@"'
    return like(argv, ["sh", "-c", script, "sh", str(path), *argv])


def line_count(path: Path | str) -> Read:
    return Read(["wc", "-l", "--", str(path)])
