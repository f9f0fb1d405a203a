"""The memory of the rehearsal's PostgreSQL container during one bench measurement, read from
its cgroup and its processes (bench/fingerprints.py)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from rehearsal.database import MIB


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stat(path: Path) -> dict[str, int]:
    try:
        return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines())}
    except (OSError, ValueError):
        return {}


def _rss_anon_kib(pid: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class DatabaseMemory:
    """The PostgreSQL container's memory during one measurement: the cgroup's own peak (reset
    first when the kernel allows), and samples every `interval_s` of its anonymous memory and of
    the largest process; `docker stats` when no cgroup directory is readable."""

    def __init__(self, container_id: str, interval_s: float) -> None:
        self.container_id = container_id
        self.interval_s = interval_s
        candidates = [
            (Path(f"/sys/fs/cgroup/memory/docker/{container_id}"), "v1"),
            (Path(f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope"), "v2"),
            (Path(f"/sys/fs/cgroup/docker/{container_id}"), "v2"),
        ]
        self.cgroup, self.version = next(
            ((path, v) for path, v in candidates if path.is_dir()), (None, "docker stats")
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak: dict[str, float] = {}
        self.reset_ok = False

    def __enter__(self) -> DatabaseMemory:
        self.peak = {"anon_mib": 0.0, "largest_process_anon_mib": 0.0, "samples": 0}
        self.reset_ok = self._reset()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample_loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        if self.cgroup is not None:
            name = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
            value = _read_int(self.cgroup / name)
            if value is not None:
                self.peak["cgroup_peak_mib"] = round(value / MIB, 1)
        self.peak["cgroup_peak_reset"] = self.reset_ok

    def _reset(self) -> bool:
        if self.cgroup is None:
            return False
        name = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
        try:
            (self.cgroup / name).write_text("0\n")
            return True
        except OSError:
            return False

    def _sample_loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        self.peak["samples"] += 1
        if self.cgroup is None:
            self._sample_docker_stats()
            return
        stat = _stat(self.cgroup / "memory.stat")
        anon = stat.get("rss", stat.get("anon", 0))
        usage = _read_int(
            self.cgroup / ("memory.usage_in_bytes" if self.version == "v1" else "memory.current")
        )
        procs = (self.cgroup / "cgroup.procs").read_text().split()
        largest = max((_rss_anon_kib(pid) for pid in procs), default=0)
        self._keep("anon_mib", anon / MIB)
        self._keep("largest_process_anon_mib", largest / 1024)
        if usage is not None:
            self._keep("sampled_usage_mib", usage / MIB)

    def _sample_docker_stats(self) -> None:
        done = subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", self.container_id],
            capture_output=True,
            text=True,
            check=False,
        )
        used = done.stdout.split("/")[0].strip()
        units = {"KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0, "B": 1 / MIB}
        for unit, factor in units.items():
            if used.endswith(unit):
                try:
                    self._keep("docker_stats_mib", float(used[: -len(unit)]) * factor)
                except ValueError:
                    pass
                break

    def _keep(self, key: str, value: float) -> None:
        self.peak[key] = round(max(self.peak.get(key, 0.0), value), 1)


# -- one size ------------------------------------------------------------------------------------
