"""The rollback's restore at production sizes, both database layouts, against a bare psql.

    python bench/rollback_restore.py                        # --sizes 1024,5120
    python bench/rollback_restore.py --sizes 1024 --layouts host

For each size (MiB) one RehearsalStack(size_mb=size) is brought up (and always torn down) and
atmo_prod dumped once into its backup directory, as the proven dump is. Then per layout:

  host     the database on the host (the stack's PostgreSQL, reached over TCP by psql on the
           target, as the 2020 layout's host database);
  service  the database as a compose service (the 2019 file): a compose project of its own
           running the same PostgreSQL image, psql in it through `docker-compose exec -T`;

and in each, into a fresh empty database:

  bare     `psql --single-transaction -f <dump>` (service: the dump on the exec's stdin);
  restore  `Restores.restore(...)`, the rollback's restore: a job on the host under setsid with
           its status file beside the dump, fed the dump by `cat`, one transaction from the
           head's BEGIN to the tail's COMMIT, judged by txid_status.

Each measurement runs in a fresh worker process, so its peak RSS (RUSAGE_SELF) is its own: the
runner's memory. The host's processes are those whose command line names the measurement's own
database or the dump (psql, cat, sh, timeout, docker-compose, docker, and the psql inside the
service container): every 0.1 s the VmHWM of those alive is summed, the largest sum reported;
the database backend serving the load (`postgres: ... <database>`) is reported apart (its
VmHWM counts the shared buffers it touched). `--runs N` alternates the order of bare and restore.
Targets: restore seconds <= 1.5 x bare seconds; memory flat with size.
Writes bench/results/rollback_restore-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from _common import REPO, table, verdict, write_result

from atmo_release.data import dumps
from atmo_release.environment import Environment, parse_environment
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from rehearsal.database import DB_USER, MIB
from rehearsal.deploy_repos import NEW_RELEASE
from rehearsal.image_manifest import POSTGRES_IMAGE
from rehearsal.stack import RehearsalStack

TARGET_RATIO = 1.5
KINDS = ("bare", "restore")
SERVICE = "postgres"


def _deployment(env: Environment, reports: Path) -> Deployment:
    d = Deployment.create(env, Release.parse(NEW_RELEASE), "bench", "bench", reports)
    d.secrets.load()
    return d


def _service_env(env: Environment, compose_dir: Path, project: str) -> Environment:
    """The stack's environment with its database in a compose project of the bench's own."""
    database = replace(env.database, where="service", service=SERVICE)
    return replace(
        env,
        database=database,
        deploy_dir=compose_dir,
        compose_file="docker-compose.yml",
        project=project,
    )


def worker(kind: str, layout: str, env_file: Path, dump: Path, database: str) -> dict[str, Any]:
    """One measurement: a bare psql, or the rollback's restore, into `database`."""
    env = parse_environment(env_file)
    if layout == "service":
        spec = json.loads(os.environ["BENCH_SERVICE"])
        env = _service_env(env, Path(spec["dir"]), spec["project"])
    with tempfile.TemporaryDirectory(prefix="bench-restore-") as tmp:
        d = _deployment(env, Path(tmp) / "run")
        started = time.monotonic()
        if kind == "restore":
            d.restores.restore(database, dump)
        else:
            config = env.database
            psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
            if layout == "host":
                argv = [*psql, "-h", config.host, "-p", str(config.port), "-U", config.user]
                argv += ["-d", database, "-f", str(dump)]
                stdin = None
            else:
                argv = d.compose.exec_(
                    SERVICE, [*psql, "-U", config.user, "-d", database, "-f", "-"]
                )
                stdin = dump.open("rb")
            done = subprocess.run(
                argv,
                stdin=stdin,
                capture_output=True,
                env={**os.environ, "PGPASSWORD": d.password},
                check=False,
            )
            if done.returncode:
                raise RuntimeError(done.stderr.decode(errors="replace")[-500:])
        seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 2),
        "runner_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


class HostPeak:
    """The peak, over samples, of the summed VmHWM of the live processes whose command line
    holds a marker: the clients apart from the database backend (`postgres`)."""

    def __init__(self, markers: list[str], interval_s: float = 0.1) -> None:
        self.markers = [marker.encode() for marker in markers]
        self.interval_s = interval_s
        self.peak_kib = {"clients": 0, "backend": 0}
        self.names: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> HostPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def mib(self, kind: str) -> float:
        return round(self.peak_kib[kind] / 1024, 1)

    def _loop(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(self.interval_s):
            now = {"clients": 0, "backend": 0}
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit() or entry.name == me:
                    continue
                try:
                    cmdline = (entry / "cmdline").read_bytes()
                    if not any(marker in cmdline for marker in self.markers):
                        continue
                    status = (entry / "status").read_text().splitlines()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status if ":" in line)
                name = fields.get("Name", "?").strip()
                if "python" in name:  # the worker: the runner's figure
                    continue
                self.names.add(name)
                kind = "backend" if name == "postgres" else "clients"
                now[kind] += int(fields.get("VmHWM", "0 kB").split()[0])
            for kind, kib in now.items():
                self.peak_kib[kind] = max(self.peak_kib[kind], kib)


def measure(
    kind: str, layout: str, env_file: Path, dump: Path, database: str, service: dict[str, str]
) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--worker", kind, layout, str(env_file), str(dump), database]
    with HostPeak([database, str(dump)]) as peak:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "BENCH_SERVICE": json.dumps(service)},
            check=False,
        )
    if done.returncode:
        return {"error": (done.stderr or done.stdout)[-800:]}
    return {
        **json.loads(done.stdout.splitlines()[-1]),
        "host_mib": peak.mib("clients"),
        "backend_mib": peak.mib("backend"),
        "host_processes": sorted(peak.names),
    }


def _compose_project(root: Path, stack: RehearsalStack) -> dict[str, str]:
    project = f"bench-restore-{stack.run_id}"
    labels = "".join(f"      {key}: '{value}'\n" for key, value in stack.labels.items())
    (root / "docker-compose.yml").write_text(
        "version: '3'\nservices:\n"
        f"  {SERVICE}:\n    image: '{POSTGRES_IMAGE}'\n    command: ['postgres']\n"
        f"    shm_size: '1g'\n    environment:\n      POSTGRES_USER: '{DB_USER}'\n"
        f"      POSTGRES_PASSWORD: '{stack.password}'\n      POSTGRES_DB: 'postgres'\n"
        f"    labels:\n{labels}"
    )
    compose = ["docker-compose", "-f", str(root / "docker-compose.yml"), "-p", project]
    subprocess.run([*compose, "up", "-d"], check=True, capture_output=True)
    deadline = time.monotonic() + 120
    ready = [*compose, "exec", "-T", SERVICE, "pg_isready", "-h", "127.0.0.1", "-U", DB_USER]
    while subprocess.run(ready, capture_output=True, check=False).returncode:
        if time.monotonic() > deadline:
            raise RuntimeError("the compose project's PostgreSQL did not start")
        time.sleep(1)
    return {"dir": str(root), "project": project, "compose": json.dumps(compose)}


def _createdb(stack: RehearsalStack, layout: str, service: dict[str, str], name: str) -> None:
    sql = f"CREATE DATABASE {name} OWNER {DB_USER}"
    if layout == "host":
        stack.psql("postgres", sql)
        return
    compose = json.loads(service["compose"])
    psql = ["psql", "-X", "-q", "-U", DB_USER, "-d", "postgres", "-c", sql]
    subprocess.run([*compose, "exec", "-T", SERVICE, *psql], check=True, capture_output=True)


def _dropdb(stack: RehearsalStack, layout: str, service: dict[str, str], name: str) -> None:
    sql = f"DROP DATABASE IF EXISTS {name}"
    if layout == "host":
        stack.psql("postgres", sql, timeout=600)
        return
    compose = json.loads(service["compose"])
    psql = ["psql", "-X", "-q", "-U", DB_USER, "-d", "postgres", "-c", sql]
    subprocess.run([*compose, "exec", "-T", SERVICE, *psql], check=True, capture_output=True)


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median seconds (any failed run is the result)."""
    failed = [run for run in runs if "error" in run]
    if failed:
        return failed[0]
    return sorted(runs, key=lambda run: run["seconds"])[(len(runs) - 1) // 2]


def run_size(size: int, layouts: list[str], repeat: int, log: Any) -> dict[str, Any]:
    stack = RehearsalStack(log=lambda line: None, size_mb=size)
    root = Path(tempfile.mkdtemp(prefix="bench-restore-compose-"))
    service: dict[str, str] = {}
    result: dict[str, Any] = {"size_mb": size, "layouts": {}}
    try:
        started = time.monotonic()
        stack.up()
        result["up_s"] = round(time.monotonic() - started, 1)
        result["database_mib"] = round(stack.database_size() / MIB, 1)
        env = parse_environment(stack.env_file)
        d = _deployment(env, root / "dump-run")
        path = dumps.dump_name("atmo", d.day, env.backup_dir, d.target.exists)
        dumped = dumps.dump(d.target, env.database, d.password, d.compose, "atmo_prod", path)
        d.target.close()
        result["dump_mib"] = round(dumped.bytes / MIB, 1)
        result["dump_s"] = round(dumped.seconds, 1)
        log(f"{size} MiB: dump {result['dump_mib']} MiB in {result['dump_s']} s")
        if "service" in layouts:
            service = _compose_project(root, stack)
        for layout in layouts:
            runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
            for run in range(repeat):
                for kind in KINDS if run % 2 == 0 else tuple(reversed(KINDS)):
                    name = f"bench_{kind}_{layout}_{run}"
                    _createdb(stack, layout, service, name)
                    runs[kind].append(measure(kind, layout, stack.env_file, path, name, service))
                    _dropdb(stack, layout, service, name)
                    log(f"{size} MiB {layout} {kind}: {runs[kind][-1]}")
            result["layouts"][layout] = {kind: _median(found) for kind, found in runs.items()}
            result["layouts"][layout]["runs"] = runs
    finally:
        if service:
            compose = json.loads(service["compose"])
            subprocess.run([*compose, "down", "-v"], capture_output=True, check=False)
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, layout, env_file, dump, database = sys.argv[2:7]
        print(json.dumps(worker(kind, layout, Path(env_file), Path(dump), database)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024,5120", help="MiB, comma separated")
    parser.add_argument("--layouts", default="host,service")
    parser.add_argument("--runs", type=int, default=1, help="measurements of each, alternated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    layouts = args.layouts.split(",")
    results = [
        run_size(size, layouts, args.runs, lambda line: print(line, flush=True)) for size in sizes
    ]
    rows, failed = [], False
    for result in results:
        for layout, figures in result["layouts"].items():
            bare, ours = figures["bare"], figures["restore"]
            if "error" in bare or "error" in ours:
                failed = True
                error = str(bare.get("error") or ours.get("error"))
                rows.append([result["size_mb"], layout, "error", error[:80]])
                continue
            ratio = ours["seconds"] / bare["seconds"]
            failed |= ratio > TARGET_RATIO
            rows.append([
                result["size_mb"], layout, result["dump_mib"], bare["seconds"], ours["seconds"],
                f"{ratio:.2f} {verdict(ratio, TARGET_RATIO)}", bare["runner_mib"],
                ours["runner_mib"], bare["host_mib"], ours["host_mib"], bare["backend_mib"],
                ours["backend_mib"],
            ])  # fmt: skip
    headers = ["size MiB", "layout", "dump MiB", "bare s", "restore s", "ratio", "runner MiB bare",
               "runner MiB restore", "host MiB bare", "host MiB restore", "backend MiB bare",
               "backend MiB restore"]  # fmt: skip
    print(table(headers, rows))
    print(f"written: {write_result('rollback_restore', {'results': results})}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
