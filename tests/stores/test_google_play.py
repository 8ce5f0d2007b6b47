"""Google Play adapter end to end against the simulator: the client built from the packaged
discovery document, every request validated against it by the simulator."""

from __future__ import annotations

import pytest

from stores import ErrorCategory, ReviewState, RolloutState, StoreError, TrackRelease
from stores.google_play import DISCOVERY_DOCUMENT, load_discovery_document

PACKAGE = "dev.instep.sample"


def first_release(sim, play, aab) -> None:
    """A track's first release must be complete; later ones can be staged."""
    play.submit(aab(10, "0.9.0"))
    sim.post("play/review", {"package": PACKAGE, "decision": "approve"})


def test_discovery_document_is_the_packaged_one_pointed_at_the_simulator():
    document = load_discovery_document("http://127.0.0.1:9/")
    assert DISCOVERY_DOCUMENT.name == "androidpublisher.v3.json"
    assert document["rootUrl"] == "http://127.0.0.1:9/"
    assert "mtlsRootUrl" not in document
    releases = document["resources"]["applications"]["resources"]["tracks"]["resources"]["releases"]
    assert releases["methods"]["list"]["id"] == "androidpublisher.applications.tracks.releases.list"


def test_submit_runs_one_edit_and_commits_without_cancelling_review(sim, aab):
    play = sim.play(in_app_update_priority=3)
    first_release(sim, play, aab)
    candidate = aab(42, "1.4.0", {"en-US": "Faster checkout"})

    submission = play.submit(candidate, fraction=0.05)

    assert submission.review is ReviewState.WAITING_FOR_REVIEW
    calls = [e for e in sim.requests(store="google_play") if e["seq"] > 0][-6:]
    assert [c["operation"] for c in calls] == [
        "androidpublisher.edits.insert",
        "androidpublisher.edits.bundles.upload",
        "androidpublisher.edits.bundles.upload#resumable",
        "androidpublisher.edits.tracks.get",
        "androidpublisher.edits.tracks.update",
        "androidpublisher.edits.commit",
    ]
    assert calls[1]["path"].startswith("/upload/androidpublisher/v3/applications/dev.instep.sample/edits/")
    assert calls[1]["query"]["uploadType"] == ["resumable"]
    released = calls[4]["body"]["releases"]
    assert released[0]["status"] == "completed" and released[0]["versionCodes"] == ["10"]
    assert released[1] == {
        "name": "1.4.0",
        "versionCodes": ["42"],
        "status": "inProgress",
        "userFraction": 0.05,
        "releaseNotes": [{"language": "en-US", "text": "Faster checkout"}],
        "inAppUpdatePriority": 3,
    }
    commits = [e for e in sim.requests() if e["operation"] == "androidpublisher.edits.commit"]
    assert all(c["query"]["changesInReviewBehavior"] == ["ERROR_IF_IN_REVIEW"] for c in commits)
    assert sim.state.play.apps[PACKAGE].cancelled_reviews == 0


def test_review_state_comes_from_release_lifecycle(sim, aab):
    play = sim.play()
    candidate = aab(7)
    assert play.review_state(candidate).review is ReviewState.NOT_SUBMITTED
    assert play.find_submission(candidate) is None

    play.submit(candidate)
    state = play.review_state(candidate)
    assert (state.review, state.store_state) == (ReviewState.IN_REVIEW, "RELEASE_LIFECYCLE_STATE_IN_REVIEW")

    sim.post("play/review", {"package": PACKAGE, "decision": "approve"})
    assert play.review_state(candidate).review is ReviewState.RELEASED
    assert "androidpublisher.applications.tracks.releases.list" in sim.operations("google_play")


def test_review_follows_the_schedule_on_the_simulator_clock(sim, aab):
    play = sim.play()
    candidate = aab(8)
    sim.post("play/schedule", {"approve_after": 3600})
    play.submit(candidate)
    assert play.review_state(candidate).review is ReviewState.IN_REVIEW
    sim.post("clock", {"advance": 3601})
    assert play.review_state(candidate).review is ReviewState.RELEASED


def test_staged_rollout_increase_halt_resume_complete_each_in_a_new_edit(sim, aab):
    play = sim.play()
    first_release(sim, play, aab)
    candidate = aab(42, "1.4.0")
    play.submit(candidate, fraction=0.01)
    sim.post("play/review", {"package": PACKAGE, "decision": "approve"})

    assert play.rollout_state(candidate).fraction == 0.01
    increased = play.increase_rollout(candidate, fraction=0.2)
    assert (increased.state, increased.fraction) == (RolloutState.IN_PROGRESS, 0.2)
    halted = play.halt_rollout(candidate)
    assert (halted.state, halted.store_state, halted.fraction) == (RolloutState.HALTED, "halted", 0.2)
    resumed = play.resume_rollout(candidate)
    assert (resumed.state, resumed.fraction) == (RolloutState.IN_PROGRESS, 0.2)
    completed = play.complete_rollout(candidate)
    assert (completed.state, completed.fraction) == (RolloutState.COMPLETED, None)

    # The store read back agrees, and the old completed release made way for the new one.
    assert play.track_releases() == [TrackRelease("completed", ("42",), None, "1.4.0")]
    ops = sim.operations("google_play")
    assert ops.count("androidpublisher.edits.insert") == ops.count(
        "androidpublisher.edits.commit"
    ) + ops.count("androidpublisher.edits.delete")


def test_a_halted_rollout_cannot_be_increased_and_a_fraction_must_grow(sim, aab):
    play = sim.play()
    first_release(sim, play, aab)
    candidate = aab(42)
    play.submit(candidate, fraction=0.2)
    sim.post("play/review", {"package": PACKAGE, "decision": "approve"})
    with pytest.raises(StoreError) as lower:
        play.increase_rollout(candidate, fraction=0.1)
    assert lower.value.category is ErrorCategory.INVALID
    play.halt_rollout(candidate)
    with pytest.raises(StoreError) as halted:
        play.increase_rollout(candidate, fraction=0.5)
    assert halted.value.category is ErrorCategory.CONFLICT
    assert "resume it first" in halted.value.message


def test_reconciliation_reads_show_what_the_store_already_has(sim, aab):
    play = sim.play()
    first_release(sim, play, aab)
    candidate = aab(42, "1.4.0")
    play.submit(candidate, fraction=0.05)

    # A worker that died after the commit finds the release instead of sending it again.
    found = play.find_submission(candidate)
    assert found is not None and found.build_number == "42" and found.review is ReviewState.IN_REVIEW
    releases = play.track_releases()
    assert TrackRelease("inProgress", ("42",), 0.05, "1.4.0") in releases
    assert sim.operations("google_play").count("androidpublisher.edits.commit") == 2


def test_a_large_bundle_goes_up_in_resumable_chunks(sim, tmp_path):
    from stores import Candidate
    from stores.simulator import make_test_bundle

    path = tmp_path / "big.aab"
    path.write_bytes(make_test_bundle(77, padding=600 * 1024))
    play = sim.play(upload_chunk_bytes=256 * 1024)
    play.submit(Candidate(version="2.0.0", build_number="77", artifact=path))
    chunks = [e for e in sim.requests() if e["operation"].endswith("#resumable")]
    assert [c["status"] for c in chunks] == [308, 308, 200]
    assert sim.state.play.apps[PACKAGE].used_version_codes == {77}


def test_a_refused_rollout_change_leaves_no_open_edit(sim, aab):
    play = sim.play()
    candidate = aab(42)
    play.submit(candidate)  # completed, not staged
    sim.post("play/review", {"package": PACKAGE, "decision": "approve"})
    with pytest.raises(StoreError):
        play.halt_rollout(candidate)
    assert [e.state for e in sim.state.play.edits.values()].count("open") == 0
