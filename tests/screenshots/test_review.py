"""The review workflow's decisions: the stage verdict and which reviews are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from screenshots.baselines import BaselineKey
from screenshots.blobstore import LocalBlobStore
from screenshots.diff import Status
from screenshots.png import read_header
from screenshots.renditions import Renditions, thumbnail_png
from screenshots.review import (
    BaselineAction,
    ComparisonRecord,
    ComparisonSuperseded,
    Decision,
    ReviewRecord,
    ReviewRefused,
    StageState,
    check_review,
    stage_verdict,
)
from screenshots.rules import ScreenSettings
from tests.screenshots.conftest import draw_screen, png_bytes


def comparison(cid: str, screen: str, status: Status, run: int = 1, branch: str = "main") -> ComparisonRecord:
    key = BaselineKey("shop", "ios", "iphone-15", "en-US", screen)
    return ComparisonRecord(cid, f"run-{run}", run, branch, key, status)


RUN = [
    comparison("c1", "home", Status.UNCHANGED),
    comparison("c2", "orders", Status.CHANGED),
    comparison("c3", "profile", Status.NEW),
]


def test_stage_waits_while_changes_have_no_review() -> None:
    verdict = stage_verdict(RUN, [ReviewRecord("c2", Decision.APPROVED, "alice", 1)])
    assert verdict.state is StageState.WAITING
    assert verdict.reason == "1 of 3 screenshots await review (1 new)"
    assert verdict.awaiting == ("c3",)


def test_stage_succeeds_when_every_change_is_approved() -> None:
    reviews = [
        ReviewRecord("c2", Decision.APPROVED, "alice", 1),
        ReviewRecord("c3", Decision.APPROVED, "bob", 2),
    ]
    verdict = stage_verdict(RUN, reviews)
    assert (verdict.state, verdict.reason) == (StageState.SUCCEEDED, "all 2 screenshot changes approved")


def test_any_rejection_fails_the_stage_with_who_and_why() -> None:
    reviews = [
        ReviewRecord("c2", Decision.REJECTED, "alice", 1, "button overlaps the total"),
        ReviewRecord("c3", Decision.APPROVED, "bob", 2),
    ]
    verdict = stage_verdict(RUN, reviews)
    assert verdict.state is StageState.FAILED
    assert verdict.reason == "orders (ios, iphone-15, en-US) rejected by alice: button overlaps the total"


def test_latest_review_of_a_comparison_counts() -> None:
    reviews = [
        ReviewRecord("c2", Decision.REJECTED, "alice", 1),
        ReviewRecord("c2", Decision.APPROVED, "alice", 2),
    ]
    assert stage_verdict(RUN[:2], reviews).state is StageState.SUCCEEDED


def test_unreadable_screenshot_fails_the_stage() -> None:
    broken = ComparisonRecord(
        "c9", "run-1", 1, "main", RUN[0].key, Status.ERROR, "candidate home.png: not a PNG file"
    )
    verdict = stage_verdict([*RUN, broken], [])
    assert verdict.state is StageState.FAILED and "not a PNG file" in verdict.reason


def test_nothing_changed_succeeds_and_nothing_captured_fails() -> None:
    assert stage_verdict(RUN[:1], []).state is StageState.SUCCEEDED
    assert stage_verdict([], []).state is StageState.FAILED


def test_approving_a_comparison_superseded_by_a_newer_run_is_refused_with_the_reason() -> None:
    old = comparison("c2", "orders", Status.CHANGED, run=4, branch="feature/x")
    newer = comparison("c7", "orders", Status.CHANGED, run=6, branch="feature/x")
    other_branch = comparison("c8", "orders", Status.CHANGED, run=9, branch="main")
    with pytest.raises(ComparisonSuperseded) as raised:
        check_review(old, Decision.APPROVED, [old, newer, other_branch])
    assert "superseded by run #6" in str(raised.value) and "review comparison c7" in str(raised.value)
    assert (
        check_review(newer, Decision.APPROVED, [old, newer, other_branch]) is BaselineAction.PROMOTE_CANDIDATE
    )


def test_review_actions_per_status() -> None:
    assert (
        check_review(comparison("m", "gone", Status.MISSING), Decision.APPROVED, []) is BaselineAction.RETIRE
    )
    assert check_review(comparison("n", "new", Status.NEW), Decision.REJECTED, []) is BaselineAction.NONE
    with pytest.raises(ReviewRefused, match="unchanged: there is nothing to approve"):
        check_review(comparison("u", "home", Status.UNCHANGED), Decision.APPROVED, [])


def test_thumbnail_is_240_wide_and_generated_once(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    screen = png_bytes(draw_screen(width=720, height=1280))
    renditions = Renditions(store)
    key = renditions.thumbnail(screen)
    first = store.get(key)
    assert thumbnail_png(first, 1000) and len(first) < len(screen)
    assert (read_header(first).width, read_header(first).height) == (240, 427)
    (tmp_path / key).write_bytes(b"cached")  # a second call must not regenerate it
    assert renditions.thumbnail(screen) == key and store.get(key) == b"cached"


def test_diff_image_only_for_changed_screens_and_cached(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    renditions = Renditions(store)
    base, same, changed = (
        png_bytes(draw_screen()),
        png_bytes(draw_screen().convert("RGB")),
        png_bytes(draw_screen("New")),
    )
    assert renditions.diff_image(base, same, ScreenSettings()) is None
    key = renditions.diff_image(base, changed, ScreenSettings())
    assert key is not None and store.get(key).startswith(b"\x89PNG")
    assert renditions.diff_image(base, changed, ScreenSettings()) == key
