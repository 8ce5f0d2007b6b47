"""JUnit and fastlane report.xml parsing, against reports written by the real tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanes.report import parse_report, read_report
from toolrun.junit import JUnitError, count_by_status, parse_junit, read_junit

FIXTURES = Path(__file__).parent / "fixtures"


def test_node_test_runner_report_gives_suites_statuses_and_messages() -> None:
    cases = read_junit(FIXTURES / "node-test-junit.xml")
    by_name = {case.name: case for case in cases}
    assert [case.name for case in cases] == [
        "adds <items> & &quot;quotes&quot;",
        "fails",
        "skipped",
        "todo",
        "top",
    ]
    assert by_name["fails"].suite == "cart"
    assert by_name["fails"].status == "failed"
    assert by_name["fails"].message == "one is not two"
    assert by_name["skipped"].status == "skipped" and by_name["skipped"].message == "not today"
    assert by_name["top"].suite == "" and by_name["top"].status == "failed"
    assert by_name["fails"].duration_s == pytest.approx(0.013111)
    assert count_by_status(cases) == {"passed": 1, "failed": 2, "error": 0, "skipped": 2}


def test_pytest_report_separates_failures_from_errors() -> None:
    cases = read_junit(FIXTURES / "pytest-junit.xml")
    statuses = {case.name: case.status for case in cases}
    assert statuses == {
        "test_adds": "passed",
        "test_total": "failed",
        "test_device": "skipped",
        "test_uses_broken": "error",
    }
    total = next(case for case in cases if case.name == "test_total")
    assert total.classname == "test_x.TestCart"
    assert total.message is not None and "total is wrong" in total.message
    assert all(case.suite == "pytest" for case in cases)


def test_gradle_report_with_testsuite_root() -> None:
    cases = read_junit(FIXTURES / "gradle-TEST-com.example.BTest.xml")
    assert [(c.suite, c.name, c.status) for c in cases] == [
        ("com.example.BTest", "greet", "failed"),
        ("com.example.BTest", "farewell", "passed"),
    ]
    assert cases[0].message == "org.junit.ComparisonFailure: expected:<Bye[!]> but was:<Bye[]>"
    assert cases[0].source.endswith("gradle-TEST-com.example.BTest.xml")


def test_failure_without_message_attribute_uses_its_text() -> None:
    xml = '<testsuite name="s"><testcase name="t" time="1,234.5"><failure>boom\nat x</failure></testcase></testsuite>'
    (case,) = parse_junit(xml)
    assert case.message == "boom\nat x"
    assert case.duration_s == 1234.5


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("", "empty"),
        ("<testsuites><testcase name='x'>", "malformed XML"),
        ("<html><body>502 Bad Gateway</body></html>", "root element is <html>"),
    ],
)
def test_a_file_that_is_not_junit_is_named_in_the_error(tmp_path: Path, content: str, detail: str) -> None:
    path = tmp_path / "TEST-broken.xml"
    path.write_text(content)
    with pytest.raises(JUnitError) as error:
        read_junit(path)
    assert str(path) in str(error.value)
    assert detail in str(error.value)


def test_missing_junit_file_is_a_junit_error(tmp_path: Path) -> None:
    with pytest.raises(JUnitError, match="No such file"):
        read_junit(tmp_path / "absent.xml")


def test_fastlane_report_steps_with_failure_message_without_backtrace() -> None:
    steps = parse_report((FIXTURES / "fastlane-report-failed.xml").read_bytes())
    assert [(s.index, s.name, s.ok) for s in steps] == [(0, "echo ok", True), (1, "echo bad; exit 3", False)]
    assert steps[1].failure == "Exit status of command 'echo bad; exit 3' was 3 instead of 0.\nbad"
    assert steps[0].duration_s > 0


def test_no_report_means_no_steps(tmp_path: Path) -> None:
    assert read_report(tmp_path) is None
