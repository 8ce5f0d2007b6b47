"""Errors users meet, each produced by the simulator's store rules with the store's own text, mapped
to its category with that text kept, and shown as one line (never a stack trace)."""

from __future__ import annotations

import pytest

from stores import Candidate, ErrorCategory, StoreError
from stores.app_store import classify as classify_app_store
from stores.google_play import classify as classify_play

PACKAGE = "dev.instep.sample"


def refused(call, *args, **kwargs) -> StoreError:
    with pytest.raises(StoreError) as caught:
        call(*args, **kwargs)
    error = caught.value
    text = str(error)
    assert "Traceback" not in text and "\n" not in text
    assert error.message in text
    return error


# --- Google Play ---


def test_version_code_already_used(sim, aab):
    play = sim.play()
    play.submit(aab(42))
    sim.post("play/review", {"package": PACKAGE, "decision": "approve"})
    error = refused(play.submit, aab(42))
    assert (error.category, error.status, error.code) == (
        ErrorCategory.CONFLICT,
        403,
        "apkUpgradeVersionConflict",
    )
    assert error.message == "APK specifies a version code that has already been used."
    assert error.action == "edits.bundles.upload"


def test_edit_expired(sim, aab):
    sim.post("faults", {"operation": "androidpublisher.edits.commit", "action": "expire_edit"})
    error = refused(sim.play().submit, aab(42))
    assert error.category is ErrorCategory.RETRYABLE
    assert error.message == "This edit has expired, please create a new Edit."


def test_edit_deleted_by_another_commit(sim, aab):
    sim.post("faults", {"operation": "androidpublisher.edits.commit", "action": "commit_elsewhere"})
    error = refused(sim.play().submit, aab(42))
    assert (error.category, error.status, error.code) == (ErrorCategory.RETRYABLE, 410, "editDeleted")
    assert error.message == "This Edit has been deleted."


def test_first_release_on_a_track_cannot_be_staged(sim, aab):
    error = refused(sim.play().submit, aab(42), fraction=0.05)
    assert (error.category, error.status) == (ErrorCategory.NEEDS_ACTION, 400)
    assert error.message == "The first release on a track cannot be staged."


def test_changes_in_review_are_never_cancelled(sim, aab):
    play = sim.play()
    play.submit(aab(41))
    error = refused(play.submit, aab(42))
    assert error.category is ErrorCategory.CONFLICT
    assert "in review" in error.message
    assert sim.state.play.apps[PACKAGE].cancelled_reviews == 0


def test_play_store_unavailable_is_retryable(sim, aab):
    sim.post("faults", {"operation": "androidpublisher.edits.insert", "action": "status", "status": 503})
    error = refused(sim.play().submit, aab(42))
    assert (error.category, error.status) == (ErrorCategory.RETRYABLE, 503)


def test_revoked_service_account_key(sim, aab):
    key_id = sim.credentials()["google_play"]["private_key_id"]
    sim.post(f"keys/{key_id}/revoke")
    error = refused(sim.play().submit, aab(42))
    assert error.category is ErrorCategory.AUTH
    assert "Invalid JWT Signature." in error.message


def test_expired_access_token_is_refreshed_with_the_service_account(sim, aab):
    play = sim.play()
    candidate = aab(42)
    play.submit(candidate)
    sim.post("google/expire-tokens")
    assert play.find_submission(candidate) is not None
    tokens = [e for e in sim.requests() if e["operation"] == "oauth2.token"]
    assert [t["status"] for t in tokens] == [200, 200]
    assert [e["status"] for e in sim.requests(store="google_play") if e["status"] == 401] == [401]


def test_unusable_service_account_json_is_an_auth_error():
    from stores import GooglePlay

    error = refused(GooglePlay, service_account_info={"type": "service_account"}, package_name=PACKAGE)
    assert error.category is ErrorCategory.AUTH


# --- App Store Connect ---

CANDIDATE = Candidate(version="1.4.0", build_number="142")


@pytest.mark.integration
def test_another_review_submission_still_in_progress(full_sim):
    # 1.4.0 (142) was rejected and its submission still has unresolved issues; build 143 fixes it.
    full_sim.post("app-store/builds", {"version": "1.4.0", "build_number": "142"})
    full_sim.post("app-store/builds", {"version": "1.4.0", "build_number": "143"})
    store = full_sim.app_store()
    first = store.submit(CANDIDATE)
    full_sim.post(f"app-store/review-submissions/{first.submission_id}/state", {"state": "REJECTED"})
    error = refused(store.submit, Candidate(version="1.4.0", build_number="143"))
    assert (error.category, error.status, error.code) == (ErrorCategory.CONFLICT, 409, "STATE_ERROR")
    assert (
        error.message
        == f"There is another reviewSubmissions with id {first.submission_id} still in progress."
    )


@pytest.mark.integration
def test_phased_release_in_the_wrong_state(full_sim):
    full_sim.post("app-store/builds", {"version": "1.4.0", "build_number": "142"})
    store = full_sim.app_store()
    submission = store.submit(CANDIDATE, fraction=0.01)
    full_sim.post(f"app-store/review-submissions/{submission.submission_id}/state", {"state": "APPROVED"})
    store.start_rollout(CANDIDATE)
    error = refused(store.resume_rollout, CANDIDATE)
    assert (error.category, error.status) == (ErrorCategory.CONFLICT, 409)
    assert error.message == "The phased release cannot be set to ACTIVE when it is ACTIVE."


@pytest.mark.integration
def test_revoked_app_store_key(full_sim):
    sim_key = full_sim.credentials()["app_store"]
    full_sim.post(f"keys/{sim_key['key_id']}/revoke")
    error = refused(full_sim.app_store().submit, CANDIDATE)
    assert (error.category, error.status, error.code) == (ErrorCategory.AUTH, 401, "NOT_AUTHORIZED")
    assert error.message.startswith("Provide a properly configured and signed bearer token")


@pytest.mark.integration
def test_expired_app_store_token(full_sim):
    # The adapter's clock says it is 30 minutes ago: the token it signs has already expired.
    import time

    store = full_sim.app_store(clock=lambda: time.time() - 1800)
    error = refused(store.find_submission, CANDIDATE)
    assert (error.category, error.status) == (ErrorCategory.AUTH, 401)


# --- classification without a store (pure) ---


@pytest.mark.parametrize(
    ("status", "reason", "message", "category"),
    [
        (403, "apkUpgradeVersionConflict", "Version code 42 has already been used.", ErrorCategory.CONFLICT),
        (400, "badRequest", "Fully released can not be staged", ErrorCategory.CONFLICT),
        (
            400,
            "badRequest",
            "Changes cannot be sent for review automatically. Please set ...",
            ErrorCategory.NEEDS_ACTION,
        ),
        (403, "rolloutNotPermittedOnDraftApp", "", ErrorCategory.NEEDS_ACTION),
        (403, "forbidden", "The caller does not have permission", ErrorCategory.AUTH),
        (500, "backendError", "Internal error", ErrorCategory.RETRYABLE),
        (429, "rateLimitExceeded", "Quota exceeded", ErrorCategory.RETRYABLE),
        (400, "invalid", "Invalid value at 'track.releases[0].user_fraction'", ErrorCategory.INVALID),
    ],
)
def test_play_classification(status, reason, message, category):
    assert classify_play(status, reason, message) is category


@pytest.mark.parametrize(
    ("status", "code", "category"),
    [
        (401, "NOT_AUTHORIZED", ErrorCategory.AUTH),
        (403, "FORBIDDEN_ERROR", ErrorCategory.AUTH),
        (409, "ENTITY_ERROR.ATTRIBUTE.INVALID", ErrorCategory.CONFLICT),
        (503, "UNEXPECTED_ERROR", ErrorCategory.RETRYABLE),
        (422, "ENTITY_UNPROCESSABLE", ErrorCategory.INVALID),
        (404, "NOT_FOUND", ErrorCategory.INVALID),
    ],
)
def test_app_store_classification(status, code, category):
    assert classify_app_store(status, code) is category


def test_error_line_names_store_action_status_and_code():
    error = StoreError(ErrorCategory.CONFLICT, "Version code 42 has already been used.", store="google_play",
                       action="edits.bundles.upload", status=403, code="apkUpgradeVersionConflict")  # fmt: skip
    assert str(error) == (
        "google_play edits.bundles.upload failed (conflict) [403 apkUpgradeVersionConflict]: "
        "Version code 42 has already been used."
    )
    bare = StoreError(
        ErrorCategory.AUTH, "invalid_grant: Invalid JWT Signature.", store="google_play", action="x"
    )
    assert str(bare) == "google_play x failed (auth): invalid_grant: Invalid JWT Signature."
