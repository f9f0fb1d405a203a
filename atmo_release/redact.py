"""Masks secret values wherever text leaves the process (records, reports, terminal)."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "********"
_MIN_LENGTH = 4


class Redactor:
    """Replaces every known secret value by a mask; values are added as they are discovered."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for value in secrets:
            value = value.strip()
            if len(value) >= _MIN_LENGTH:
                self._secrets.add(value)

    def __call__(self, text: str) -> str:
        for value in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text

    def argv(self, argv: Iterable[str]) -> list[str]:
        return [self(arg) for arg in argv]

    def __or__(self, other: Redactor) -> Redactor:
        """Both sets of secrets in one, so a secret inside another's is masked longest first."""
        return Redactor(self._secrets | other._secrets)

    def __len__(self) -> int:
        return len(self._secrets)
