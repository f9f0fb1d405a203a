"""The runbook's pg_dumps, proven by restoring each into a throwaway server that stays up for
the migration rehearsal and, with an unmigrated copy, for the window (`window_copies`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from atmo_release.data import dumps, throwaway_copy, window_rows
from atmo_release.resources import Resource

if TYPE_CHECKING:
    from atmo_release.resources.run import Run


class ProvenDumps(Resource):
    def __init__(self, deployment: Run) -> None:
        super().__init__(deployment)
        self.copies: dict[str, throwaway_copy.ThrowawayCopy] = {}

    def dump(self) -> None:
        """pg_dump each database into the backup directory; a second dump the same day gets a
        new name, never the first one's."""
        for name in self.env.database.names:
            markers = self.db.markers(name)  # before the dump's snapshot: see read_stopped
            counts = dumps.row_counts(self.db, name)
            path = dumps.dump_name(
                dumps.kind_for(name), self.deployment.day, self.env.backup_dir, self.target.exists
            )
            result = dumps.dump(
                self.target, self.env.database, self.deployment.password, self.compose, name, path
            )
            after = dumps.row_counts(self.db, name)
            self.state.dumps[name] = {
                **result.as_record(),
                "counts": counts,
                "counts_after": after,
                "markers": markers.as_record(),
            }
            self.note(f"dumped {name} to {path} ({result.bytes} bytes in {result.seconds:.1f} s)")
        self.record.facts["dumps"] = self.state.dumps

    def check_restore(self) -> None:
        """Each dump restored into a throwaway server that stays up for the migrations, with an
        unmigrated copy beside: its rows are the dump file's, and the source's wherever nobody
        wrote during the dump."""
        for name, info in self.state.dumps.items():
            path = Path(info["path"])
            dumps.check_complete(self.target, path)
            in_file = window_rows.rows_in_dump(self.target, path)
            copy = self.open_copy(name, path)
            dumps.require_counts(path, in_file, copy.counts)
            still = {t: c for t, c in info["counts"].items() if info["counts_after"].get(t) == c}
            dumps.require_counts(path, still, {t: in_file.get(t, -1) for t in still})
            written = sorted(set(info["counts"]) - set(still))
            info["fingerprints"] = copy.fingerprints()
            # Statistics, as a restore leaves none: inside the window only the rows above an
            # id are read on the copy, which a planner without them reads by a full scan.
            copy.query("ANALYZE", 3600)
            copy.keep_unmigrated()
            info["verified"] = {
                "rows": sum(copy.counts.values()),
                "tables": len(copy.counts),
                "server_major": copy.server_major,
                "written_during_dump": written,
                "seconds": {k: round(v, 2) for k, v in copy.seconds.items()},
            }
            self.note(
                f"{path} restored {sum(copy.counts.values())} rows in {len(copy.counts)} tables, "
                "counts equal"
                + (f" (written while it was taken: {', '.join(written)})" if written else "")
            )
        self.record.facts["dumps"] = self.state.dumps

    def open_copy(self, name: str, path: Path) -> throwaway_copy.ThrowawayCopy:
        """A throwaway server holding the dump `path` of `name`, up until `close_copies()`."""
        copy = throwaway_copy.ThrowawayCopy(
            self.target,
            path,
            self.env.database.verify_image,
            self.env.database.user,
            self.record.run_id,
        )
        self.copies[name] = copy
        return copy.open(dumps.named_roles(self.db, name, self.env.database.user))

    def close_copies(self) -> None:
        while self.copies:
            _, copy = self.copies.popitem()
            copy.close()
