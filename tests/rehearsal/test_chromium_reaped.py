"""A Chromium started for a run ends with the process that started it, however that process
ends: the suite's fault tests SIGKILL runs, and each Chromium they left idled at a few percent
of a core until the machine stopped (the test command took 38 minutes instead of 28)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from atmo_release.web import browser

HOLDS_A_CHROMIUM = """
import sys, time
from atmo_release.web import browser
with browser.chromium() as driver:
    print(driver.service.process.pid, flush=True)
    if sys.argv[1] == "quit":
        sys.exit(0)
    time.sleep(600)
"""


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def gone_within(group: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while group_alive(group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("ending", ["sigkill", "quit"])
def test_chromium_ends_with_the_process_that_started_it(ending: str) -> None:
    if browser.missing():
        pytest.skip(f"{browser.missing()}: run scripts/setup.sh")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDS_A_CHROMIUM, ending], stdout=subprocess.PIPE, text=True
    )
    group = 0
    try:
        group = int(holder.stdout.readline())
        assert ending == "quit" or group_alive(group), "no Chromium was started"
        if ending == "sigkill":
            holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
        assert gone_within(group, 10), f"chromedriver's group {group} outlived its starter"
    finally:
        holder.kill()
        holder.wait()
        if group and group_alive(group):
            os.killpg(group, signal.SIGKILL)
