"""A job's test results in one list: lane JUnit cases and device-suite tests, failures first."""

from __future__ import annotations

from dashboard.results import counts, result_rows, status_counts


def test_lane_and_suite_results_are_one_list_with_failures_first_and_flaky_marked() -> None:
    results = {
        "tests": [
            {"suite": "unit", "name": "b_passes", "classname": "m", "duration_s": 0.1, "status": "passed"},
            {"suite": "unit", "name": "a_skipped", "classname": "m", "status": "skipped"},
            {"suite": "unit", "name": "c_fails", "classname": "m", "status": "failed", "message": "boom"},
        ],
        "suites": {
            "pixel-8": {
                "tests": [
                    {
                        "id": "t::retry",
                        "status": "flaky",
                        "attempts": [
                            {"status": "failed", "duration_s": 1.0, "message": "timeout"},
                            {"status": "passed", "duration_s": 2.0},
                        ],
                    },
                    {
                        "id": "t::error",
                        "status": "error",
                        "quarantined": True,
                        "attempts": [{"status": "error", "message": "crash"}],
                    },
                ]
            }
        },
    }
    rows = result_rows(results)
    assert [(r.name, r.status) for r in rows] == [
        ("c_fails", "failed"),
        ("t::error", "error"),
        ("t::retry", "flaky"),
        ("a_skipped", "skipped"),
        ("b_passes", "passed"),
    ]
    retry = rows[2]
    assert retry.flaky and retry.attempts == 2 and retry.message == "timeout" and retry.duration_s == 3.0
    assert rows[1].quarantined and rows[1].where == "pixel-8"
    assert counts(rows) == {"failed": 1, "error": 1, "flaky": 1, "skipped": 1, "passed": 1}


def test_no_results() -> None:
    assert result_rows(None) == [] and result_rows({}) == []


def test_only_some_statuses_and_counts_without_rows() -> None:
    results = {
        "tests": [{"name": "a", "status": "passed"}, {"name": "b", "status": "failed"}],
        "suites": {"pixel-8": {"tests": [{"id": "c", "status": "flaky", "attempts": []}]}},
    }
    assert [r.name for r in result_rows(results, frozenset({"failed", "flaky"}))] == ["b", "c"]
    assert status_counts(results) == {"passed": 1, "failed": 1, "flaky": 1}
    assert status_counts(None) == {}
