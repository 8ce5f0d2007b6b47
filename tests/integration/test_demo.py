"""`make demo`'s script end to end: a real `git push` through the post-receive hook starts a run
of the sample app whose real fastlane lanes (test, build) succeed, QA approves the screenshots,
release 1.0.0 is cut and approved by a release manager, and the gate passes."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.harness import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)  # fastlane builds, Appium suites and Chromium captures on a shared machine
def test_demo_pushes_the_sample_app_and_its_run_succeeds(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INSTEP_")}
    env.update(
        {"INSTEP_HOME": str(tmp_path / "demo"), "INSTEP_DEMO_PORT": str(free_port()), "INSTEP_DEMO_EXIT": "1"}
    )
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")], env=env, capture_output=True, text=True, timeout=840
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "instep: run 1 queued for refs/heads/main" in out, "the post-receive hook notified Instep"
    assert "demo: dashboard  http://" in out and "demo-release-manager" in out, "a dashboard login per role"
    summary = out[out.rindex("demo: dashboard  http://") :]  # the logins again at the end, with the pages
    assert "demo-qa" in summary and "/runs/1/review" in summary and "/releases" in summary, summary[:2000]
    assert "instep: tests: 0 error, 0 failed, 6 passed, 0 skipped" in out, (
        "the test lane's JUnit report was read"
    )
    assert "Packaged android 1.0.0 (1)" in out and "Packaged ios 1.0.0 (1)" in out, (
        "the build lane ran per platform"
    )
    assert "shard 0-0: leased" in out and "shard 0-1: leased" in out, "acceptance split over two devices"
    assert "instep: tests: 0 error, 0 failed, 0 flaky, 6 passed, 0 skipped" in out, (
        "acceptance suite on Appium"
    )
    assert "instep: pixel-8: tests:" in out and "instep: iphone-15: tests:" in out, "capture on every profile"
    captures = sorted(
        p.relative_to(tmp_path).as_posix() for p in (tmp_path / "demo" / "artifacts").rglob("*.png")
    )
    for profile in ("iphone-15", "pixel-8"):
        for screen in ("signin", "orders", "product", "settings"):
            assert any(c.endswith(f"/files/{profile}/en-US/{screen}.png") for c in captures), (
                profile,
                screen,
            )
    # The run waits at its release gate: the demo cuts 1.0.0, QA signs off, and the checklist
    # waits for the release manager until demo-rm (not demo, who cut it) approves.
    assert "demo: the run waits at its release gate; cutting release 1.0.0" in out
    waiting, _, approved = out.partition("demo: approving as release manager demo-rm")
    assert "[   ...] release-manager approval: waiting for release manager approval: 0 of 1" in waiting
    assert "[    ok] QA sign-off: approved by demo-qa" in waiting
    assert "[    ok] release cut: release 1.0.0 cut by demo" in waiting
    assert "android build 1: waiting_for_gate" in waiting and "ios build 1: waiting_for_gate" in waiting
    assert "[    ok] release-manager approval: approved by demo-rm" in approved
    assert "candidate build:android/android/sample-app-1.0.0-1.tar.gz  sha256 " in approved
    assert "fastlane-report" not in approved.split("demo: audit trail")[0]
    assert "android build 1: ready_to_submit" in approved and "gate: passed" in approved
    assert "demo-rm  release_manager  approved" in approved
    # Web parity: pending until the web deployed, passed on 2026.12.1 (recorded with a
    # web_deployer token), the board, and the release halted when the web rolls back.
    assert "[   ...] web parity: no web deployment recorded for production" in waiting
    assert (
        "[    ok] web parity: production web 2026.12.1 (api 2025-11) provides api >= 2025-11, "
        "contract orders v3" in approved
    )
    board, _, rollback = approved.partition("demo: the web rolls 2026.12.1 back")
    assert "production: web 2026.12.1  api 2025-11" in board.split("demo: the parity board")[1]
    assert "android  1.0.0        ready_to_submit" in board
    assert "production web 2026.12.1 rolled back; now 2026.11.0" in rollback
    assert "release 1.0.0 android: halted: web rolled back to 2026.11.0" in rollback
    assert "android build 1: ready_to_submit (halted: web rolled back to 2026.11.0)" in rollback
    assert "[    ok] web parity" not in rollback, "the parity line no longer passes after the rollback"
    # After the gate: both platforms submitted to the store simulator, the App Store review
    # approved, the Play rollout at 1 % -> 20 %, halted, resumed, completed; the release finished.
    stores = out.split("demo: store simulator", 1)[1]
    assert "demo: 0.9.0 released on both stores" in stores
    shipped = stores.split("demo: shipping 1.0.0", 1)[1]
    assert "store: google_play review released rollout in_progress at 1% (inProgress)" in shipped
    assert re.search(r"store: app_store review \w+ rollout in_progress.*\(ACTIVE\)", shipped), shipped
    assert "store: google_play review released rollout in_progress at 20% (inProgress)" in shipped
    assert "store: google_play review released rollout halted at 20% (halted)" in shipped
    assert re.search(r"store: app_store review \w+ rollout halted.*\(PAUSED\)", shipped), shipped
    resumed = shipped.split("demo: instep release resume", 1)[1]
    assert "android build 2: rolling_out" in resumed and "at 20% (inProgress)" in resumed, resumed
    assert re.search(r"release \d+: sample-store 1\.0\.0 from run \d+: finished", resumed)
    for action in ("rollout_rollout", "rollout_halt", "rollout_resume", "rollout_complete", "finished"):
        assert f" {action} " in resumed.split("demo: audit trail of sample-store 1.0.0:", 1)[1]
    assert "requests the official descriptions refuse" in out
    assert "and 0 requests the official descriptions refuse" in out
    assert "==> run 1 succeeded" in out
    assert "demo: run 1 succeeded" in out and "/openapi.json" in out
    assert "demo-secret-value" not in out
