"""The package installs whole: a wheel built from the sources, installed into a fresh venv,
imports every module of atmo_release there (the editable install and `pythonpath = .` would hide
a subpackage the wheel leaves out)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
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
# The build backend pyproject.toml names, called as a PEP 517 frontend without build isolation
# calls it (pip wheel --no-build-isolation did the same, at three times the cost).
BUILD_WHEEL = """
import importlib, sys, tomllib
with open("pyproject.toml", "rb") as file:
    module, _, attribute = tomllib.load(file)["build-system"]["build-backend"].partition(":")
backend = importlib.import_module(module)
for name in filter(None, attribute.split(".")):
    backend = getattr(backend, name)
backend.build_wheel(sys.argv[1])
"""


def install(wheel: Path, site_packages: Path) -> None:
    """Install a pure-Python wheel as an installer does: its files unpacked into site-packages
    (checked to hold nothing an installer would put elsewhere: no .data directory)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(name for name in names if name.endswith(".dist-info/WHEEL"))
        assert "Root-Is-Purelib: true" in archive.read(metadata).decode(), metadata
        assert not [name for name in names if name.split("/")[0].endswith(".data")], names
        archive.extractall(site_packages)


def test_a_wheel_installs_every_module(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: setuptools leaves build/ where it builds
    shutil.copytree(
        ROOT / "atmo_release", source / "atmo_release", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", source)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    built = subprocess.run(
        [sys.executable, "-c", BUILD_WHEEL, str(wheels)],
        cwd=source,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=False)
    python = fresh / "bin" / "python"
    (wheel,) = wheels.glob("atmo_release-*.whl")
    install(wheel, Path(sysconfig.get_paths("venv", vars={"base": fresh})["purelib"]))
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
