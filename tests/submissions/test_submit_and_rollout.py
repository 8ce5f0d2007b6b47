"""Submission exactly once and rollout control, in-process against the store simulator: the
ledger, reading the store instead of sending again, review state polled on the tick, the Play
staged rollout by plan and by hand (halt, resume, complete), the App Store phased release, and
store errors as classified reasons on the release."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from orchestrator.db.models import utcnow
from orchestrator.submissions.models import StoreAction
from orchestrator.submissions.tick import tick
from tests.submissions.conftest import Shipping

COMMIT = "androidpublisher.edits.commit"
UPLOAD = "androidpublisher.edits.bundles.upload"


def platforms(shipping: Shipping, release_id: int) -> dict[str, dict]:
    return {p["platform"]: p for p in shipping.releases.show(release_id)["platforms"]}


def rm(shipping: Shipping) -> dict[str, str]:
    return shipping.releases.person("rita", "release_manager")


def test_a_release_is_submitted_once_and_rolled_out_by_plan_and_by_hand(
    shipping: Shipping, tmp_path: Path
) -> None:
    shipping.first_play_release()
    release_id = shipping.approved_release()
    commits_before = shipping.operations(COMMIT)

    result, lines = shipping.submit(release_id, "android", tmp_path)
    assert result.status == "succeeded", result
    assert any("submitted to google_play" in line for line in lines)
    result, _ = shipping.submit(release_id, "ios", tmp_path)
    assert result.status == "succeeded", result
    assert shipping.operations(COMMIT) == commits_before + 1

    # The store call again: the ledger says confirmed; nothing is sent.
    seen = len(shipping.sim.requests())
    assert shipping.submit(release_id, "android", tmp_path, claim=False)[0].status == "succeeded"
    assert len(shipping.sim.requests()) == seen

    shown = shipping.releases.show(release_id)
    assert {p["platform"]: p["state"] for p in shown["platforms"]} == {
        "android": "submitted",
        "ios": "submitted",
    }
    submits = [a for a in shown["store_actions"] if a["action"] == "submit"]
    assert {(a["platform"], a["state"], a["store"]) for a in submits} == {
        ("android", "confirmed", "google_play"),
        ("ios", "confirmed", "app_store"),
    }
    android_commit = [
        e for e in shipping.sim.requests() if e["operation"] == "androidpublisher.edits.tracks.update"
    ][-1]
    assert android_commit["body"]["releases"][-1]["userFraction"] == 0.01  # the plan's first stage

    # The stores review; the tick reads them: Play publishes at 1 %, the App Store approves and
    # Instep releases it (phased release ACTIVE).
    tick(shipping.ctx, force=True)
    assert platforms(shipping, release_id)["android"]["state"] == "in_review"
    shipping.sim.post("play/review", {"package": "dev.instep.sample", "decision": "approve"})
    submission = next(iter(shipping.sim.post("state")["app_store"]["review_submissions"]))
    shipping.sim.post(f"app-store/review-submissions/{submission}/state", {"state": "APPROVED"})
    tick(shipping.ctx, force=True)
    now = platforms(shipping, release_id)
    assert now["android"]["state"] == "rolling_out" and now["android"]["store"]["fraction"] == 0.01
    assert now["ios"]["state"] == "rolling_out" and now["ios"]["store"]["rollout"] == "in_progress"

    client, headers = shipping.releases.api.client, rm(shipping)
    r = client.post(
        f"/api/releases/{release_id}/rollout", json={"to": 20, "platform": "android"}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert platforms(shipping, release_id)["android"]["store"]["fraction"] == 0.2
    # A developer may not move a rollout; an App Store phased release has no percentages.
    dev = shipping.releases.person("dan", "developer")
    assert client.post(f"/api/releases/{release_id}/halt", json={}, headers=dev).status_code == 403
    r = client.post(
        f"/api/releases/{release_id}/rollout", json={"to": 50, "platform": "ios"}, headers=headers
    )
    assert r.status_code == 409 and "phased release moves by day" in r.json()["detail"]

    assert client.post(f"/api/releases/{release_id}/halt", json={}, headers=headers).status_code == 200
    now = platforms(shipping, release_id)
    assert (now["android"]["state"], now["android"]["store"]["store_state"]) == ("halted", "halted")
    assert (now["ios"]["state"], now["ios"]["store"]["store_state"]) == ("halted", "PAUSED")
    # Days later the plan would advance, but never a halted rollout.
    tick(shipping.ctx, utcnow() + timedelta(days=3), force=True)
    assert platforms(shipping, release_id)["android"]["store"]["fraction"] == 0.2
    assert platforms(shipping, release_id)["android"]["state"] == "halted"

    assert client.post(f"/api/releases/{release_id}/resume", json={}, headers=headers).status_code == 200
    now = platforms(shipping, release_id)
    assert (
        now["android"]["state"] == "rolling_out" and now["android"]["store"]["fraction"] == 0.2
    )  # the last fraction
    # Resumed and due: the plan moves it one stage on.
    tick(shipping.ctx, utcnow() + timedelta(days=2), force=True)
    assert platforms(shipping, release_id)["android"]["store"]["fraction"] == 0.5

    r = client.post(f"/api/releases/{release_id}/complete", json={}, headers=headers)
    assert r.status_code == 200, r.text
    shown = shipping.releases.show(release_id)
    assert shown["state"] == "finished"
    assert {p["platform"]: p["state"] for p in shown["platforms"]} == {
        "android": "released",
        "ios": "released",
    }
    trail = client.get(f"/api/releases/{release_id}/audit", headers=headers).json()
    actions = [(e["person"], e["action"]) for e in trail]
    for expected in [
        ("rita", "rollout_rollout"),
        ("rita", "rollout_halt"),
        ("rita", "rollout_resume"),
        ("rollout plan", "rollout_rollout"),
        ("rita", "rollout_complete"),
        ("instep", "finished"),
    ]:
        assert expected in actions, actions


def test_an_outcome_left_unknown_is_confirmed_by_reading_the_store_not_by_sending_again(
    shipping: Shipping, tmp_path: Path
) -> None:
    shipping.first_play_release()
    release_id = shipping.approved_release()
    assert shipping.submit(release_id, "android", tmp_path)[0].status == "succeeded"
    uploads, commits = shipping.operations(UPLOAD), shipping.operations(COMMIT)
    # As if the worker died after the store accepted it and before the ledger was updated.
    with shipping.ctx.db.session() as s:
        s.execute(update(StoreAction).where(StoreAction.action == "submit").values(state="sent", answer={}))
        from orchestrator.releases.models import ReleasePlatform

        s.execute(
            update(ReleasePlatform).where(ReleasePlatform.platform == "android").values(state="submitting")
        )
        s.commit()
    result, lines = shipping.submit(release_id, "android", tmp_path)
    assert result.status == "succeeded"
    assert any("reading the store" in line for line in lines)
    assert (shipping.operations(UPLOAD), shipping.operations(COMMIT)) == (uploads, commits)
    with shipping.ctx.db.session() as s:
        row = s.scalar(select(StoreAction).where(StoreAction.platform == "android"))
        assert row is not None and row.state == "confirmed" and row.answer["via"] == "read" and row.sends == 1
    assert platforms(shipping, release_id)["android"]["state"] == "submitted"


def test_a_store_error_ends_as_a_classified_reason_on_the_release(shipping: Shipping, tmp_path: Path) -> None:
    release_id = shipping.approved_release()  # no earlier release: the track's first cannot be staged
    result, _ = shipping.submit(release_id, "android", tmp_path)
    assert result.status == "failed"
    android = platforms(shipping, release_id)["android"]
    assert android["state"] == "failed"
    assert android["reason"].startswith("google_play ")
    assert (
        "(needs_action)" in android["reason"]
        and "The first release on a track cannot be staged" in android["reason"]
    )
    assert "Traceback" not in android["reason"]
    action = next(
        a for a in shipping.releases.show(release_id)["store_actions"] if a["platform"] == "android"
    )
    assert (action["state"], action["category"]) == ("failed", "needs_action")


def test_a_release_of_an_unprotected_branch_gets_no_store_credentials(
    shipping: Shipping, tmp_path: Path
) -> None:
    release_id = shipping.approved_release(ref="refs/heads/feature/sneaky")
    seen = len(shipping.sim.requests())
    result, _ = shipping.submit(release_id, "android", tmp_path)
    assert result.status == "failed"
    assert "refs/heads/feature/sneaky, which is not a protected ref" in (result.reason or "")
    assert len(shipping.sim.requests()) == seen  # nothing reached the store
    shown = shipping.releases.api.client.get(f"/api/releases/{release_id}", headers=rm(shipping)).text
    for value in shipping.sim.credentials()["app_store"].values():
        assert str(value) not in shown


def test_a_branch_cannot_declare_itself_protected(shipping: Shipping, tmp_path: Path) -> None:
    """Which refs get store credentials is read from the default branch, not the released commit."""
    from tests.submissions.conftest import pipeline

    shipping.releases.commit(pipeline(shipping.sim.url))  # main protects main (the default)
    sneaky = '  protected_refs: ["refs/heads/feature/*"]\n'
    release_id = shipping.approved_release(
        ref="refs/heads/feature/sneaky", extra=sneaky, branch="feature/sneaky"
    )
    seen = len(shipping.sim.requests())
    result, _ = shipping.submit(release_id, "android", tmp_path)
    assert result.status == "failed"
    assert "refs/heads/feature/sneaky, which is not a protected ref (refs/heads/main)" in (
        result.reason or ""
    )
    assert len(shipping.sim.requests()) == seen  # nothing reached the store


def test_a_web_rollback_halt_reaches_the_store(shipping: Shipping, tmp_path: Path) -> None:
    from orchestrator.releases.models import ReleasePlatform
    from orchestrator.releases.service import System
    from orchestrator.submissions.rollouts import halt_in_store

    shipping.first_play_release()
    release_id = shipping.approved_release()
    assert shipping.submit(release_id, "android", tmp_path)[0].status == "succeeded"
    shipping.sim.post("play/review", {"package": "dev.instep.sample", "decision": "approve"})
    tick(shipping.ctx, force=True)
    assert platforms(shipping, release_id)["android"]["state"] == "rolling_out"
    # What parity's halt_for_web_rollback leaves: the platform halted, the store not yet told.
    with shipping.ctx.db.session() as s:
        s.execute(
            update(ReleasePlatform)
            .where(ReleasePlatform.platform == "android")
            .values(state="halted", reason="halted: web rolled back to 2026.11.0")
        )
        s.commit()
    assert halt_in_store(shipping.ctx, release_id, "android", System(role="web_parity")) is None
    android = platforms(shipping, release_id)["android"]
    assert android["state"] == "halted" and android["store"]["store_state"] == "halted"
    assert [t["status"] for t in shipping.sim.state.play.apps["dev.instep.sample"].tracks["production"]][
        -1
    ] == "halted"


def test_a_submission_lane_with_an_unknown_outcome_waits_for_a_release_manager(shipping: Shipping) -> None:
    from orchestrator.releases.submission import begin
    from orchestrator.submissions.ledger import Next
    from orchestrator.submissions.service import claim_lane, store_shows

    release_id = shipping.approved_release()
    begin(shipping.ctx, shipping.releases.show(release_id)["run_id"], "android")
    platform_id = shipping.platform_id(release_id, "android")
    assert claim_lane(shipping.ctx, platform_id)[2] is Next.SEND
    # The attempt that ran the lane died: the retry must not run it again.
    assert claim_lane(shipping.ctx, platform_id)[2] is Next.HOLD
    assert store_shows(shipping.ctx, platform_id) == "google_play has no submission of build 41"

    client, url = shipping.releases.api.client, f"/api/releases/{release_id}/submissions/android/settle"
    body = {"outcome": "submitted", "comment": "the Play Console shows 4.2.0 (41) in review"}
    assert (
        client.post(url, json=body, headers=shipping.releases.person("dan", "developer")).status_code == 403
    )
    r = client.post(url, json=body, headers=rm(shipping))
    assert r.status_code == 200, r.text
    shown = shipping.releases.show(release_id)
    assert platforms(shipping, release_id)["android"]["state"] == "submitted"
    submit = next(a for a in shown["store_actions"] if a["platform"] == "android")
    assert (submit["state"], submit["answer"]["by"]) == ("confirmed", "rita")
    assert client.post(url, json=body, headers=rm(shipping)).status_code == 409  # settled once


def test_a_web_rollback_recorded_through_the_api_halts_the_play_rollout_in_the_store(
    shipping: Shipping, tmp_path: Path
) -> None:
    from tests.parity.conftest import Web

    web = Web(shipping.releases)
    parity = '  parity: {environment: production, mode: api, requires_api: ">=2025-11"}\n'
    shipping.first_play_release()
    assert web.record("2026.11.0", api="2025-10").status_code == 201
    assert web.record("2026.12.1", api="2025-11").status_code == 201
    release_id = shipping.approved_release(extra=parity)
    assert shipping.submit(release_id, "android", tmp_path)[0].status == "succeeded"
    shipping.sim.post("play/review", {"package": "dev.instep.sample", "decision": "approve"})
    tick(shipping.ctx, force=True)
    assert platforms(shipping, release_id)["android"]["state"] == "rolling_out"

    r = web.rollback(version="2026.12.1", reason="checkout errors")

    assert r.status_code == 200, r.text
    android = platforms(shipping, release_id)["android"]
    assert android["state"] == "halted" and android["reason"] == "halted: web rolled back to 2026.11.0"
    assert android["store"]["store_state"] == "halted"
    track = shipping.sim.state.play.apps["dev.instep.sample"].tracks["production"]
    assert [t["status"] for t in track][-1] == "halted", "Play was told, not only Instep's record"
