"""Test outcomes across attempts (pure): retry decisions, flaky classification, the suite verdict."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    """How one attempt of one test ended (JUnit's vocabulary)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


class Final(StrEnum):
    """A test's result over all its attempts."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    # Failed at least once, then passed on a retry.
    FLAKY = "flaky"


@dataclass(frozen=True)
class Attempt:
    status: Status
    duration_s: float
    device: str
    shard: int
    message: str = ""
    artifacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    test_id: str
    attempts: tuple[Attempt, ...]
    quarantined: bool = False

    @property
    def final(self) -> Final:
        return classify(self.attempts)

    @property
    def failing(self) -> bool:
        """Whether this test fails the suite (before the flaky policy is applied)."""
        return not self.quarantined and self.final in (Final.FAILED, Final.ERROR)


def _bad(status: Status) -> bool:
    return status in (Status.FAILED, Status.ERROR)


def classify(attempts: Sequence[Attempt]) -> Final:
    """The last attempt decides, except that a pass after any failure is `flaky`."""
    if not attempts:
        return Final.ERROR
    last = attempts[-1].status
    if last == Status.PASSED:
        return Final.FLAKY if any(_bad(a.status) for a in attempts[:-1]) else Final.PASSED
    return Final(last.value)


def needs_retry(attempts: Sequence[Attempt], retries: int, quarantined: bool = False) -> bool:
    """Retry a failed or errored test while it has attempts left; quarantined tests are not retried
    because their result cannot change the verdict."""
    return not quarantined and bool(attempts) and _bad(attempts[-1].status) and len(attempts) <= retries


@dataclass(frozen=True)
class Verdict:
    passed: bool
    failing: tuple[str, ...] = ()
    flaky: tuple[str, ...] = ()
    quarantined_failing: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default_factory=tuple)


def verdict(results: Collection[TestResult], *, fail_on_flaky: bool = False) -> Verdict:
    """The suite passes when no non-quarantined test failed or errored (and, when configured, none
    was flaky). Quarantined tests are reported but never fail the suite."""
    failing = tuple(sorted(r.test_id for r in results if r.failing))
    flaky = tuple(sorted(r.test_id for r in results if r.final == Final.FLAKY and not r.quarantined))
    q_failing = tuple(
        sorted(r.test_id for r in results if r.quarantined and r.final in (Final.FAILED, Final.ERROR))
    )
    reasons: list[str] = []
    if failing:
        reasons.append(f"{len(failing)} test(s) failed: {', '.join(failing)}")
    if fail_on_flaky and flaky:
        reasons.append(f"{len(flaky)} test(s) were flaky and flaky tests fail this suite: {', '.join(flaky)}")
    return Verdict(
        passed=not reasons,
        failing=failing,
        flaky=flaky,
        quarantined_failing=q_failing,
        reasons=tuple(reasons),
    )
