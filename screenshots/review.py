"""QA review of a run's comparisons, as pure decisions: whether a review is allowed, what it does
to the baselines, and the screenshot stage's verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from screenshots.baselines import BaselineKey
from screenshots.diff import Status

NEEDS_REVIEW = frozenset({Status.CHANGED, Status.NEW, Status.MISSING, Status.SIZE_MISMATCH})


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class StageState(StrEnum):
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ReviewRefused(Exception):
    """A review cannot be recorded; the message says why and what to review instead."""


class ComparisonSuperseded(ReviewRefused):
    pass


@dataclass(frozen=True)
class ComparisonRecord:
    """One stored comparison of a run, as the review logic needs it."""

    id: str
    run_id: str
    run_number: int
    branch: str
    key: BaselineKey
    status: Status
    error: str | None = None


@dataclass(frozen=True)
class ReviewRecord:
    """A QA decision on one comparison; the latest per comparison counts (sequence orders them)."""

    comparison_id: str
    decision: Decision
    reviewer: str
    sequence: int
    comment: str = ""


@dataclass(frozen=True)
class StageVerdict:
    state: StageState
    reason: str
    awaiting: tuple[str, ...] = ()


class BaselineAction(StrEnum):
    """What an approval does to the branch baseline."""

    PROMOTE_CANDIDATE = "promote_candidate"  # changed, new, size_mismatch
    RETIRE = "retire"  # missing: the screen was removed on purpose
    NONE = "none"  # rejections


def check_review(
    comparison: ComparisonRecord, decision: Decision, others: Iterable[ComparisonRecord]
) -> BaselineAction:
    """Refuse a review that makes no sense; otherwise say what it does to the baseline.

    `others` are the comparisons of the same project; one for the same screen and branch in a
    newer run supersedes this one, since approving it would promote an outdated image.
    """
    label = _label(comparison)
    if comparison.status not in NEEDS_REVIEW:
        raise ReviewRefused(
            f"{label} is {comparison.status.value}: there is nothing to {decision.value[:-1]}"
        )
    newer = [
        other
        for other in others
        if other.key == comparison.key
        and other.branch == comparison.branch
        and other.run_number > comparison.run_number
    ]
    if newer:
        latest = max(newer, key=lambda other: other.run_number)
        raise ComparisonSuperseded(
            f"{label} from run #{comparison.run_number} is superseded by run #{latest.run_number} on branch "
            f"{comparison.branch!r}; review comparison {latest.id} of that run instead"
        )
    if decision is Decision.REJECTED:
        return BaselineAction.NONE
    return BaselineAction.RETIRE if comparison.status is Status.MISSING else BaselineAction.PROMOTE_CANDIDATE


def stage_verdict(comparisons: Sequence[ComparisonRecord], reviews: Iterable[ReviewRecord]) -> StageVerdict:
    """Failed on an unreadable screenshot or any rejection; waiting while a change, new, missing or
    resized screen has no decision; succeeded when every one is approved (or nothing changed)."""
    if not comparisons:
        return StageVerdict(
            StageState.FAILED, "no screenshots were captured and no baselines exist; check the capture suite"
        )
    errors = [c for c in comparisons if c.status is Status.ERROR]
    if errors:
        first = errors[0]
        return StageVerdict(
            StageState.FAILED,
            f"{len(errors)} screenshot(s) could not be compared, e.g. {_label(first)}: {first.error or 'unreadable'}",
        )
    latest: dict[str, ReviewRecord] = {}
    for review in sorted(reviews, key=lambda r: r.sequence):
        latest[review.comparison_id] = review
    to_review = [c for c in comparisons if c.status in NEEDS_REVIEW]
    rejected = [
        (c, latest[c.id]) for c in to_review if c.id in latest and latest[c.id].decision is Decision.REJECTED
    ]
    if rejected:
        comparison, review = rejected[0]
        comment = f": {review.comment}" if review.comment else ""
        more = f" (and {len(rejected) - 1} more)" if len(rejected) > 1 else ""
        return StageVerdict(
            StageState.FAILED, f"{_label(comparison)} rejected by {review.reviewer}{comment}{more}"
        )
    awaiting = [c for c in to_review if c.id not in latest]
    if awaiting:
        kinds = Counter(c.status.value for c in awaiting)
        detail = ", ".join(f"{n} {status}" for status, n in sorted(kinds.items()))
        return StageVerdict(
            StageState.WAITING,
            f"{len(awaiting)} of {len(comparisons)} screenshots await review ({detail})",
            tuple(c.id for c in awaiting),
        )
    if to_review:
        return StageVerdict(StageState.SUCCEEDED, f"all {len(to_review)} screenshot changes approved")
    return StageVerdict(StageState.SUCCEEDED, f"{len(comparisons)} screenshots unchanged")


def _label(comparison: ComparisonRecord) -> str:
    k = comparison.key
    return f"{k.screen} ({k.platform}, {k.device_profile}, {k.locale})"
