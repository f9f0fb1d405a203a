"""Time and memory of fingerprinting every table of a production-sized atmo_prod.

    python bench/fingerprints.py                      # --sizes 1024,5120 --runs 2
    python bench/fingerprints.py --sizes 1024 --runs 3

For each size (MiB) a RehearsalStack(size_mb=size) is brought up (and always torn down), then
on atmo_prod, alternately, `--runs` times each:
  baseline     a query that reads every value once, per table of the public schema:
               SELECT sum(length(t::text)) FROM <table> t, through DatabaseClient.query (psql)
  fingerprint  DatabaseClient.fingerprints("atmo_prod") (atmo_release/data/fingerprint.py)
both through a Deployment built from the stack's environment after load_secrets(), as the suite
does. Each measurement runs in a fresh worker process, so that its peak RSS (RUSAGE_SELF) belongs
to that measurement alone; the psql clients' peak is their VmHWM, sampled every 0.05 s (their
RUSAGE_CHILDREN figure carries the forking Python's RSS over exec). The database's memory
is read from the PostgreSQL container's cgroup (v1: memory.max_usage_in_bytes reset before each
measurement; v2: memory.peak), and sampled during the measurement: the container's anonymous
memory (memory.stat rss) and the largest RssAnon of one of its processes (a backend). The cgroup
peak includes the page cache charged to the container (the table files read), so it grows with
the data; the anonymous figures are the ones that must stay flat.
Target: median fingerprint seconds <= 2 x median baseline seconds, at every size.
Writes bench/results/fingerprints-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import REPO, table, verdict, write_result
from database_memory import DatabaseMemory

from atmo_release.data.fingerprint import TABLES_SQL, quote, timeout_for
from atmo_release.environment import parse_environment
from atmo_release.release import Release
from atmo_release.release_day.deployment import Deployment
from atmo_release.target import Result
from rehearsal.database import MIB
from rehearsal.deploy_repos import NEW_RELEASE
from rehearsal.stack import RehearsalStack

TARGET_RATIO = 2.0
DATABASE = "atmo_prod"
KINDS = ("baseline", "fingerprint")


# -- the worker: one measurement in its own process ------------------------------------------------


def _vm_hwm_kib(pid: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class ChildPeak:
    """The largest peak RSS (VmHWM) of this process's running children (psql), sampled every
    `interval_s`. RUSAGE_CHILDREN cannot tell it: Linux carries the forking Python's RSS over
    into the child's ru_maxrss across exec."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            children: list[str] = []
            for task in Path("/proc/self/task").iterdir():
                try:
                    children += (task / "children").read_text().split()
                except OSError:
                    pass
            for pid in children:
                try:  # a child not yet exec'ed shares the forking Python's pages
                    if Path(f"/proc/{pid}/comm").read_text().strip() != "psql":
                        continue
                except OSError:
                    continue
                self.peak_kib = max(self.peak_kib, _vm_hwm_kib(pid))


def worker(kind: str, env_file: Path) -> dict[str, Any]:
    """Build the deployment, learn the password, then time one fingerprint or one baseline."""
    with tempfile.TemporaryDirectory(prefix="bench-fingerprints-") as tmp:
        d = Deployment.create(
            parse_environment(env_file),
            Release.parse(NEW_RELEASE),
            "bench crew chief",
            "bench driver",
            Path(tmp) / "rehearsal-run",
        )
        d.secrets.load()
        commands: list[Result] = []
        d.target.listeners.append(lambda result, redactor: commands.append(result))
        commands.clear()
        psql_peak = ChildPeak()
        started = time.monotonic()
        with psql_peak:
            read, tables, seconds = _measure(d, kind, started)
    per_table: dict[str, float] = {}
    for result in commands:
        sql = result.argv[-1]
        for name in tables:
            if f"FROM public.{quote(name)} t" in sql:
                per_table[name] = round(result.seconds, 2)
    return {
        "kind": kind,
        "seconds": round(seconds, 2),
        "psql_commands": len(commands),
        "tables": tables,
        "table_seconds": per_table,
        "chars_read": read,
        "runner_self_maxrss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "runner_psql_peak_mib": round(psql_peak.peak_kib / 1024, 1),
        "rusage_children_maxrss_mib": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
    }


def _measure(d: Deployment, kind: str, started: float) -> tuple[int | None, dict[str, Any], float]:
    """(characters read or None, per-table figures, seconds since `started`)."""
    if kind == "fingerprint":
        fingerprints = d.db.fingerprints(DATABASE)
        seconds = time.monotonic() - started
        tables = {t: {"rows": v["count"], "bytes": v["bytes"]} for t, v in fingerprints.items()}
        return None, tables, seconds
    sizes = {r[0]: int(r[1]) for r in d.db.query(DATABASE, TABLES_SQL, 60)}
    read = 0
    tables = {}
    for name, size in sorted(sizes.items()):
        sql = f"SELECT coalesce(sum(length(t::text)), 0) FROM public.{quote(name)} t"
        chars = int(d.db.query(DATABASE, sql, timeout_for(size))[0][0])
        read += chars
        tables[name] = {"chars": chars, "bytes": size}
    return read, tables, time.monotonic() - started


def measure(kind: str, env_file: Path, memory: DatabaseMemory) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--env-file"]
    with memory:
        done = subprocess.run(
            [*argv, str(env_file)], capture_output=True, text=True, check=False, cwd=REPO
        )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed: {(done.stderr or done.stdout)[-1500:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["database_memory"] = dict(memory.peak)
    return figures


def one_size(size_mb: int, runs: int, interval_s: float, verbose: bool) -> dict[str, Any]:
    stack = RehearsalStack(size_mb=size_mb, log=print if verbose else (lambda line: None))
    try:
        begun = time.monotonic()
        stack.up()
        up_s = round(time.monotonic() - begun, 1)
        print(f"  stack up in {up_s} s (grow {stack.timings.get('grow', 0)} s)", flush=True)
        container = stack.client.containers.get(f"{stack.project}-postgres")
        memory = DatabaseMemory(container.id, interval_s)
        database_size = stack.database_size(DATABASE)
        measurements: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        for number in range(1, runs + 1):
            for kind in KINDS:
                figures = measure(kind, stack.env_file, memory)
                measurements[kind].append(figures)
                db = figures["database_memory"]
                print(
                    f"  run {number} {kind:11} {figures['seconds']:7.2f} s  runner "
                    f"{figures['runner_self_maxrss_mib']} / {figures['runner_psql_peak_mib']}"
                    f" MiB  db anon {db.get('anon_mib')} MiB, largest process "
                    f"{db.get('largest_process_anon_mib')} MiB, cgroup peak "
                    f"{db.get('cgroup_peak_mib', db.get('docker_stats_mib'))} MiB",
                    flush=True,
                )
        rows = {t: v["rows"] for t, v in measurements["fingerprint"][0]["tables"].items()}
        return {
            "size_mb": size_mb,
            "stack_up_s": up_s,
            "stack_timings": stack.timings,
            "pg_database_size_bytes": database_size,
            "pg_database_size_mib": round(database_size / MIB, 1),
            "rows": rows,
            "table_bytes": {
                t: v["bytes"] for t, v in measurements["fingerprint"][0]["tables"].items()
            },
            "memory_source": memory.version,
            "measurements": measurements,
        }
    finally:
        stack.down()


def median_of(runs: list[dict[str, Any]], *keys: str) -> float:
    values = []
    for run in runs:
        value: Any = run
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int | float):
            values.append(float(value))
    return round(statistics.median(values), 2) if values else float("nan")


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    m = result["measurements"]
    fingerprint_s = median_of(m["fingerprint"], "seconds")
    baseline_s = median_of(m["baseline"], "seconds")
    ratio = round(fingerprint_s / baseline_s, 2)
    summary: dict[str, Any] = {"fingerprint_s": fingerprint_s, "baseline_s": baseline_s}
    summary |= {"ratio": ratio, "verdict": verdict(ratio, TARGET_RATIO)}
    for kind in KINDS:
        summary[kind] = {
            "runner_self_maxrss_mib": median_of(m[kind], "runner_self_maxrss_mib"),
            "runner_psql_peak_mib": median_of(m[kind], "runner_psql_peak_mib"),
            "db_anon_mib": median_of(m[kind], "database_memory", "anon_mib"),
            "db_largest_process_anon_mib": median_of(
                m[kind], "database_memory", "largest_process_anon_mib"
            ),
            "db_cgroup_peak_mib": median_of(m[kind], "database_memory", "cgroup_peak_mib"),
            "db_docker_stats_mib": median_of(m[kind], "database_memory", "docker_stats_mib"),
        }
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024,5120", help="MiB of atmo_prod, comma-separated")
    parser.add_argument("--runs", type=int, default=2, help="measurements of each kind (>= 2)")
    parser.add_argument("--interval", type=float, default=0.2, help="memory sampling seconds")
    parser.add_argument("--verbose", action="store_true", help="show the stack's log")
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--env-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.env_file)))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for size in sizes:
        print(f"size {size} MiB: bringing up a stack and growing atmo_prod ...", flush=True)
        try:
            result = one_size(size, args.runs, args.interval, args.verbose)
        except Exception as error:  # the measurement is impossible at this size: say why
            message = f"{type(error).__name__}: {error}"
            print(f"  size {size} MiB could not be measured: {message}", flush=True)
            failures.append({"size_mb": size, "error": message})
            continue
        result["summary"] = summarise(result)
        results.append(result)

    print()
    print(
        table(
            ["size MiB", "pg_database_size MiB", "rows per table", "up s (grow s)"],
            [
                [
                    r["size_mb"],
                    r["pg_database_size_mib"],
                    ", ".join(f"{t} {n:,}" for t, n in r["rows"].items()),
                    f"{r['stack_up_s']} ({r['stack_timings'].get('grow', 0)})",
                ]
                for r in results
            ],
        )
    )
    print()
    rows = []
    for r in results:
        s = r["summary"]
        for kind in KINDS:
            runs = [f"{x['seconds']:.2f}" for x in r["measurements"][kind]]
            k = s[kind]
            rows.append(
                [
                    r["size_mb"],
                    kind,
                    s[f"{kind}_s"],
                    " / ".join(runs),
                    k["runner_self_maxrss_mib"],
                    k["runner_psql_peak_mib"],
                    k["db_anon_mib"],
                    k["db_largest_process_anon_mib"],
                    k["db_cgroup_peak_mib"],
                    f"{s['ratio']} {s['verdict']}" if kind == "fingerprint" else "",
                ]
            )
    print(
        table(
            [
                "size MiB",
                "query",
                "median s",
                "runs s",
                "runner py MiB",
                "runner psql MiB",
                "db anon MiB",
                "db backend anon MiB",
                "db cgroup peak MiB",
                "fp / baseline",
            ],
            rows,
        )
    )
    print(f"target: fingerprint <= {TARGET_RATIO:g} x baseline at every size; memory columns are")
    print("medians of per-measurement peaks (db cgroup peak includes the page cache)")
    for failure in failures:
        print(f"NOT MEASURED at {failure['size_mb']} MiB: {failure['error']}")
    failed = [r for r in results if r["summary"]["verdict"] != "PASS"]
    result_verdict = "FAIL" if failed or failures else "PASS"
    path = write_result(
        "fingerprints",
        {
            "target_ratio": TARGET_RATIO,
            "runs": args.runs,
            "sizes": results,
            "not_measured": failures,
            "verdict": result_verdict,
        },
    )
    print(f"\nwrote {path}")
    return 0 if result_verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
