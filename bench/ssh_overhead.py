"""The SSH target's cost per command against the local target's, for the same command.

    python bench/ssh_overhead.py                     # on a throwaway deploy host
    python bench/ssh_overhead.py ENV.toml --runs 300 # an environment file with a [target]

The local target runs `true` on this machine; the SSH target runs `true` on the deploy host over
its one multiplexed connection (opened once, as a run does). The overhead is SSH minus local,
per command. Targets (issue "Release day from anywhere"): median under 20 ms and 95th
percentile under 50 ms. Writes bench/results/ssh_overhead-*.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _common import table, verdict, write_result

from atmo_release.commands import read
from atmo_release.environment import parse_environment
from atmo_release.target import Target, open_target

MEDIAN_TARGET_MS, P95_TARGET_MS = 20.0, 50.0


def timings_ms(target: Target, runs: int) -> list[float]:
    argv = read(["true"])
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        result = target.run(argv)
        found.append((time.perf_counter() - started) * 1000)
        assert result.ok, result.stderr
    return found


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("environment", type=Path, nargs="?")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    if args.environment is None:
        from rehearsal.deploy_host import DeployHost

        host = DeployHost(log=lambda line: None)
        try:
            measure(host.up(), args.runs)
        finally:
            host.down()
    else:
        measure(args.environment, args.runs)


def measure(environment: Path, runs: int) -> None:
    env = parse_environment(environment)
    if env.ssh is None:
        raise SystemExit(f"{environment} has no [target]: nothing to reach over SSH")
    local = open_target()
    started = time.perf_counter()
    remote = open_target(ssh=env.ssh)
    connect_ms = (time.perf_counter() - started) * 1000
    try:
        timings_ms(remote, 5)
        local_ms, ssh_ms = timings_ms(local, runs), timings_ms(remote, runs)
    finally:
        remote.close()
    overhead = [s - statistics.median(local_ms) for s in ssh_ms]
    median, high = statistics.median(overhead), p95(overhead)
    rows = [
        ["local", f"{statistics.median(local_ms):.1f}", f"{p95(local_ms):.1f}", ""],
        ["ssh", f"{statistics.median(ssh_ms):.1f}", f"{p95(ssh_ms):.1f}", ""],
        [
            "overhead",
            f"{median:.1f} ({verdict(median, MEDIAN_TARGET_MS)})",
            f"{high:.1f} ({verdict(high, P95_TARGET_MS)})",
            f"connect {connect_ms:.0f}",
        ],
    ]
    print(table(["per command (ms)", "median", "p95", ""], rows))
    path = write_result(
        "ssh_overhead",
        {
            "runs": runs,
            "connect_ms": round(connect_ms, 1),
            "local_ms": {"median": statistics.median(local_ms), "p95": p95(local_ms)},
            "ssh_ms": {"median": statistics.median(ssh_ms), "p95": p95(ssh_ms)},
            "overhead_ms": {"median": median, "p95": high},
            "targets_ms": {"median": MEDIAN_TARGET_MS, "p95": P95_TARGET_MS},
        },
    )
    print(f"written: {path}")


if __name__ == "__main__":
    main()
