"""The package installs whole: a wheel built from the sources, installed into a fresh venv,
imports every module of atmo_release there (the editable install and `pythonpath = .` would hide
a subpackage the wheel leaves out)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPORT_ALL = """
import importlib, pkgutil, sys
import atmo_release
assert "site-packages" in atmo_release.__file__, atmo_release.__file__
names = [m.name for m in pkgutil.walk_packages(atmo_release.__path__, "atmo_release.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_a_wheel_installs_every_module(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: setuptools leaves build/ where it builds
    shutil.copytree(
        ROOT / "atmo_release", source / "atmo_release", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", source)
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    wheels = tmp_path / "wheels"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
        check=True,
    )
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    (wheel,) = wheels.glob("atmo_release-*.whl")
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], check=True)
    # The dependencies from this venv's site-packages (a plain path: no editable finder there).
    deps = sysconfig.get_paths()["purelib"]
    found = subprocess.run(
        [str(python), "-c", IMPORT_ALL],
        cwd=tmp_path,
        env={"PYTHONPATH": deps, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr[-2000:]
    assert int(found.stdout) > 40
