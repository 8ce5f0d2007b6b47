"""Status and reason of a finished lane, and what is read from its log (pure)."""

from __future__ import annotations

from lanes.outcome import LaneLogWatcher, decide
from lanes.report import Step

BASE = dict(lane="android build", fastfile="fastlane/Fastfile", timeout_s=600.0, crash=None, last_line=None)


def test_watcher_keeps_the_error_and_current_step_and_passes_lines_on() -> None:
    seen: list[str] = []
    watcher = LaneLogWatcher(seen.append)
    lines = [
        "--- Step: gradle ---",
        "[!] ignored? no: the last one wins",
        "Fastfile:12:in `block (2 levels)': undefined local variable `x' (NameError)",
        "/gems/interface.rb:153:in `shell_error!': [!] Exit status of command 'x' was 3 instead of 0. "
        "(FastlaneCore::Interface::FastlaneShellError)",
    ]
    for line in lines:
        watcher(line)
    assert seen == lines
    assert watcher.current_step == "gradle"
    assert watcher.error == "Exit status of command 'x' was 3 instead of 0."
    assert watcher.crash == "undefined local variable `x' (NameError at Fastfile:12)"


def test_success() -> None:
    assert decide(
        **BASE, exit_code=0, timed_out=False, canceled=False, error=None, last_step=None, steps=[]
    ) == (
        "succeeded",
        None,
    )


def test_failure_names_the_failing_step_and_the_message() -> None:
    steps = [Step(0, "gradle", 1.0), Step(1, "upload_to_play_store", 2.0, "Google Api Error: forbidden")]
    status, reason = decide(
        **BASE,
        exit_code=1,
        timed_out=False,
        canceled=False,
        error="Google Api Error: forbidden",
        last_step=None,
        steps=steps,
    )
    assert status == "failed"
    assert reason == (
        "lane 'android build' failed at step 'upload_to_play_store' (fastlane exited with code 1): "
        "Google Api Error: forbidden"
    )


def test_user_error_without_failing_step() -> None:
    _, reason = decide(
        **BASE,
        exit_code=1,
        timed_out=False,
        canceled=False,
        error="Signing key missing",
        last_step="echo",
        steps=[],
    )
    assert reason == "lane 'android build' failed (fastlane exited with code 1): Signing key missing"


def test_unknown_lane_lists_the_lanes_that_exist() -> None:
    _, reason = decide(
        **BASE,
        exit_code=1,
        timed_out=False,
        canceled=False,
        error="Could not find lane 'android nope'. Available lanes: android build, ios build",
        last_step=None,
        steps=[],
    )
    assert (
        reason
        == "lane 'android nope' does not exist in fastlane/Fastfile; lanes that exist: android build, ios build"
    )


def test_timeout_and_cancel() -> None:
    status, reason = decide(
        **BASE, exit_code=None, timed_out=True, canceled=False, error=None, last_step="sleep 600", steps=None
    )
    assert (status, reason) == (
        "failed",
        "lane 'android build' timed out after 600 s during step 'sleep 600'; the process tree was killed",
    )
    status, reason = decide(
        **BASE, exit_code=None, timed_out=False, canceled=True, error=None, last_step=None, steps=None
    )
    assert (status, reason) == ("canceled", "lane 'android build' was canceled")


def test_without_any_message_the_last_log_line_is_the_reason() -> None:
    base = {**BASE, "last_line": "Killed"}
    _, reason = decide(
        **base, exit_code=137, timed_out=False, canceled=False, error=None, last_step=None, steps=None
    )
    assert reason == "lane 'android build' failed (fastlane exited with code 137): Killed"
