"""The deploy host before anything runs: the environment file, Docker, the paths, room, clock."""

from __future__ import annotations

import json
import time

from atmo_release import compose_flavour
from atmo_release.checks import CheckFailed, require
from atmo_release.commands import docker, read
from atmo_release.environment import EnvironmentFileError, parse_environment
from atmo_release.resources import Resource


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
        """Room for the backups and dumps (estimated from the databases and the containers'
        own layers, plus the environment's margin) and a target clock that agrees with ours."""
        sizes = {
            name: int(self.db.scalar(name, f"SELECT pg_database_size('{name}')") or 0)
            for name in self.env.database.names
        }
        containers = self.deployment.containers.now()
        layers = 0
        if containers:
            inspected = self.run(
                docker.inspect_sizes([c.id for c in containers.values()]), "docker inspect --size"
            )
            layers = sum(int(item.get("SizeRw") or 0) for item in json.loads(inspected.stdout))
        margin = int(self.env.free_space_margin_mb * 2**20)
        needed = sum(sizes.values()) + layers + margin
        df = self.run(
            read(["df", "-P", "-B1", str(self.env.backup_dir)]), "df of the backup directory"
        )
        free = int(df.stdout.splitlines()[-1].split()[3])
        mib = 2**20
        self.record.facts["disk"] = {
            "free_bytes": free,
            "needed_bytes": needed,
            "databases_bytes": sizes,
            "container_layers_bytes": layers,
            "margin_bytes": margin,
        }
        require(
            free >= needed,
            f"not enough room in {self.env.backup_dir}: {free // mib} MiB free, "
            f"{needed // mib} MiB needed (databases {sum(sizes.values()) // mib} MiB, "
            f"container layers {layers // mib} MiB, margin {margin // mib} MiB); "
            "nothing was changed",
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
            f"{free // mib} MiB free for {needed // mib} MiB of backups and dumps; "
            f"clock skew {skew:.1f} s"
        )
