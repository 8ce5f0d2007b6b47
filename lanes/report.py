"""fastlane's own `report.xml` (written after every lane into `FL_REPORT_PATH`) as lane steps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from toolrun.junit import JUnitError, parse_junit

REPORT_NAME = "report.xml"
# fastlane names each step "<index>: <action or sh command>", the index zero-padded.
_INDEXED = re.compile(r"^(\d+): (.*)$", re.DOTALL)
# fastlane puts the Ruby backtrace in front of the message: "file.rb:48:in `execute_action'".
_BACKTRACE = re.compile(r"^\S.*:\d+:in `.*'$")


@dataclass(frozen=True)
class Step:
    """One fastlane action (or `sh`) the lane ran, with its time and, when it failed, why."""

    index: int
    name: str
    duration_s: float
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def clean_failure(message: str) -> str:
    """Drop fastlane's Ruby backtrace lines and blank edges from a step's failure message."""
    lines = [line for line in message.splitlines() if not _BACKTRACE.match(line.strip())]
    return "\n".join(lines).strip()


def parse_report(data: str | bytes, source: str = REPORT_NAME) -> list[Step]:
    """Steps of a fastlane report.xml; raises `JUnitError` naming `source` when it is malformed."""
    steps = []
    for position, case in enumerate(parse_junit(data, source)):
        match = _INDEXED.match(case.name)
        index, name = (int(match.group(1)), match.group(2)) if match else (position, case.name)
        failure = None
        if case.status in ("failed", "error"):
            failure = clean_failure(case.message or "") or "failed"
        steps.append(Step(index=index, name=name, duration_s=case.duration_s, failure=failure))
    return steps


def read_report(report_dir: Path) -> list[Step] | None:
    """Steps from `<report_dir>/report.xml`, or None when fastlane wrote none (it crashed early)."""
    path = report_dir / REPORT_NAME
    if not path.is_file():
        return None
    return parse_report(path.read_bytes(), str(path))


__all__ = ["JUnitError", "Step", "clean_failure", "parse_report", "read_report"]
