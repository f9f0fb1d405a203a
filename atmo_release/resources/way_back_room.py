"""Room for rehearsing the way back on a copy of today's data, asked before maintenance."""

from __future__ import annotations

from atmo_release.checks import require
from atmo_release.commands import docker, read
from atmo_release.resources import Resource


class WayBackRoom(Resource):
    def check(self) -> None:
        """Room for what the rehearsal makes: the fresh dumps in the backup directory and their
        restored copies where Docker keeps its volumes (twice the data: indexes, WAL)."""
        size = sum(
            int(self.db.scalar(name, f"SELECT pg_database_size('{name}')") or 0)
            for name in self.env.database.names
        )
        root = self.run(docker.root_dir(), "docker info").stdout.strip()
        df = self.run(
            read(["df", "-P", "-B1", str(self.env.backup_dir), root]),
            "df of the backups and Docker",
        ).stdout.splitlines()[1:]
        (dump_fs, _, _, dump_free, *_), (copy_fs, _, _, copy_free, *_) = (
            line.split() for line in df
        )
        margin = int(self.env.free_space_margin_mb * 2**20)
        needs = {dump_fs: size + margin}
        needs[copy_fs] = needs.get(copy_fs, margin) + 2 * size
        free = {dump_fs: int(dump_free), copy_fs: int(copy_free)}
        mib = 2**20
        short = [
            f"{fs}: {free[fs] // mib} MiB free, {need // mib} MiB needed"
            for fs, need in needs.items()
            if free[fs] < need
        ]
        self.record.facts["way_back_room"] = {"databases_bytes": size, "free": free, "needs": needs}
        require(
            not short,
            f"not enough room to rehearse the way back on a copy of today's data (databases "
            f"{size // mib} MiB; dumps in {self.env.backup_dir}, copies in {root}): "
            f"{'; '.join(short)}; nothing was changed",
        )
        self.note(
            "room for the fresh dumps and their copies: "
            + ", ".join(f"{fs} {free[fs] // mib} MiB free" for fs in free)
        )
