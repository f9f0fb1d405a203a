"""Attestations: what only a person can confirm (a wiki banner, a calendar entry), recorded.

Why explicit: a checklist item nobody can check by machine must name who confirmed it and when,
and a missing one must stop the run rather than pass silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from atmo_release.record.run_record import utc_now


class AttestationMissing(ValueError):
    """A thing to confirm that nobody confirmed; the message says how to give it."""


@dataclass(frozen=True)
class Attestation:
    what: str
    who: str
    when: str


def parse(values: list[str]) -> dict[str, Attestation]:
    """`["banner=Ada", "calendar=Bo"]` -> attestations stamped now; rejects a malformed one."""
    found: dict[str, Attestation] = {}
    now = utc_now()
    for value in values:
        what, sep, who = value.partition("=")
        if not sep or not what.strip() or not who.strip():
            raise AttestationMissing(f"--attest {value!r} is not of the form WHAT=NAME")
        found[what.strip()] = Attestation(what.strip(), who.strip(), now)
    return found


def require(attestations: dict[str, Attestation], what: str, meaning: str) -> Attestation:
    if what not in attestations:
        raise AttestationMissing(
            f"nobody attested {meaning}: confirm it, then run again with --attest {what}=NAME"
        )
    return attestations[what]
