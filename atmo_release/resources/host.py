"""The deploy host before anything runs: the environment file, Docker, the paths, room, clock."""

from __future__ import annotations

import json
import time
from pathlib import Path

from atmo_release.checks import CheckFailed, require
from atmo_release.commands import docker, read
from atmo_release.environment import EnvironmentFileError, parse_environment
from atmo_release.resources import Resource, compose_flavour, room
from atmo_release.resources.containers import Containers
from atmo_release.resources.room import MIB


class Host(Resource):
    def check_environment_file(self) -> None:
        """Read the file again: what runs is what it says now (an edit since start-up shows)."""
        try:
            again = parse_environment(self.env.path)
        except (OSError, EnvironmentFileError) as error:
            raise CheckFailed(str(error)) from error
        require(again == self.env, f"{self.env.path} changed since the run started: start again")
        self.note(f"environment {self.env.name} from {self.env.path}")

    def check_docker(self) -> None:
        """The engine answers, and so does the run's Compose, whose flavour and version the
        record names (its version line reads differently in v1 and v2)."""
        server = self.run(docker.info(), "docker info (is the Docker engine running?)")
        compose = self.run(self.compose.version(), f"{self.compose.name} version")
        chosen = compose_flavour.FROM_FILE if self.env.compose_command else compose_flavour.DETECTED
        flavour = compose_flavour.identify(self.compose.command, compose.stdout, chosen)
        self.record.facts["docker_server"] = server.stdout.strip()
        self.record.facts["compose_version"] = compose.stdout.strip().splitlines()[0]
        self.record.facts["compose"] = flavour.as_fact()
        self.note(f"Docker {server.stdout.strip()}, {flavour.describe()}")

    def check_files(self) -> None:
        require(
            self.target.exists(self.env.compose_path),
            f"compose file {self.env.compose_path} does not exist: check deploy.dir and "
            f"deploy.compose_file in {self.env.path}",
        )
        require(
            self.target.exists(self.env.secrets_dir / ".git"),
            f"secrets checkout {self.env.secrets_dir} is not a git checkout: clone "
            "atmosphere-docker-secrets there",
        )

    def check_room_and_clock(self) -> None:
        """Room, on every filesystem the run writes to, for the dumps, the throwaway copies and
        the backup images at their worst (atmo_release.resources.room), plus the environment's
        margin; and a target clock that agrees with ours."""
        sizes = {
            name: int(self.db.scalar(name, f"SELECT pg_database_size('{name}')") or 0)
            for name in self.env.database.names
        }
        containers = self.resource(Containers).now()
        layers = 0
        if containers:
            inspected = self.run(
                docker.inspect_sizes([c.id for c in containers.values()]), "docker inspect --size"
            )
            layers = sum(int(item.get("SizeRw") or 0) for item in json.loads(inspected.stdout))
        margin = int(self.env.free_space_margin_mb * MIB)
        docker_root = self.run(docker.root_dir(), "docker info").stdout.strip()
        paths = {room.BACKUPS: str(self.env.backup_dir), room.DOCKER: docker_root}
        postgres, postgres_said = self._postgres_data(docker_root)
        if postgres:
            paths[room.POSTGRES] = postgres
        checked = room.estimate(self._filesystems(paths), sum(sizes.values()), layers, margin)
        self.record.facts["disk"] = {
            "filesystems": [
                {"places": fs.places, "free_bytes": fs.free, "needs_bytes": fs.needs}
                for fs in checked
            ],
            "databases_bytes": sizes,
            "container_layers_bytes": layers,
            "margin_bytes": margin,
            "postgres_data": postgres_said,
        }
        for fs in checked:
            require(
                fs.free >= fs.needed,
                f"not enough room in {fs.where()}: {fs.free // MIB} MiB free, "
                f"{fs.needed // MIB} MiB needed ({fs.explain()}); nothing was changed",
            )
        clock = self.run(read(["date", "-u", "+%s"]), "date on the target")
        skew = abs(int(clock.stdout.strip()) - time.time())
        self.record.facts["clock_skew_s"] = round(skew, 1)
        require(
            skew < 300,
            f"the target's clock is {skew:.0f} s off this machine's: the "
            "maintenance title carries the date; fix the clock first",
        )
        self.note(
            "; ".join(
                f"{fs.where()}: {fs.free // MIB} MiB free for {fs.needed // MIB} MiB "
                f"({fs.explain()})"
                for fs in checked
            )
            + f"; {postgres_said}; clock skew {skew:.1f} s"
        )

    def _filesystems(self, paths: dict[str, str]) -> list[room.Filesystem]:
        """The places grouped by the filesystem they are on (its device), with its free bytes."""
        folders = list(paths.values())
        devices = self.run(
            read(["stat", "-L", "-c", "%d", "--", *folders]), "stat of the data folders"
        ).stdout.split()
        df = self.run(read(["df", "-P", "-B1", "--", *folders]), "df of the data folders")
        free = [int(line.split()[3]) for line in df.stdout.splitlines()[1:]]
        require(
            len(devices) == len(free) == len(folders),
            f"stat and df did not report each of {', '.join(folders)}",
        )
        return room.filesystems(
            paths, dict(zip(paths, devices, strict=True)), dict(zip(paths, free, strict=True))
        )

    def _postgres_data(self, docker_root: str) -> tuple[str, str]:
        """Where PostgreSQL keeps its data on the target, if it tells and the path is there,
        and what the record says about it."""
        if self.env.database.where == "service":
            return docker_root, "PostgreSQL's data is in a Docker volume of the compose project"
        name = self.env.database.names[0]
        try:
            path = self.db.scalar(name, "SHOW data_directory")
        except CheckFailed:
            return "", (
                f"PostgreSQL does not tell {self.env.database.user} where its data is (SHOW "
                "data_directory needs pg_read_all_settings): its growth is not counted"
            )
        if not path or not self.target.exists(Path(path)):
            return "", (
                f"PostgreSQL's data ({path}) is not on the deploy host's filesystems (the "
                "server runs elsewhere or in a container): its growth is not counted"
            )
        return path, f"PostgreSQL's data is in {path}"
