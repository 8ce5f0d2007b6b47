"""A new user's install: `pip install .` (no extras) into a fresh virtual environment gives a
working `instep suite run` on the sample app, and it leaves no `.instep/` in the current directory.

Dependencies come through pip's configured index and wheel cache, as for any install on this
machine; the repository is copied (only what the wheel contains) so the build writes nothing into
the working tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from device_farm.appium_server import AppiumError, find_appium
from tests.conftest import require_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
APPIUM_HOME = Path(os.environ.get("INSTEP_APPIUM_HOME") or ROOT / "tools" / "appium" / "home")
# What setuptools packages (pyproject.toml's packages.find) plus the files the build reads.
PACKAGES = ("orchestrator", "lanes", "device_farm", "screenshots", "stores", "dashboard", "toolrun")
BUILD_FILES = ("pyproject.toml", "README.md", "LICENSE")


def _source_copy(dest: Path) -> Path:
    dest.mkdir()
    for name in BUILD_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    for package in PACKAGES:
        if (ROOT / package).is_dir():
            shutil.copytree(
                ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
    return dest


def _tools_present() -> None:
    try:
        find_appium(APPIUM_HOME)
    except AppiumError as exc:
        require_service("Appium 3", False, str(exc))
    require_service(
        "appium-chromium-driver",
        (APPIUM_HOME / "node_modules" / "appium-chromium-driver").is_dir(),
        f"not in {APPIUM_HOME}; run scripts/install-appium.sh",
    )
    for binary in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        require_service(binary, os.access(binary, os.X_OK), "run scripts/install-chromium.sh")


@pytest.mark.timeout(1200)
def test_plain_pip_install_gives_a_working_suite_run_that_writes_nothing_in_the_cwd(tmp_path):
    _tools_present()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSTEP_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    source = _source_copy(tmp_path / "src")
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    test_extra_only = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import hypothesis"], env=env, capture_output=True, timeout=60
    )
    assert test_extra_only.returncode != 0, "the test extra was installed; this must be a plain install"

    cwd = tmp_path / "somewhere"
    cwd.mkdir()
    env |= {"INSTEP_APPIUM_HOME": str(APPIUM_HOME), "XDG_STATE_HOME": str(tmp_path / "state")}
    run = subprocess.run(
        [str(venv / "bin" / "instep"), "suite", "run", "acceptance",
         "--path", str(ROOT / "examples/sample-app/tests/acceptance"),
         "--app", str(ROOT / "examples/sample-app/www"),
         "--device", "iphone-15", "--device", "pixel-8", "--shards", "2", "--json"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["passed"] and report["counts"]["passed"] == 6
    assert sorted(s["device"] for s in report["shards"]) == ["iphone-15", "pixel-8"]
    assert list(cwd.iterdir()) == []
