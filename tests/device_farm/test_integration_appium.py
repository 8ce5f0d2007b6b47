"""The sample app's acceptance suite through a real Appium 3 server, the real Chromium driver and
Debian's chromium/chromedriver, on two Chromium profiles in two shards, via `instep suite run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from device_farm.appium_server import AppiumError, find_appium
from tests.conftest import require_service
from toolrun.junit import read_junit

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
APPIUM_HOME = Path(os.environ.get("INSTEP_APPIUM_HOME") or ROOT / "tools" / "appium" / "home")


def _appium() -> str:
    try:
        appium = find_appium(APPIUM_HOME)
    except AppiumError as exc:
        require_service("Appium 3", False, str(exc))
        raise
    has_driver = (APPIUM_HOME / "node_modules" / "appium-chromium-driver").is_dir()
    require_service(
        "appium-chromium-driver", has_driver, f"not in {APPIUM_HOME}; run scripts/install-appium.sh"
    )
    for binary in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        require_service(binary, os.access(binary, os.X_OK), "run scripts/install-chromium.sh")
    return appium


def test_sample_app_suite_on_two_chromium_profiles_in_two_shards(tmp_path):
    appium = _appium()
    junit = tmp_path / "junit.xml"
    env = dict(os.environ) | {"INSTEP_HOME": str(tmp_path / "home"), "INSTEP_APPIUM_HOME": str(APPIUM_HOME)}
    env.pop("INSTEP_REDIS_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "suite", "run", "acceptance",
         "--path", str(ROOT / "examples/sample-app/tests/acceptance"),
         "--device", "iphone-15", "--device", "pixel-8", "--shards", "2",
         "--app", str(ROOT / "examples/sample-app/www"), "--appium", appium,
         "--artifacts", str(tmp_path / "artifacts"), "--junit", str(junit), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["passed"] and report["counts"]["passed"] == 6
    assert sorted(s["device"] for s in report["shards"]) == ["iphone-15", "pixel-8"]
    cases = read_junit(junit)
    assert {c.name for c in cases} >= {"test_demo_user_signs_in_and_sees_orders", "test_open_product_and_add_to_cart",
                                       "test_change_locale_and_notifications", "test_orders_list_shows_every_order"}  # fmt: skip
    assert all(c.status == "passed" for c in cases)
    for shard in report["shards"]:
        assert "[Appium]" in (Path(shard["artifacts_dir"]) / "appium.log").read_text()
    durations = json.loads((tmp_path / "home" / "durations" / "default.json").read_text())["tests"]
    assert len(durations) == 6


def test_capture_suite_saves_the_four_named_screens_per_profile(tmp_path):
    appium = _appium()
    env = dict(os.environ) | {"INSTEP_HOME": str(tmp_path / "home"), "INSTEP_APPIUM_HOME": str(APPIUM_HOME)}
    env.pop("INSTEP_REDIS_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "suite", "run", "screenshots",
         "--path", str(ROOT / "examples/sample-app/tests/capture"), "--device", "pixel-8",
         "--app", str(ROOT / "examples/sample-app/www"), "--appium", appium,
         "--artifacts", str(tmp_path / "artifacts")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    from PIL import Image

    shots = tmp_path / "artifacts" / "pixel-8" / "en-US"
    assert sorted(p.name for p in shots.glob("*.png")) == [
        "orders.png",
        "product.png",
        "settings.png",
        "signin.png",
    ]
    # Pixel 8 emulation: 412x915 CSS pixels at a 2.625 device pixel ratio.
    assert Image.open(shots / "signin.png").size == (round(412 * 2.625), round(915 * 2.625))
