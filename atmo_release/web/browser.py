"""Headless Chromium on the runner (Debian's chromium and chromium-driver) through Selenium.

Started so that it asks the network for nothing but the pages it is sent to: no background
networking, component updates, sync or first-run pages, and an empty profile of its own (the
runner may be on a closed network that refuses every other connection)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
CHROMIUM, CHROMEDRIVER = "chromium", "chromedriver"
# Waits for its pipe to close, then kills the process group named: the pipe's other end is
# held only by the process that started Chromium, so it closes however that process ends.
REAPER = """
import os, signal, sys
os.read(int(sys.argv[1]), 1)
try:
    os.killpg(int(sys.argv[2]), signal.SIGKILL)
except ProcessLookupError:
    pass
"""


def missing() -> str:
    """What the runner lacks to drive a browser, in a few words; "" when nothing."""
    lacking = [name for name in (CHROMIUM, CHROMEDRIVER) if shutil.which(name) is None]
    if importlib.util.find_spec("selenium") is None:
        lacking.append("the Python package selenium")
    return f"this runner has no {' and no '.join(lacking)}" if lacking else ""


@contextmanager
def chromium(
    width: int = 1200, height: int = 900, capabilities: dict[str, Any] | None = None
) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh, empty profile, quit and removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="atmo-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which(CHROMIUM))
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    # No speculative connections: a single-threaded server would wait on the idle one.
    options.add_experimental_option("prefs", {"net.network_prediction_options": 2})
    for name, value in (capabilities or {}).items():
        options.set_capability(name, value)
    # Chromedriver and every Chromium it starts in a process group of their own, reaped with it.
    service = Service(
        executable_path=str(shutil.which(CHROMEDRIVER)), popen_kw={"process_group": 0}
    )
    reaper = None
    try:
        driver = webdriver.Chrome(options=options, service=service)
        reaper = reap_when_we_end(service.process.pid)
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        if reaper is not None:
            os.close(reaper)
        shutil.rmtree(profile, ignore_errors=True)


def reap_when_we_end(group: int) -> int:
    """Kill `group` when this process ends, a SIGKILL too (which runs no `finally`); or when the
    returned descriptor is closed. A Chromium left behind idles at a few percent of a core for
    good, and a day of killed runs adds up."""
    read, write = os.pipe()
    subprocess.Popen(
        [sys.executable, "-c", REAPER, str(read), str(group)],
        pass_fds=(read,),
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    os.close(read)
    return write
