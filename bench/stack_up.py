"""Time bringing the rehearsal stack up: cold (every image rebuilt) and warm (images cached).

    python bench/stack_up.py                  # warm: 3 x up()/down() with cached images
    python bench/stack_up.py --cold           # remove the builder's images, then up()/down() once
    python bench/stack_up.py --cold --warm    # both, cold first

Targets: warm up() <= 30 s (median of the runs), cold up() (building everything) <= 6 min.
Writes bench/results/stack_up-<UTC stamp>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import docker
from _common import summary, table, verdict, write_result

from rehearsal import images
from rehearsal.stack import RehearsalStack

WARM_TARGET_S = 30.0
COLD_TARGET_S = 360.0
LABEL = f"{images.PROJECT_LABEL}={images.PROJECT_LABEL_VALUE}"


def remove_builder_images(log: images.Log) -> dict[str, Any]:
    """Remove every MANIFEST image (children first) and dangling rehearsal-labelled images.

    Never forces: an image still used by a container is left and reported.
    """
    client = docker.from_env()
    removed: list[str] = []
    kept: dict[str, str] = {}
    for spec in reversed(images.MANIFEST):
        try:
            client.images.remove(spec.name)
            removed.append(spec.name)
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as error:
            kept[spec.name] = str(error.explanation or error)
    dangling = 0
    for _ in range(5):  # parents of dangling images become removable once their child is gone
        left = client.images.list(filters={"dangling": True, "label": LABEL})
        if not left:
            break
        for image in left:
            try:
                client.images.remove(image.id)
                dangling += 1
            except docker.errors.ImageNotFound:
                pass
            except docker.errors.APIError as error:
                kept[image.short_id] = str(error.explanation or error)
    log(f"removed {len(removed)} named and {dangling} dangling images; kept {len(kept)}")
    return {"removed": removed, "dangling_removed": dangling, "kept": kept}


def one_run(log: images.Log) -> dict[str, Any]:
    """Time one RehearsalStack up() and down(); down() always runs."""
    stack = RehearsalStack(log=log)
    started = time.monotonic()
    try:
        stack.up()
        up_s = time.monotonic() - started
    finally:
        down_started = time.monotonic()
        stack.down()
        down_s = time.monotonic() - down_started
    return {"up_s": round(up_s, 2), "down_s": round(down_s, 2), "phases": dict(stack.timings)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="remove the images, build, time")
    parser.add_argument("--warm", action="store_true", help="time up() with cached images")
    parser.add_argument("--runs", type=int, default=3, help="warm runs (default 3)")
    parser.add_argument("--verbose", action="store_true", help="print the stack's log lines")
    args = parser.parse_args(argv)
    warm = args.warm or not args.cold

    def log(line: str) -> None:
        if args.verbose:
            print(f"  | {line}", flush=True)

    result: dict[str, Any] = {"targets": {"warm_up_s": WARM_TARGET_S, "cold_up_s": COLD_TARGET_S}}
    rows: list[list[Any]] = []
    failed = False
    if args.cold:
        print("cold: removing the builder's images ...", flush=True)
        result["cold_removal"] = remove_builder_images(log)
        if result["cold_removal"]["kept"]:
            print(f"warning: images kept (in use?): {result['cold_removal']['kept']}")
        print("cold: up() builds everything ...", flush=True)
        cold = one_run(log)
        cold["images_s"] = cold["phases"].get("images")
        cold["verdict"] = verdict(cold["up_s"], COLD_TARGET_S)
        failed |= cold["verdict"] == "FAIL"
        result["cold"] = cold
        rows.append(
            [
                "cold",
                cold["up_s"],
                cold["phases"].get("images"),
                cold["down_s"],
                f"<= {COLD_TARGET_S:g}",
                cold["verdict"],
            ]
        )
    if warm:
        runs = []
        for number in range(1, args.runs + 1):
            print(f"warm run {number}/{args.runs} ...", flush=True)
            runs.append(one_run(log))
            rows.append(
                [
                    f"warm {number}",
                    runs[-1]["up_s"],
                    runs[-1]["phases"].get("images"),
                    runs[-1]["down_s"],
                    "",
                    "",
                ]
            )
        ups = summary([run["up_s"] for run in runs])
        phases = {
            name: summary([run["phases"][name] for run in runs]) for name in runs[0]["phases"]
        }
        warm_verdict = verdict(ups["median"], WARM_TARGET_S)
        failed |= warm_verdict == "FAIL"
        result["warm"] = {"runs": runs, "up_s": ups, "phases_s": phases, "verdict": warm_verdict}
        rows.append(["warm min", ups["min"], "", "", "", ""])
        rows.append(["warm median", ups["median"], "", "", f"<= {WARM_TARGET_S:g}", warm_verdict])
    print()
    print(table(["run", "up() s", "images s", "down() s", "target s", "verdict"], rows))
    if warm:
        print()
        print(
            table(
                ["warm phase", "min s", "median s", "max s"],
                [
                    [n, s["min"], s["median"], s["max"]]
                    for n, s in result["warm"]["phases_s"].items()
                ],
            )
        )
    if args.cold:
        print()
        print(table(["cold phase", "s"], list(map(list, result["cold"]["phases"].items()))))
    print(f"\nwrote {write_result('stack_up', result)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
