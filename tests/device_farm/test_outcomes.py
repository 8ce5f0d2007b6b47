from device_farm.outcomes import Attempt, Final, Status, TestResult, classify, needs_retry, verdict


def a(status: Status) -> Attempt:
    return Attempt(status, 1.0, "pixel-8", 0)


def test_failed_then_passed_is_flaky_and_does_not_fail_the_suite():
    r = TestResult("t::x", (a(Status.FAILED), a(Status.PASSED)))
    assert r.final == Final.FLAKY
    v = verdict([r])
    assert v.passed and v.flaky == ("t::x",)


def test_flaky_fails_the_suite_when_configured():
    r = TestResult("t::x", (a(Status.ERROR), a(Status.PASSED)))
    v = verdict([r], fail_on_flaky=True)
    assert not v.passed
    assert "flaky" in v.reasons[0]


def test_failing_after_all_retries_fails_the_suite_naming_the_test():
    r = TestResult("t::x", (a(Status.FAILED), a(Status.FAILED)))
    v = verdict([r, TestResult("t::ok", (a(Status.PASSED),))])
    assert not v.passed
    assert v.failing == ("t::x",)
    assert v.reasons == ("1 test(s) failed: t::x",)


def test_quarantined_failures_are_reported_but_never_fail_the_suite():
    r = TestResult("t::known_bad", (a(Status.FAILED),), quarantined=True)
    v = verdict([r])
    assert v.passed
    assert v.quarantined_failing == ("t::known_bad",)


def test_retry_only_failed_tests_with_attempts_left():
    assert needs_retry([a(Status.FAILED)], retries=1)
    assert not needs_retry([a(Status.FAILED), a(Status.FAILED)], retries=1)
    assert not needs_retry([a(Status.PASSED)], retries=3)
    assert not needs_retry([a(Status.SKIPPED)], retries=3)
    assert not needs_retry([a(Status.FAILED)], retries=3, quarantined=True)


def test_no_attempt_at_all_is_an_error():
    assert classify([]) == Final.ERROR
