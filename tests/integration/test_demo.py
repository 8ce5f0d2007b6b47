"""`make demo`'s script end to end: a real `git push` through the post-receive hook starts a run
of the sample app whose real fastlane lanes (test, build) succeed, and the jobs' logs are shown."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.harness import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_demo_pushes_the_sample_app_and_its_run_succeeds(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTEP_")}
    env.update(
        {"INSTEP_HOME": str(tmp_path / "demo"), "INSTEP_DEMO_PORT": str(free_port()), "INSTEP_DEMO_EXIT": "1"}
    )
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")], env=env, capture_output=True, text=True, timeout=600
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "instep: run 1 queued for refs/heads/main" in out, "the post-receive hook notified Instep"
    assert "instep: tests: 0 error, 0 failed, 6 passed, 0 skipped" in out, (
        "the test lane's JUnit report was read"
    )
    assert "Packaged android 1.0.0 (1)" in out and "Packaged ios 1.0.0 (1)" in out, (
        "the build lane ran per platform"
    )
    assert "==> run 1 succeeded" in out
    assert "demo: run 1 succeeded" in out and "/openapi.json" in out
    assert "demo-secret-value" not in out
