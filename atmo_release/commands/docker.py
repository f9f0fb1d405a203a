"""docker command lines; containers are found by compose labels, never by guessed names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from atmo_release.commands import Read, like

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
BACKUP_FROM_LABEL = "org.cyverse.atmo-release.backup-of-image"
BACKUP_LABEL = "org.cyverse.atmo-release"


def info() -> Read:
    return Read(["docker", "info", "--format", "{{.ServerVersion}}"])


def root_dir() -> Read:
    """Where the engine keeps images, containers and volumes (the throwaway copies' too)."""
    return Read(["docker", "info", "--format", "{{.DockerRootDir}}"])


def running_container(project: str, service: str) -> Read:
    """The name of the running container of one compose service, found as `docker-compose
    exec` finds it, without Compose's own start-up (half a second of v1's Python per command).
    The name, not the id: `up -d` gives the new container the old one's name, so a plan lists
    the command the run sends."""
    return Read(
        [
            "docker",
            "ps",
            "--filter",
            f"label={PROJECT_LABEL}={project}",
            "--filter",
            f"label={SERVICE_LABEL}={service}",
            "--format",
            "{{.Names}}",
        ]
    )


def project_containers(project: str) -> Read:
    return Read(
        [
            "docker",
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            f"label={PROJECT_LABEL}={project}",
        ]
    )


def labelled_containers(label: str, value: str) -> Read:
    return Read(["docker", "ps", "-a", "-q", "--no-trunc", "--filter", f"label={label}={value}"])


def labelled_networks(label: str, value: str) -> Read:
    return Read(["docker", "network", "ls", "-q", "--filter", f"label={label}={value}"])


def inspect(ids: Sequence[str]) -> Read:
    return Read(["docker", "inspect", *ids])


def inspect_sizes(ids: Sequence[str]) -> Read:
    return Read(["docker", "inspect", "--size", *ids])


def image_inspect(reference: str) -> Read:
    return Read(["docker", "image", "inspect", reference])


def host_config(container: str) -> Read:
    """The container's HostConfig as JSON: its network and extra hosts, as compose set them."""
    return Read(["docker", "inspect", "--format", "{{json .HostConfig}}", container])


def tag(source: str, reference: str) -> list[str]:
    return ["docker", "tag", source, reference]


def pull(reference: str) -> list[str]:
    return ["docker", "pull", reference]


def image_volumes(reference: str) -> Read:
    """The image's declared volumes as a JSON object (`null` when it declares none)."""
    return Read(["docker", "image", "inspect", "--format", "{{json .Config.Volumes}}", reference])


def pull_throwaway(reference: str) -> Read:
    """The pull of an image that only throwaway containers run: no deployment changes."""
    return Read(pull(reference))


def commit(container: str, image: str, labels: dict[str, str]) -> list[str]:
    changes = [
        item for key in sorted(labels) for item in ("--change", f"LABEL {key}={labels[key]}")
    ]
    return ["docker", "commit", *changes, container, image]


def exec_(
    container: str,
    argv: Sequence[str],
    *,
    user: str | None = None,
    stdin: bool = False,
    env: Iterable[str] = (),
) -> list[str]:
    """`docker exec`; with `stdin`, what the docker client reads goes to `argv` (`-i`). `env`
    are names only: each value comes from the docker client's own environment (give it to the
    target's run), so a value never sits in argv."""
    flags = [*(["-u", user] if user else []), *(["-i"] if stdin else [])]
    flags += [item for name in sorted(env) for item in ("-e", name)]
    return like(argv, ["docker", "exec", *flags, container, *argv])


def exec_throwaway(
    container: str,
    argv: Sequence[str],
    timeout: float,
    *,
    stdin: bool = False,
    env: Iterable[str] = (),
) -> Read:
    """`argv` as root in a throwaway container (root reads any mounted file), killed inside
    the container after `timeout` seconds (exit 124): whatever it does, it does it there."""
    return Read(
        exec_(container, ["timeout", str(int(timeout)), *argv], user="root", stdin=stdin, env=env)
    )


def wait(container: str) -> Read:
    """Blocks until the container exits; prints its exit code."""
    return Read(["docker", "wait", container])


def logs(container: str, since: str | None = None, *, tail: int | None = None) -> Read:
    """The container's log since a time, or its last `tail` lines."""
    flags = [*(["--since", since] if since else []), *(["--tail", str(tail)] if tail else [])]
    return Read(["docker", "logs", *flags, container])


def state(container: str) -> Read:
    """`created`, `running`, `exited`...: whether a container is still there to answer."""
    return Read(["docker", "inspect", "--format", "{{.State.Status}}", container])


# A throwaway container's CPU weight, an eighth of the default (1024): the copies and their
# migrations run beside the live apps (inside the window, beside their start) and take only
# the CPU those leave idle.
_YIELDING = ("--cpu-shares", "128")


def run_once(
    image: str,
    argv: Sequence[str],
    *,
    entrypoint: str,
    network: str,
    mounts: dict[str, str],
    labels: dict[str, str],
    detach: bool = False,
) -> list[str]:
    """`docker run --rm` of one command; bind mounts are read-only. Detached, it prints the
    container's id and stays after it exits, for `wait` and `logs`, until removed."""
    return [
        "docker",
        "run",
        "-d" if detach else "--rm",
        *_labels(labels),
        *_YIELDING,
        "--network",
        network,
        *_read_only(mounts),
        "--entrypoint",
        entrypoint,
        image,
        *argv,
    ]


def create_throwaway(
    image: str,
    argv: Sequence[str],
    *,
    labels: Mapping[str, str],
    env: Mapping[str, str | None],
    mounts: Mapping[str, str],
    volumes: Sequence[str],
    network: tuple[str, str] | None = None,
) -> Read:
    """`docker create` of a labelled throwaway container, started by `start_throwaway`: its id
    is known before it starts, so a failed start still leaves nothing behind once removed.

    `env` values of None are taken from the docker client's environment (a secret never in
    argv); bind mounts are read-only; each path of `volumes` gets an anonymous volume carrying
    `labels`, so a volume is found by the run label like its container; `network` is (name,
    alias): the network it joins and the name others there reach it by."""
    volume_labels = "".join(f",volume-label={key}={labels[key]}" for key in sorted(labels))
    joins = ["--network", network[0], "--network-alias", network[1]] if network else []
    return Read(
        [
            "docker",
            "create",
            *_labels(labels),
            *_YIELDING,
            *joins,
            *(
                item
                for key in sorted(env)
                for item in ("-e", key if env[key] is None else f"{key}={env[key]}")
            ),
            *_read_only(mounts),
            *(
                item
                for path in volumes
                for item in ("--mount", f"type=volume,dst={path}{volume_labels}")
            ),
            image,
            *argv,
        ]
    )


# `--internal` alone keeps traffic from leaving through the host, but the host's own addresses
# still answer on the bridge's gateway (that traffic is the host's input, never forwarded, so
# Docker's rules do not see it): a PostgreSQL on the host listening beyond localhost would be
# reached. Without an address on the bridge, the host has nothing there to be reached by.
_NO_HOST_ADDRESS = "com.docker.network.bridge.inhibit_ipv4=true"


def create_internal_network(name: str, labels: Mapping[str, str]) -> Read:
    """A labelled network with no route out: what joins it reaches only what else joined it,
    never the host or another network."""
    return Read(
        [
            "docker",
            "network",
            "create",
            "--internal",
            "-o",
            _NO_HOST_ADDRESS,
            *_labels(labels),
            name,
        ]
    )


def remove_network(name: str) -> Read:
    return Read(["docker", "network", "rm", name])


def start_throwaway(container: str) -> Read:
    return Read(["docker", "start", container])


def remove_throwaway(container: str) -> Read:
    """Removed even while running, with its anonymous volumes (`-v`): nothing of it stays."""
    return Read(["docker", "rm", "-f", "-v", container])


def _labels(labels: Mapping[str, str]) -> list[str]:
    return [item for key in sorted(labels) for item in ("--label", f"{key}={labels[key]}")]


def _read_only(mounts: Mapping[str, str]) -> list[str]:
    return [item for source, dest in mounts.items() for item in ("-v", f"{source}:{dest}:ro")]
