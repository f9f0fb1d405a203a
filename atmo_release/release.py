"""A release named the three ways the project spells it (runbook, git tag, Docker Hub tag)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERN = re.compile(r"^(?:release-)?v?(?P<major>\d+)-(?P<minor>\d+)$")
EXPECTED_FORM = "MAJOR-MINOR such as 37-3, v37-3 or release-v37-3"


class ReleaseError(ValueError):
    """A release name that is not one of the accepted spellings."""


@dataclass(frozen=True, order=True)
class Release:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Release:
        match = _PATTERN.match(text.strip())
        if not match:
            raise ReleaseError(f"release {text!r} is not of the form {EXPECTED_FORM}")
        return cls(int(match["major"]), int(match["minor"]))

    @classmethod
    def from_image_tag(cls, tag: str) -> Release | None:
        """The release of an image tag, or None for tags such as `latest`."""
        try:
            return cls.parse(tag)
        except ReleaseError:
            return None

    @property
    def name(self) -> str:
        return f"v{self.major}-{self.minor}"

    @property
    def git_tag(self) -> str:
        return self.name

    @property
    def image_tag(self) -> str:
        return f"release-{self.name}"

    def __str__(self) -> str:
        return self.name
