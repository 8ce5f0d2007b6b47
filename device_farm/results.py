"""Map a shard's JUnit report (read with toolrun.junit) back to the pytest node ids it ran."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from device_farm.outcomes import Status
from toolrun.junit import JUnitError, TestCase, read_junit

__all__ = ["JUnitError", "junit_key", "parse_collected", "read_shard_results"]

_SEVERITY = {Status.PASSED: 0, Status.SKIPPED: 1, Status.FAILED: 2, Status.ERROR: 3}


def junit_key(nodeid: str) -> tuple[str, str]:
    """(classname, name) pytest writes for `nodeid` (its `mangle_test_address`)."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


def parse_collected(output: str) -> list[str]:
    """Node ids from `pytest --collect-only -q` output."""
    return [line.strip() for line in output.splitlines() if "::" in line and not line.startswith((" ", "<"))]


def read_shard_results(path: Path, nodeids: Sequence[str]) -> dict[str, tuple[Status, float, str]]:
    """{nodeid: (status, seconds, message)} for the tests of one shard found in its JUnit report.
    pytest can report one test twice (a failed call and an erroring teardown): the worst wins and
    the durations add up. Raises JUnitError when the report is malformed."""
    by_key = {junit_key(n): n for n in nodeids}
    found: dict[str, tuple[Status, float, str]] = {}
    case: TestCase
    for case in read_junit(path):
        nodeid = by_key.get((case.classname, case.name))
        if nodeid is None:
            continue
        status = Status(case.status)
        message = case.message or ""
        if nodeid in found:
            old_status, old_s, old_msg = found[nodeid]
            if _SEVERITY[old_status] >= _SEVERITY[status]:
                status, message = old_status, old_msg
            found[nodeid] = (status, old_s + case.duration_s, message)
        else:
            found[nodeid] = (status, case.duration_s, message)
    return found
