"""What a run has learnt and done: one typed object that the checks, the rollback, a resumed
run and the record's closing state all read, instead of fields scattered over the deployment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atmo_release.data.fingerprint import Fingerprints

# The record's fact key of each field a later run adopts when it resumes this one.
ADOPTED = {
    "previous_images": "previous_images",
    "versions_before": "versions_before",
    "snapshot_preflight": "snapshot_preflight",
    "snapshot_before": "snapshot_before",
    "markers_stopped": "markers_stopped",
    "rehearsed": "migration_rehearsal",
    "schema_before": "schema_before",
    "dumps": "dumps",
    "clock": "clock",
    "maintenance_ended": "maintenance_ended",
    "release_files": "release_files",
    "release_rows": "release_rows",
    "release_rows_stamped": "release_rows_stamped",
}


@dataclass
class State:
    # learnt before anything changes
    previous_images: dict[str, str] = field(default_factory=dict)
    versions_before: dict[str, dict[str, str]] = field(default_factory=dict)
    snapshot_preflight: dict[str, Fingerprints] = field(default_factory=dict)
    schema_before: dict[str, str] = field(default_factory=dict)
    dumps: dict[str, dict[str, Any]] = field(default_factory=dict)
    rehearsed: dict[str, dict[str, Any]] = field(default_factory=dict)
    pulled_in_preflight: set[str] = field(default_factory=set)
    # the digests of the compose text and `.env` compose's `config` read ahead in preflight
    # and found naming the release's images (`ComposeEdit.check_upstream_release_tags`)
    config_read_ahead: dict[str, str] = field(default_factory=dict)
    secrets_head_before: str = ""
    resumed_from: str = ""
    # read once the apps stopped: the "before" that counts, and when (the database's clock)
    snapshot_before: dict[str, Fingerprints] = field(default_factory=dict)
    # and the change markers read just before it (`change_markers.Markers.as_record`); the
    # tables they prove only had rows added since the proven dump (the dump's rows unchanged)
    markers_stopped: dict[str, dict[str, Any]] = field(default_factory=dict)
    grown_since_dump: dict[str, list[str]] = field(default_factory=dict)
    clock: dict[str, float] = field(default_factory=dict)
    # what the run changed, for where the stack was left
    maintenance_on: dict[str, bool] = field(default_factory=dict)
    # app -> when its maintenance end was first attempted: from then on users may be in and
    # write, so no automatic rollback restores data (a resumed run keeps knowing it).
    maintenance_ended: dict[str, str] = field(default_factory=dict)
    stopped: bool = False
    backups: dict[str, str] = field(default_factory=dict)
    checkout_saved: dict[str, str] = field(default_factory=dict)
    checkout_copies: dict[str, str] = field(default_factory=dict)
    compose_edited: bool = False
    new_release_up: bool = False
    rollback: dict[str, Any] = field(default_factory=dict)
    # what going back needs: the deploy checkout's commit and saved local changes and the
    # secrets branch before the release; per database, its rows as the upgrade left them (the
    # file, complete once maintenance ended), and inside the window those of the tables the
    # migrations stamp ("" when none does)
    release_files: dict[str, str] = field(default_factory=dict)
    release_rows: dict[str, str] = field(default_factory=dict)
    release_rows_stamped: dict[str, str] = field(default_factory=dict)
    # a rollback by hand: the way back rehearsed per database, today's rows once stopped
    way_back: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped_now: dict[str, Fingerprints] = field(default_factory=dict)

    def adopt(self, facts: dict[str, Any]) -> None:
        """Take over what an interrupted run recorded before it changed anything."""
        for name, key in ADOPTED.items():
            setattr(self, name, dict(facts.get(key) or {}))
