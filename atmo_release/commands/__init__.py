"""Pure argv builders: commands are data, compared exactly in tests and stored in the record.

Whether a command changes the deployment is decided here, where it is built: a builder of a
command that only reads returns a `Read`; every other argv counts as a change, so a plan, which
runs reads only, cannot run a change because someone forgot to say so.

Rule: builds argv and runs nothing. May import: the top of the package.
"""

from __future__ import annotations

from collections.abc import Iterable


class Read(list[str]):
    """An argv that leaves the deployment as it was: it reads, or touches only throwaway things
    (a plan runs it; a run records it as no change)."""


def read(argv: Iterable[str]) -> Read:
    return Read(argv)


def like(inner: Iterable[str], argv: Iterable[str]) -> list[str]:
    """`argv` wrapping `inner` (exec in a container) reads only when `inner` does."""
    return Read(argv) if isinstance(inner, Read) else list(argv)
