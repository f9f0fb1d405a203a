"""Compare the suite's maintenance window with the bare runbook on fresh rehearsal stacks.

    python bench/maintenance_window.py               # 2 repetitions
    python bench/maintenance_window.py --reps 1

Each repetition brings up two fresh stacks, one after the other:
  bare   `docker-compose stop`, edit the compose file to the new tags, `docker-compose up -d`,
         then poll (every readiness interval) until atmosphere /api/v2/version answers 200, or
         503 with a detail, and troposphere /tropo-api/version answers 200. Timed here; the
         release images are pulled beforehand, as the suite's preflight does.
  suite  a Deployment driven through features/deploy.feature step by step; the window is
         record.maintenance_window (started at the first maintenance start, ended at the last
         maintenance stop), in seconds computed as fixtures/run.py RunState.finish does.
Target: suite window / bare <= 1.3. Writes bench/results/maintenance_window-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import table, verdict, write_result

from atmo_release import http_checks
from atmo_release.deployment import Deployment
from atmo_release.environment import parse_environment
from atmo_release.record import utc_now
from atmo_release.release import Release
from atmo_release.upgrade import upgrade_steps
from rehearsal.stack import NEW_RELEASE, OLD_RELEASE, RehearsalStack

TARGET_RATIO = 1.3


def _sh(argv: list[str], timeout: float = 900) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed: {(done.stderr or done.stdout)[-400:]}")


def bare_runbook(stack: RehearsalStack, interval_s: float, timeout_s: float) -> dict[str, Any]:
    """stop, edit tags, up -d, wait until both apps answer; seconds per phase and in total."""
    for app in ("atmosphere", "troposphere"):
        _sh(["docker", "pull", f"{stack.image(app)}:release-{NEW_RELEASE}"])
    phases: dict[str, float] = {}
    started = time.monotonic()

    def phase(name: str, action: Callable[[], object]) -> None:
        begun = time.monotonic()
        action()
        phases[name] = round(time.monotonic() - begun, 2)

    phase("stop", lambda: _sh(stack.compose("stop")))
    phase(
        "edit",
        lambda: stack.compose_path.write_text(
            stack.compose_path.read_text().replace(
                f":release-{OLD_RELEASE}'", f":release-{NEW_RELEASE}'"
            )
        ),
    )
    phase("up -d", lambda: _sh(stack.compose("up", "-d")))
    atmosphere = f"http://127.0.0.1:{stack.ports['atmosphere']}"
    troposphere = f"http://127.0.0.1:{stack.ports['troposphere']}"
    probes = {
        "atmosphere": lambda: http_checks.atmosphere_ready(atmosphere),
        "troposphere": lambda: http_checks.troposphere_ready(troposphere),
    }
    phase("wait ready", lambda: http_checks.wait_until(probes, interval_s, timeout_s))
    return {"seconds": round(time.monotonic() - started, 2), "phases": phases}


def suite_window(stack: RehearsalStack, reports_dir: Path) -> dict[str, Any]:
    """Drive the feature's steps; return the record's window seconds and every step's time."""
    d = Deployment.create(
        parse_environment(stack.env_file),
        Release.parse(NEW_RELEASE),
        "bench crew chief",
        "bench driver",
        reports_dir,
    )
    marks: dict[str, float] = {}
    for scenario, step, action in upgrade_steps(d):
        d.record.begin_step(scenario, step)
        try:
            action()
        except Exception as error:
            d.record.end_step("failed", d.target.redactor(str(error).splitlines()[0][:300]))
            raise
        d.record.end_step("passed")
        if step == "maintenance started on troposphere":
            marks["started"] = time.monotonic()
        if step == "maintenance ended on atmosphere":
            marks["ended"] = time.monotonic()
    record = d.record
    record.finished = utc_now()
    window = record.maintenance_window
    end = window.get("ended") or record.finished  # as RunState.finish computes it
    started = datetime.fromisoformat(window["started"])
    seconds = (datetime.fromisoformat(end) - started).total_seconds()
    in_window = False
    steps = []
    for entry in record.steps:
        in_window |= entry.step == "maintenance started on troposphere"
        steps.append(
            {
                "section": entry.section,
                "step": entry.step,
                "seconds": entry.seconds,
                "in_window": in_window and entry.step != "maintenance started on troposphere",
                "commands": [
                    {"argv": d.target.redactor(" ".join(c.argv))[:160], "seconds": c.seconds}
                    for c in entry.commands
                ],
            }
        )
        in_window &= entry.step != "maintenance ended on atmosphere"
    return {
        "seconds": seconds,
        "precise_seconds": round(marks["ended"] - marks["started"], 2),
        "started": window["started"],
        "ended": end,
        "steps": steps,
    }


def with_stack(work: Callable[[RehearsalStack], dict[str, Any]]) -> dict[str, Any]:
    stack = RehearsalStack(log=lambda line: None)
    try:
        begun = time.monotonic()
        stack.up()
        print(f"    stack up in {time.monotonic() - begun:.1f} s", flush=True)
        return work(stack)
    finally:
        stack.down()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2, help="repetitions (default 2)")
    parser.add_argument("--slowest", type=int, default=8, help="slowest steps to list")
    args = parser.parse_args(argv)

    reps: list[dict[str, Any]] = []
    for number in range(1, args.reps + 1):
        print(f"repetition {number}/{args.reps}: bare runbook ...", flush=True)
        bare = with_stack(lambda s: bare_runbook(s, 0.5, 120))
        print(f"    bare {bare['seconds']} s {bare['phases']}", flush=True)
        print(f"repetition {number}/{args.reps}: suite maintenance window ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-window-") as tmp:
            suite = with_stack(lambda s, tmp=tmp: suite_window(s, Path(tmp) / "rehearsal-run"))
        ratio = round(suite["seconds"] / bare["seconds"], 2)
        print(f"    window {suite['seconds']} s (precise {suite['precise_seconds']} s)", flush=True)
        reps.append({"bare": bare, "suite": suite, "ratio": ratio})

    rows = [
        [n, r["bare"]["seconds"], r["suite"]["seconds"], r["suite"]["precise_seconds"], r["ratio"]]
        for n, r in enumerate(reps, 1)
    ]
    bare_median = statistics.median(r["bare"]["seconds"] for r in reps)
    window_median = statistics.median(r["suite"]["seconds"] for r in reps)
    ratio = round(window_median / bare_median, 2)
    result_verdict = verdict(ratio, TARGET_RATIO)
    rows.append(["median", bare_median, window_median, "", f"{ratio} {result_verdict}"])
    print()
    print(table(["rep", "bare s", "window s", "window precise s", "ratio"], rows))
    print(f"target: window / bare <= {TARGET_RATIO:g}")

    step_seconds: dict[str, list[float]] = {}
    for rep in reps:
        for step in rep["suite"]["steps"]:
            if step["in_window"]:
                step_seconds.setdefault(f"{step['section']}: {step['step']}", []).append(
                    step["seconds"]
                )
    slowest = sorted(step_seconds.items(), key=lambda kv: -statistics.median(kv[1]))
    print()
    print(
        table(
            ["slowest steps inside the window", "median s", "per rep s"],
            [[name, round(statistics.median(s), 2), s] for name, s in slowest[: args.slowest]],
        )
    )
    result = {
        "target_ratio": TARGET_RATIO,
        "repetitions": reps,
        "bare_median_s": bare_median,
        "window_median_s": window_median,
        "ratio": ratio,
        "verdict": result_verdict,
        "slowest_window_steps": [
            {"step": name, "median_s": round(statistics.median(s), 2), "seconds": s}
            for name, s in slowest
        ],
    }
    print(f"\nwrote {write_result('maintenance_window', result)}")
    return 0 if result_verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
