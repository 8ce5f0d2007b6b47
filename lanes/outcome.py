"""How a lane ended, decided from plain facts: the process result, the `[!]` error fastlane
printed, the step banners in the log, and the steps of report.xml."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lanes.artifacts import Artifact
from lanes.report import Step
from toolrun.junit import TestCase, count_by_status

LaneStatus = Literal["succeeded", "failed", "canceled"]

_STEP_BANNER = re.compile(r"^-+ Step: (.+?) -+$")
# "[!] message", or in a crash report "...in `shell_error!': [!] message (FastlaneCore::...Error)".
_ERROR = re.compile(r"(?:^|: )\[!\] (?P<message>.+?)(?: \((?:[A-Z]\w*::)*[A-Z]\w*\))?$")
# The first line of an uncaught Ruby exception: "Fastfile:57:in `run': message (Errno::ENOENT)".
_CRASH = re.compile(r"^(?P<where>[^\s:]+:\d+):in `[^']*': (?P<message>.+) \((?P<type>[A-Z][\w:]*)\)$")
_UNKNOWN_LANE = re.compile(r"^Could not find lane '(.+?)'\. Available lanes: (.*)$")
MAX_REASON_CHARS = 500


class LaneLogWatcher:
    """Passes each log line on, remembering the `[!]` error line and the step being run.
    Keeps O(1) state however long the log is."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._on_line = on_line
        self.error: str | None = None
        self.crash: str | None = None
        self.current_step: str | None = None
        self.lines = 0

    def __call__(self, line: str) -> None:
        self.lines += 1
        error = _ERROR.search(line)
        if error and error.group("message").strip():
            self.error = error.group("message").strip()
        elif self.crash is None and (crash := _CRASH.match(line)):
            where, message, kind = crash.group("where", "message", "type")
            self.crash = f"{message} ({kind} at {where})"
        else:
            banner = _STEP_BANNER.match(line.strip())
            if banner:
                self.current_step = banner.group(1)
        self._on_line(line)


@dataclass(frozen=True)
class LaneResult:
    """What the job shows for a lane: status and reason, steps, artifacts, tests and timing.

    `status` is "succeeded", "failed" (including `timed_out`) or "canceled"; `reason` is None
    only on success. `problems` lists things that went wrong reading results (an unreadable
    JUnit file) without changing the lane's status."""

    status: LaneStatus
    reason: str | None
    lane: str
    command: tuple[str, ...]
    exit_code: int | None
    timed_out: bool
    duration_s: float
    steps: list[Step] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    report_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed_step(self) -> Step | None:
        return next((step for step in self.steps if not step.ok), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for `--json` output and for storing with the job)."""
        return {
            "lane": self.lane,
            "status": self.status,
            "reason": self.reason,
            "command": list(self.command),
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "duration_s": round(self.duration_s, 3),
            "failed_step": self.failed_step.name if self.failed_step else None,
            "steps": [
                {"index": s.index, "name": s.name, "duration_s": s.duration_s, "failure": s.failure}
                for s in self.steps
            ],
            "artifacts": [
                {
                    "path": str(a.path),
                    "kind": a.kind,
                    "size": a.size,
                    "origin": str(a.origin) if a.origin else None,
                }
                for a in self.artifacts
            ],
            "tests": [
                {
                    "suite": t.suite,
                    "name": t.name,
                    "classname": t.classname,
                    "duration_s": t.duration_s,
                    "status": t.status,
                    "message": t.message,
                    "source": t.source,
                }
                for t in self.tests
            ],
            "test_counts": count_by_status(self.tests),
            "problems": list(self.problems),
            "report_path": str(self.report_path) if self.report_path else None,
        }


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def decide(
    *,
    lane: str,
    fastfile: str,
    exit_code: int | None,
    timed_out: bool,
    canceled: bool,
    timeout_s: float | None,
    error: str | None,
    crash: str | None = None,
    last_step: str | None,
    steps: list[Step] | None,
    last_line: str | None,
) -> tuple[LaneStatus, str | None]:
    """Status and user-facing reason for a finished lane."""
    if canceled:
        return "canceled", f"lane '{lane}' was canceled" + (
            f" during step '{last_step}'" if last_step else ""
        )
    if timed_out:
        during = f" during step '{last_step}'" if last_step else ""
        return "failed", f"lane '{lane}' timed out after {timeout_s:g} s{during}; the process tree was killed"
    if exit_code == 0:
        return "succeeded", None
    if error:
        unknown = _UNKNOWN_LANE.match(error)
        if unknown:
            return "failed", (
                f"lane '{unknown.group(1)}' does not exist in {fastfile}; "
                f"lanes that exist: {unknown.group(2)}"
            )
    failed = next((step for step in steps or [] if not step.ok), None)
    message = error or (failed.failure if failed else None) or crash or last_line
    at = f" at step '{failed.name}'" if failed else ""
    detail = f": {_short(message)}" if message else ""
    return "failed", f"lane '{lane}' failed{at} (fastlane exited with code {exit_code}){detail}"
