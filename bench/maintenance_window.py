"""Compare the suite's maintenance window with the raw runbook on fresh rehearsal stacks.

    python bench/maintenance_window.py               # 2 repetitions
    python bench/maintenance_window.py --reps 1
    python bench/maintenance_window.py --size 1024    # atmo_prod grown to 1 GiB on every stack

Each repetition brings up three fresh stacks, one after the other:
  bare   `docker-compose stop`, edit the compose file to the new tags, `docker-compose up -d`,
         then poll (every readiness interval) until atmosphere /api/v2/version answers 200, or
         503 with a detail, and troposphere /tropo-api/version answers 200. Timed here; the
         release images are pulled beforehand, as the suite's preflight does.
  raw    the runbook's own commands in its order, the floor the window is judged against:
         `manage.py maintenance start` on both apps (compose exec), stop, `docker commit` of
         each container, `git reset --hard` + `git pull` in the deploy checkout, the tag edit,
         pull, up -d, the same poll, `manage.py maintenance stop` on both; its window runs from
         the first maintenance start's end to the last stop's end, as the suite's does.
  suite  a Deployment driven through atmo_release/release_day/deploy_steps.py (deploy.feature's
         lines: the dumps, their restore and the migration rehearsal before the window; the
         fingerprint of the stopped databases and the window dumps inside it); the window is
         record.maintenance_window (started at the first maintenance start, ended at the last
         maintenance stop), in seconds computed as fixtures/deployment.py DeployRun.finish does;
         the record is checkpointed after each step, as the features' step hook does.
`--size MB` seeds atmo_prod of every stack to that many MiB (RehearsalStack(size_mb=...)); 0, the
default, keeps the small seed. `--writes` has a user write between the proven dumps and
maintenance (an instance launched, a profile edited, an allocation ended) and a periodic task log
an event once maintenance is on, so the window dumps are taken as on a live production (and the
exact row check judges core_instance, written and migrated, against its copy). Each repetition
also prints what the exact row check costs: per database the seconds to load the window dumps onto
the unmigrated copy, to wait for the copy's migrations after up -d and to read it, and the second
run of the migrations before the window.
Target: suite window / raw runbook <= 1.2. Writes bench/results/maintenance_window-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import table, verdict, write_result
from _runbook_floors import bare_runbook, raw_runbook

from atmo_release.environment import parse_environment
from atmo_release.record.run_record import utc_now
from atmo_release.release import Release
from atmo_release.release_day.deploy_steps import deploy_steps
from atmo_release.release_day.deployment import Deployment
from fixtures.deployment import DeployRun
from rehearsal.deploy_repos import NEW_RELEASE
from rehearsal.stack import RehearsalStack

TARGET_RATIO = 1.2  # window / raw runbook
# (the step after which it is written, database, SQL): users until maintenance, tasks until stop
WRITES = [
    (
        "the migrations succeed there and what they change in each table is recorded",
        "atmo_prod",
        "INSERT INTO core_instance (name, owner_id, status, created_at) "
        "SELECT 'bench-' || n, min(id), 'active', now() FROM core_atmosphereuser, "
        "generate_series(1, 100) AS n GROUP BY n",
    ),
    (
        "the migrations succeed there and what they change in each table is recorded",
        "atmo_prod",
        "UPDATE core_atmosphereuser SET email = 'edited@example.org' WHERE id = 2",
    ),
    (
        "the migrations succeed there and what they change in each table is recorded",
        "atmo_prod",
        "UPDATE core_allocation SET end_date = now() WHERE id = 3",
    ),
    (
        "maintenance is started on atmosphere",
        "atmo_prod",
        "INSERT INTO core_event (instance_id, kind, payload, created_at) "
        "SELECT max(id), 'task.tick', 'written by a periodic task', now() FROM core_instance",
    ),
]


def suite_window(stack: RehearsalStack, reports_dir: Path, writes: bool = False) -> dict[str, Any]:
    """Drive the feature's steps; return the record's window seconds and every step's time.
    The throwaway copies of the migration rehearsal are closed whatever happens, as deploy()
    does."""
    d = Deployment.create(
        parse_environment(stack.env_file),
        Release.parse(NEW_RELEASE),
        "bench crew chief",
        "bench driver",
        reports_dir,
    )
    run = DeployRun(d, reports_dir, print)
    marks: dict[str, float] = {}
    d.browser_journey.warm()  # as deploy() and the deploy_run fixture do
    try:
        for scenario, step, action in deploy_steps(d):
            d.record.begin_step(scenario, step)
            try:
                action()
            except Exception as error:
                message = d.target.redactor(str(error).splitlines()[0][:300])
                d.record.end_step("failed", message)
                full = d.target.redactor(str(error))[:2000]
                raise RuntimeError(f"suite step {scenario!r} / {step!r} failed: {full}") from error
            d.record.end_step("passed")
            run.checkpoint()  # as the features' step hook does: the record's cost is the window's
            for after, database, sql in WRITES if writes else []:
                if step == after:
                    stack.psql(database, sql)
            if step == "maintenance is started on troposphere":
                marks["started"] = time.monotonic()
            if step == "maintenance is ended on atmosphere":
                marks["ended"] = time.monotonic()
    finally:
        d.reads_ahead.settle()
        d.proven_dumps.close_copies()
        d.browser_journey.close()
    record = d.record
    record.finished = utc_now()
    window = record.maintenance_window
    end = window.get("ended") or record.finished  # as DeployRun.finish computes it
    started = datetime.fromisoformat(window["started"])
    seconds = (datetime.fromisoformat(end) - started).total_seconds()
    in_window = ended = False
    steps = []
    for entry in record.steps:
        starts = entry.step == "maintenance is started on troposphere"
        before_window = not in_window and not ended and not starts
        in_window |= starts
        steps.append(
            {
                "section": entry.section,
                "step": entry.step,
                "seconds": entry.seconds,
                "ahead_seconds": entry.ahead_seconds,  # a check's own work, read ahead
                "in_window": in_window and not starts,
                "before_window": before_window,
                "after_window": ended,
                "commands": [
                    {"argv": d.target.redactor(" ".join(c.argv))[:160], "seconds": c.seconds}
                    for c in entry.commands
                ],
            }
        )
        ended |= entry.step == "maintenance is ended on atmosphere"
        in_window &= not ended
    rehearsed = record.facts.get("migration_rehearsal") or {}
    return {
        "seconds": seconds,
        "precise_seconds": round(marks["ended"] - marks["started"], 2),
        "started": window["started"],
        "ended": end,
        "steps": steps,
        # the exact row check's own costs: the copies loaded, migrated and read in the window,
        # and the second run of the migrations before it
        "window_copies": record.facts.get("window_copies") or {},
        "second_run_seconds": {db: r.get("second_run_seconds") for db, r in rehearsed.items()},
    }


def with_stack(
    work: Callable[[RehearsalStack], dict[str, Any]], size_mb: int = 0
) -> dict[str, Any]:
    stack = RehearsalStack(log=lambda line: None, size_mb=size_mb)
    try:
        begun = time.monotonic()
        stack.up()
        grown = f", atmo_prod {stack.timings.get('seed_mb')} MiB" if size_mb else ""
        print(f"    stack up in {time.monotonic() - begun:.1f} s{grown}", flush=True)
        figures = work(stack)
        figures["stack"] = {"size_mb": size_mb, "timings": dict(stack.timings)}
        return figures
    finally:
        stack.down()


def step_medians(reps: list[dict[str, Any]], where: str) -> list[tuple[str, list[float]]]:
    """(section: step, seconds per repetition) of the steps `where` ("in_window",
    "before_window" or "after_window"), slowest median first."""
    step_seconds: dict[str, list[float]] = {}
    for rep in reps:
        for step in rep["suite"]["steps"]:
            if step[where]:
                step_seconds.setdefault(f"{step['section']}: {step['step']}", []).append(
                    step["seconds"]
                )
    return sorted(step_seconds.items(), key=lambda kv: -statistics.median(kv[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2, help="repetitions (default 2)")
    parser.add_argument("--slowest", type=int, default=8, help="slowest steps to list")
    parser.add_argument(
        "--size", type=int, default=0, help="MiB to grow atmo_prod to (default 0: small seed)"
    )
    parser.add_argument(
        "--writes", action="store_true", help="a user and a task write while the run prepares"
    )
    args = parser.parse_args(argv)

    reps: list[dict[str, Any]] = []
    for number in range(1, args.reps + 1):
        print(f"repetition {number}/{args.reps}: bare runbook ...", flush=True)
        bare = with_stack(lambda s: bare_runbook(s, 0.5, 120), args.size)
        print(f"    bare {bare['seconds']} s {bare['phases']}", flush=True)
        print(f"repetition {number}/{args.reps}: raw runbook ...", flush=True)
        raw = with_stack(lambda s: raw_runbook(s, 0.5, 120), args.size)
        print(f"    raw {raw['seconds']} s {raw['phases']}", flush=True)
        print(f"repetition {number}/{args.reps}: suite maintenance window ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-window-") as tmp:
            try:
                suite = with_stack(
                    lambda s, tmp=tmp: suite_window(s, Path(tmp) / "rehearsal-run", args.writes),
                    args.size,
                )
            except RuntimeError as error:  # a failed step: the measurement is impossible
                print(f"    {error}", flush=True)
                failure = {"size_mb": args.size, "repetition": number, "error": str(error)}
                path = write_result("maintenance_window", {**failure, "repetitions": reps})
                print(f"\nwrote {path}")
                return 1
        ratio = round(suite["seconds"] / raw["seconds"], 2)
        print(f"    window {suite['seconds']} s (precise {suite['precise_seconds']} s)", flush=True)
        print(f"    window copies {suite['window_copies']}", flush=True)
        print(f"    second run of the migrations {suite['second_run_seconds']}", flush=True)
        reps.append({"bare": bare, "raw": raw, "suite": suite, "ratio": ratio})

    rows = [
        [
            n,
            r["bare"]["seconds"],
            r["raw"]["seconds"],
            r["suite"]["seconds"],
            r["suite"]["precise_seconds"],
            r["ratio"],
        ]
        for n, r in enumerate(reps, 1)
    ]
    bare_median = statistics.median(r["bare"]["seconds"] for r in reps)
    raw_median = statistics.median(r["raw"]["seconds"] for r in reps)
    window_median = statistics.median(r["suite"]["seconds"] for r in reps)
    ratio = round(window_median / raw_median, 2)
    result_verdict = verdict(ratio, TARGET_RATIO)
    rows.append(["median", bare_median, raw_median, window_median, "", f"{ratio} {result_verdict}"])
    print()
    print(table(["rep", "bare s", "raw s", "window s", "window precise s", "window / raw"], rows))
    size = f"atmo_prod seeded to {args.size} MiB" if args.size else "the small seed"
    print(f"target: window / raw runbook <= {TARGET_RATIO:g} ({size})")

    slowest = step_medians(reps, "in_window")
    print()
    print(
        table(
            ["slowest steps inside the window", "median s", "per rep s"],
            [[name, round(statistics.median(s), 2), s] for name, s in slowest[: args.slowest]],
        )
    )
    before = step_medians(reps, "before_window")
    print()
    print(
        table(
            ["slowest steps before the window (not in the ratio)", "median s", "per rep s"],
            [[name, round(statistics.median(s), 2), s] for name, s in before[: args.slowest]],
        )
    )
    after = step_medians(reps, "after_window")
    print()
    print(
        table(
            ["steps after the window (not in the ratio)", "median s", "per rep s"],
            [[name, round(statistics.median(s), 2), s] for name, s in after],
        )
    )
    result = {
        "size_mb": args.size,
        "writes": args.writes,
        "target_ratio": TARGET_RATIO,
        "repetitions": reps,
        "bare_median_s": bare_median,
        "raw_median_s": raw_median,
        "window_median_s": window_median,
        "ratio": ratio,
        "verdict": result_verdict,
        "slowest_window_steps": [
            {"step": name, "median_s": round(statistics.median(s), 2), "seconds": s}
            for name, s in slowest
        ],
        "slowest_steps_before_window": [
            {"step": name, "median_s": round(statistics.median(s), 2), "seconds": s}
            for name, s in before
        ],
        "steps_after_window": [
            {"step": name, "median_s": round(statistics.median(s), 2), "seconds": s}
            for name, s in after
        ],
    }
    print(f"\nwrote {write_result('maintenance_window', result)}")
    return 0 if result_verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
