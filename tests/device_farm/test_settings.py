"""The device farm's own settings, and `instep suite run` leaving the current directory alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from device_farm.settings import FarmSettings, FarmSettingsError

ROOT = Path(__file__).resolve().parents[2]
FAKE_APPIUM = str(Path(__file__).parent / "fake_appium" / "appium")


def test_defaults_read_the_home_but_write_to_the_state_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = FarmSettings.from_env({"HOME": str(tmp_path / "user")})
    assert settings.devices_file == tmp_path / ".instep" / "devices.yml"
    assert settings.durations_dir == tmp_path / "user" / ".local" / "state" / "instep" / "durations"
    assert settings.artifacts_dir == tmp_path / "user" / ".local" / "state" / "instep" / "artifacts"
    assert settings.redis_url is None
    assert list(tmp_path.iterdir()) == []


def test_instep_home_holds_everything_and_distributed_mode_needs_no_secret_key(tmp_path):
    settings = FarmSettings.from_env(
        {
            "INSTEP_HOME": str(tmp_path / "home"),
            "INSTEP_REDIS_URL": "redis://127.0.0.1:6379/0",
            "INSTEP_ARTIFACTS": "s3://bucket/prefix",
            "XDG_STATE_HOME": str(tmp_path / "state"),
        }
    )
    assert settings.devices_file == tmp_path / "home" / "devices.yml"
    assert settings.durations_dir == tmp_path / "home" / "durations"
    assert settings.artifacts_dir == tmp_path / "home" / "artifacts"
    assert settings.appium_home == tmp_path / "home" / "appium"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert not (tmp_path / "home").exists()


def test_a_local_artifacts_path_and_an_appium_home_are_taken_as_given(tmp_path):
    settings = FarmSettings.from_env(
        {"INSTEP_ARTIFACTS": str(tmp_path / "arts"), "INSTEP_APPIUM_HOME": str(tmp_path / "appium")}
    )
    assert settings.artifacts_dir == tmp_path / "arts"
    assert settings.appium_home == tmp_path / "appium"


def test_a_redis_url_that_is_not_one_is_named(tmp_path):
    with pytest.raises(FarmSettingsError, match=r"INSTEP_REDIS_URL='127.0.0.1:6379' is not a Redis URL"):
        FarmSettings.from_env({"INSTEP_REDIS_URL": "127.0.0.1:6379"})


def test_suite_run_creates_no_instep_directory_in_the_current_directory(tmp_path):
    cwd = tmp_path / "project"
    suite = cwd / "tests"
    suite.mkdir(parents=True)
    (suite / "test_smoke.py").write_text(
        textwrap.dedent("""
            import os

            def test_sees_the_developer_environment_without_instep_variables():
                assert os.environ["DEVELOPER_VAR"] == "kept"
                assert "INSTEP_SECRET_KEY" not in os.environ
                assert os.environ["INSTEP_DEVICE_PROFILE"] == "stub-phone"
        """)
    )
    # A Chromium profile whose browser binaries are stand-ins: the test needs no browser.
    inventory = tmp_path / "devices.yml"
    inventory.write_text(
        "devices:\n  - {name: stub-phone, backend: chromium, width: 390, height: 844,"
        " chromium: /bin/true, chromedriver: /bin/true}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSTEP_", "XDG_"))}
    env |= {"XDG_STATE_HOME": str(tmp_path / "state"), "DEVELOPER_VAR": "kept"}
    env |= {"INSTEP_SECRET_KEY": "not-for-tests-0123456789", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "suite", "run", "acceptance", "--path", "tests",
         "--device", "stub-phone", "--config", str(inventory), "--appium", FAKE_APPIUM, "--json"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["passed"] and report["counts"]["passed"] == 1
    assert sorted(p.name for p in cwd.iterdir()) == ["tests"]
    state = tmp_path / "state" / "instep"
    assert Path(report["artifacts_dir"]) == state / "artifacts" / "suites" / "acceptance"
    durations = json.loads((state / "durations" / "default.json").read_text())["tests"]
    assert list(durations) == ["test_smoke.py::test_sees_the_developer_environment_without_instep_variables"]
