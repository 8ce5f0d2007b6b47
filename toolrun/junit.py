"""JUnit XML test reports (fastlane scan, Gradle, pytest, `node --test`, ...) as plain test cases.

General on purpose: the device-farm suite runner reads its reports with the same parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

TestStatus = Literal["passed", "failed", "error", "skipped"]

# A report larger than this is refused rather than loaded into memory.
MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_MESSAGE_CHARS = 4000


class JUnitError(ValueError):
    """A file that should be a JUnit report is not one; the message names the file."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: not a readable JUnit XML report: {detail}")


@dataclass(frozen=True)
class TestCase:
    """One test case as the report states it. `duration_s` is 0.0 when the report has no time."""

    __test__ = False  # not a pytest test class

    suite: str
    name: str
    classname: str
    duration_s: float
    status: TestStatus
    message: str | None = None
    source: str = ""


def _seconds(raw: str | None) -> float:
    if not raw:
        return 0.0
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        return 0.0
    return value if value > 0 else 0.0


def _message(element: ET.Element) -> str | None:
    text = element.get("message") or (element.text or "").strip()
    if not text:
        return None
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _case(element: ET.Element, suite: str, source: str) -> TestCase:
    status: TestStatus = "passed"
    message = None
    for kind, child_status in (("error", "error"), ("failure", "failed"), ("skipped", "skipped")):
        child = element.find(kind)
        if child is not None:
            status = child_status  # type: ignore[assignment]
            message = _message(child)
            break
    return TestCase(
        suite=suite,
        name=element.get("name", ""),
        classname=element.get("classname", ""),
        duration_s=_seconds(element.get("time")),
        status=status,
        message=message,
        source=source,
    )


def _walk(element: ET.Element, suite: str, source: str, out: list[TestCase]) -> None:
    for child in element:
        if child.tag == "testcase":
            out.append(_case(child, suite, source))
        elif child.tag == "testsuite":
            _walk(child, child.get("name", suite), source, out)


def parse_junit(data: str | bytes, source: str = "<junit>") -> list[TestCase]:
    """Test cases of a JUnit XML document, in document order; raises `JUnitError` if it is not one."""
    if not (data.strip() if isinstance(data, str) else data.strip()):
        raise JUnitError(source, "the file is empty")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise JUnitError(source, f"malformed XML ({exc})") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitError(source, f"the root element is <{root.tag}>, expected <testsuites> or <testsuite>")
    cases: list[TestCase] = []
    if root.tag == "testsuite":
        _walk(root, root.get("name", ""), source, cases)
    else:
        _walk(root, "", source, cases)
    return cases


def read_junit(path: Path | str) -> list[TestCase]:
    """Parse the JUnit report at `path`; raises `JUnitError` naming the file when it cannot."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise JUnitError(str(path), f"{size} bytes is larger than the {MAX_REPORT_BYTES} bytes allowed")
        data = path.read_bytes()
    except OSError as exc:
        raise JUnitError(str(path), exc.strerror or str(exc)) from None
    return parse_junit(data, str(path))


def count_by_status(cases: list[TestCase]) -> dict[str, int]:
    """`{"passed": n, "failed": n, "error": n, "skipped": n}` for a summary line."""
    counts = Counter(case.status for case in cases)
    return {status: counts.get(status, 0) for status in ("passed", "failed", "error", "skipped")}
