"""App Store Connect adapter end to end against the simulator; every request validated against the
schemas from appstore-connect-sdk (generated from Apple's OpenAPI 4.2 document)."""

from __future__ import annotations

import pytest

from stores import Candidate, ErrorCategory, ReviewState, RolloutState, StoreError

pytestmark = pytest.mark.integration

CANDIDATE = Candidate(version="1.4.0", build_number="142")


def upload_build(sim, candidate: Candidate = CANDIDATE, state: str = "VALID") -> None:
    """What the team's fastlane lane (upload_to_testflight) leaves in App Store Connect."""
    sim.post("app-store/builds", {"version": candidate.version, "build_number": candidate.build_number,
                                  "processing_state": state})  # fmt: skip


def approve(sim, submission_id: str) -> None:
    sim.post(f"app-store/review-submissions/{submission_id}/state", {"state": "IN_REVIEW"})
    sim.post(f"app-store/review-submissions/{submission_id}/state", {"state": "APPROVED"})


def test_submit_attaches_the_build_and_submits_one_review_submission(full_sim):
    upload_build(full_sim)
    store = full_sim.app_store()

    submission = store.submit(CANDIDATE, fraction=0.01)

    assert submission.review is ReviewState.WAITING_FOR_REVIEW
    assert submission.store_state == "WAITING_FOR_REVIEW"
    assert full_sim.operations("app_store") == [
        "buildsGetCollection",
        "appsAppStoreVersionsGetToManyRelated",
        "appStoreVersionsCreateInstance",
        "reviewSubmissionsGetCollection",
        "appStoreVersionsBuildUpdateToOneRelationship",
        "appStoreVersionsAppStoreVersionPhasedReleaseGetToOneRelated",
        "appStoreVersionPhasedReleasesCreateInstance",
        "reviewSubmissionsCreateInstance",
        "reviewSubmissionItemsCreateInstance",
        "reviewSubmissionsUpdateInstance",
    ]
    final = full_sim.requests(store="app_store")[-1]
    assert final["method"] == "PATCH" and final["body"]["data"]["attributes"] == {"submitted": True}


def test_submitting_again_finds_the_submission_instead_of_sending_it_twice(full_sim):
    upload_build(full_sim)
    store = full_sim.app_store()
    first = store.submit(CANDIDATE)
    again = store.submit(CANDIDATE)
    assert again.submission_id == first.submission_id
    assert full_sim.operations("app_store").count("reviewSubmissionsUpdateInstance") == 1


def test_review_moves_waiting_in_review_approved_and_release_starts_the_phased_release(full_sim):
    upload_build(full_sim)
    store = full_sim.app_store()
    submission = store.submit(CANDIDATE, fraction=0.01)
    full_sim.post(f"app-store/review-submissions/{submission.submission_id}/state", {"state": "IN_REVIEW"})
    assert store.review_state(CANDIDATE).review is ReviewState.IN_REVIEW
    full_sim.post(f"app-store/review-submissions/{submission.submission_id}/state", {"state": "APPROVED"})
    approved = store.review_state(CANDIDATE)
    assert approved.review is ReviewState.APPROVED
    assert store.rollout_state(CANDIDATE).state is RolloutState.NOT_STARTED

    started = store.start_rollout(CANDIDATE)

    assert (started.state, started.store_state, started.day, started.fraction) == (
        RolloutState.IN_PROGRESS, "ACTIVE", 1, 0.01,
    )  # fmt: skip
    assert "appStoreVersionReleaseRequestsCreateInstance" in full_sim.operations("app_store")
    assert store.review_state(CANDIDATE).review is ReviewState.RELEASED


def test_review_follows_the_schedule_the_test_sets(full_sim):
    upload_build(full_sim)
    store = full_sim.app_store()
    full_sim.post("app-store/schedule", {"review_after": 600, "approve_after": 3600})
    store.submit(CANDIDATE)
    assert store.review_state(CANDIDATE).review is ReviewState.WAITING_FOR_REVIEW
    full_sim.post("clock", {"advance": 601})
    assert store.review_state(CANDIDATE).review is ReviewState.IN_REVIEW
    full_sim.post("clock", {"advance": 3601})
    assert store.review_state(CANDIDATE).review is ReviewState.APPROVED


def test_phased_release_pause_resume_complete_and_days(full_sim):
    upload_build(full_sim)
    store = full_sim.app_store()
    approve(full_sim, store.submit(CANDIDATE, fraction=0.01).submission_id)
    store.start_rollout(CANDIDATE)
    full_sim.post("clock", {"advance": 2 * 86400 + 60})
    assert (store.rollout_state(CANDIDATE).day, store.rollout_state(CANDIDATE).fraction) == (3, 0.05)

    paused = store.halt_rollout(CANDIDATE)
    assert (paused.state, paused.store_state) == (RolloutState.HALTED, "PAUSED")
    full_sim.post("clock", {"advance": 5 * 86400})
    assert store.rollout_state(CANDIDATE).day == 3  # paused days do not count
    resumed = store.resume_rollout(CANDIDATE)
    assert (resumed.state, resumed.day) == (RolloutState.IN_PROGRESS, 3)
    completed = store.complete_rollout(CANDIDATE)
    assert (completed.state, completed.store_state, completed.fraction) == (
        RolloutState.COMPLETED,
        "COMPLETE",
        None,
    )
    bodies = [
        e["body"]
        for e in full_sim.requests(store="app_store")
        if e["operation"] == "appStoreVersionPhasedReleasesUpdateInstance"
    ]
    assert [b["data"]["attributes"]["phasedReleaseState"] for b in bodies] == ["PAUSED", "ACTIVE", "COMPLETE"]


def test_increasing_an_app_store_phased_release_is_refused_plainly(full_sim):
    store = full_sim.app_store()
    with pytest.raises(StoreError) as refused:
        store.increase_rollout(CANDIDATE, fraction=0.5)
    assert refused.value.category is ErrorCategory.INVALID
    assert "advances one day at a time" in refused.value.message


def test_reconciliation_read_finds_the_in_progress_submission_with_this_version(full_sim):
    upload_build(full_sim)
    store = full_sim.app_store()
    assert store.find_submission(CANDIDATE) is None
    sent = store.submit(CANDIDATE)
    found = store.find_submission(CANDIDATE)
    assert found is not None and found.submission_id == sent.submission_id
    assert found.review is ReviewState.WAITING_FOR_REVIEW
    other = Candidate(version="1.5.0", build_number="150")
    assert store.find_submission(other) is None


def test_a_build_fastlane_did_not_upload_needs_action(full_sim):
    store = full_sim.app_store()
    with pytest.raises(StoreError) as missing:
        store.submit(CANDIDATE)
    assert missing.value.category is ErrorCategory.NEEDS_ACTION
    assert "upload_to_testflight" in missing.value.message
    upload_build(full_sim, state="PROCESSING")
    with pytest.raises(StoreError) as processing:
        store.submit(CANDIDATE)
    assert processing.value.category is ErrorCategory.RETRYABLE


def test_release_before_approval_is_refused_by_the_store_and_without_phases_complete_is_a_read(full_sim):
    upload_build(full_sim)
    store = full_sim.app_store()
    submission = store.submit(CANDIDATE)
    with pytest.raises(StoreError) as early:
        store.start_rollout(CANDIDATE)
    assert (early.value.category, early.value.status) == (ErrorCategory.CONFLICT, 409)
    assert "PENDING_DEVELOPER_RELEASE" in early.value.message
    approve(full_sim, submission.submission_id)
    released = store.start_rollout(CANDIDATE)
    assert (released.state, released.store_state) == (RolloutState.COMPLETED, "READY_FOR_DISTRIBUTION")
    assert store.start_rollout(CANDIDATE).state is RolloutState.COMPLETED  # a read, no second request
    assert store.complete_rollout(CANDIDATE).state is RolloutState.COMPLETED
    assert full_sim.operations("app_store").count("appStoreVersionReleaseRequestsCreateInstance") == 2
