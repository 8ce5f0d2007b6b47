"""Running one lane as a worker does: unattended env, streamed and redacted log, timeout and
cancel through `toolrun.process.run_process`, then report.xml, artifacts and JUnit tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from lanes.artifacts import Artifact, collect_artifacts, mark_artifacts_dir
from lanes.command import OptionValue, lane_command, lane_name
from lanes.environment import lane_env
from lanes.fastfile import find_fastfile
from lanes.locate import FastlaneCommand
from lanes.outcome import LaneLogWatcher, LaneResult, decide
from lanes.report import REPORT_NAME, Step, read_report
from toolrun.junit import JUnitError, TestCase, read_junit
from toolrun.process import KILL_GRACE_SECONDS, run_process
from toolrun.redaction import Redactor
from toolrun.sandbox import Sandbox

# fastlane's report.xml goes here, inside the artifacts directory, so it is uploaded with them.
REPORT_FOLDER = "fastlane-report"


def _tests_from(artifacts: list[Artifact]) -> tuple[list[TestCase], list[str]]:
    tests: list[TestCase] = []
    problems: list[str] = []
    for artifact in artifacts:
        if artifact.kind != "junit":
            continue
        try:
            tests.extend(read_junit(artifact.path))
        except JUnitError as exc:
            problems.append(str(exc))
    return tests, problems


def run_lane(
    fastlane: FastlaneCommand,
    platform: str | None,
    lane: str,
    options: Mapping[str, OptionValue] | None = None,
    *,
    workspace: Path,
    artifacts_dir: Path,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    redactor: Redactor | None = None,
    kill_grace: float = KILL_GRACE_SECONDS,
    sandbox: Sandbox | None = None,
) -> LaneResult:
    """Run `fastlane [platform] lane key:value ...` in `workspace` and read what it produced.

    `env` is the job's environment (PATH, secrets, INSTEP_*); the unattended fastlane settings
    are added on top; `sandbox`, when given, is where fastlane runs. Raises `LanesError` subclasses (no Fastfile, bad option) before starting;
    everything that happens once fastlane runs is reported in the returned `LaneResult`."""
    workspace = Path(workspace)
    artifacts_dir = Path(artifacts_dir)
    fastfile = find_fastfile(workspace)
    argv = lane_command(fastlane, platform, lane, options)
    mark_artifacts_dir(artifacts_dir)
    report_dir = artifacts_dir / REPORT_FOLDER
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / REPORT_NAME).unlink(missing_ok=True)
    watcher = LaneLogWatcher(on_line)
    # Workspace outputs older than the lane are leftovers from an earlier run, not this one's.
    started_wall = time.time() - 1.0
    result = run_process(
        argv,
        cwd=workspace,
        env=lane_env(env, artifacts_dir=artifacts_dir, report_dir=report_dir),
        on_line=watcher,
        timeout=timeout,
        cancel=cancel,
        redactor=redactor,
        kill_grace=kill_grace,
        sandbox=sandbox,
    )
    problems: list[str] = []
    steps: list[Step] | None
    try:
        steps = read_report(report_dir)
    except JUnitError as exc:
        steps, problems = None, [f"fastlane's report is unreadable: {exc}"]
    report_path = report_dir / REPORT_NAME
    artifacts = collect_artifacts(workspace, artifacts_dir, since=started_wall, exclude=(report_path,))
    tests, junit_problems = _tests_from(artifacts)
    last_line = next((line.strip() for line in reversed(result.tail) if line.strip()), None)
    status, reason = decide(
        lane=lane_name(platform, lane),
        fastfile=str(fastfile.relative_to(workspace)),
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        canceled=result.canceled,
        timeout_s=timeout,
        error=watcher.error,
        crash=watcher.crash,
        last_step=watcher.current_step,
        steps=steps,
        last_line=last_line,
    )
    return LaneResult(
        status=status,
        reason=reason,
        lane=lane_name(platform, lane),
        command=tuple(argv),
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        duration_s=result.duration_s,
        steps=steps or [],
        artifacts=[a for a in artifacts if a.path != report_path],
        tests=tests,
        problems=problems + junit_problems,
        report_path=report_path if steps is not None else None,
    )
