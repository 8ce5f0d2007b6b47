"""Cutting, approving, rejecting and canceling releases through the REST API on a real database:
what a release manager and QA see and what they are refused, and the submit job released once."""

from __future__ import annotations

from sqlalchemy import select

from orchestrator.releases.models import AuditEvent, GateEvaluation
from tests.releases.conftest import Releases, checks, reasons


def test_a_release_is_cut_with_a_candidate_per_platform_and_waits_for_approvals(releases: Releases) -> None:
    run_id = releases.run_at_gate()
    r = releases.cut(run_id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["version"] == "4.2.0" and body["state"] == "active" and body["created_by"] == "bob"
    by_platform = {p["platform"]: p for p in body["platforms"]}
    android = by_platform["android"]
    assert android["state"] == "waiting_for_gate" and android["build_number"] == 41
    [artifact] = android["candidate"]
    assert artifact["name"] == "build:android/app-android.tar.gz" and len(artifact["sha256"]) == 64
    assert checks(android) == {
        "release_cut": "passed",
        "stages": "passed",
        "screenshot_reviews": "passed",
        "qa_signoff": "pending",
        "release_manager_approval": "pending",
        "four_eyes": "pending",
        "freeze_window": "passed",
        "soak_time": "passed",
        "web_parity": "passed",
        "other_platform": "passed",
    }
    assert reasons(android)["release_manager_approval"] == "waiting for release manager approval: 0 of 1"
    assert releases.job(run_id, "gate:android").status == "waiting"
    assert releases.submits_sent() == []


def test_approvals_pass_the_gate_and_release_each_submit_job_once(releases: Releases) -> None:
    run_id = releases.run_at_gate()
    release_id = releases.cut(run_id).json()["id"]
    assert releases.decide(release_id, ("quinn", "qa"), comment="QA done").status_code == 200
    r = releases.decide(release_id, ("ana", "release_manager"))
    assert r.status_code == 200, r.text
    platforms = {p["platform"]: p for p in r.json()["platforms"]}
    assert {p: v["state"] for p, v in platforms.items()} == {
        "android": "ready_to_submit",
        "ios": "ready_to_submit",
    }
    assert all(v["gate"] == "passed" for v in platforms.values())
    gate = releases.job(run_id, "gate:android")
    assert gate.status == "succeeded" and gate.reason == "gate passed for release 4.2.0"
    submits = {releases.job(run_id, f"submit:{p}").id for p in ("android", "ios")}
    assert sorted(releases.submits_sent()) == sorted(submits)
    # Approving again changes nothing and releases nothing more.
    again = releases.decide(release_id, ("dana", "release_manager"))
    assert again.status_code == 409 and "passed its gate on every platform already" in again.json()["detail"]
    assert sorted(releases.submits_sent()) == sorted(submits)
    actions = [
        (e["person"], e["role"], e["action"])
        for e in releases.api.client.get(
            f"/api/releases/{release_id}/audit", headers=releases.person("viewer", "developer")
        ).json()
    ]
    assert actions[:3] == [
        ("bob", "release_manager", "cut"),
        ("quinn", "qa", "approved"),
        ("ana", "release_manager", "approved"),
    ]
    assert ("instep", "system", "gate_passed") in actions


def test_a_developer_may_not_approve_and_qa_may_not_approve_as_release_manager(releases: Releases) -> None:
    release_id = releases.cut(releases.run_at_gate()).json()["id"]
    r = releases.decide(release_id, ("dev", "developer"))
    assert r.status_code == 403 and "needs one of: qa, release_manager" in r.json()["detail"]
    r = releases.decide(release_id, ("quinn", "qa"), role="release_manager")
    assert (
        r.status_code == 403
        and r.json()["detail"] == "role 'qa' may not approve as release_manager (needs role release_manager)"
    )
    r = releases.cut(releases.run_at_gate(), "4.3.0", who=("dev", "developer"))
    assert r.status_code == 403 and "needs one of: release_manager" in r.json()["detail"]


def test_four_eyes_refuses_the_cutter_and_the_pusher_with_the_reason(releases: Releases) -> None:
    release_id = releases.cut(releases.run_at_gate(pushed_by="carl")).json()["id"]
    r = releases.decide(release_id, ("bob", "release_manager"))
    assert r.status_code == 403
    assert (
        r.json()["detail"]
        == "four eyes: bob cut release 4.2.0 and may not approve it; another person must approve"
    )
    r = releases.decide(release_id, ("carl", "release_manager"))
    assert r.status_code == 403 and "carl pushed the commit of release 4.2.0" in r.json()["detail"]


def test_a_rejection_blocks_until_a_new_approval(releases: Releases) -> None:
    run_id = releases.run_at_gate()
    release_id = releases.cut(run_id).json()["id"]
    releases.decide(release_id, ("quinn", "qa"))
    no_comment = releases.decide(release_id, ("dana", "release_manager"), "reject")
    assert no_comment.status_code == 422 and "needs a comment" in no_comment.json()["detail"]
    r = releases.decide(release_id, ("dana", "release_manager"), "reject", comment="crashes on Android 15")
    android = {p["platform"]: p for p in r.json()["platforms"]}["android"]
    assert checks(android)["release_manager_approval"] == "failed"
    assert (
        reasons(android)["release_manager_approval"]
        == "rejected by dana (release manager): crashes on Android 15"
    )
    assert releases.job(run_id, "gate:android").status == "waiting"
    assert "release-manager approval: rejected by dana" in releases.job(run_id, "gate:android").reason
    r = releases.decide(release_id, ("ana", "release_manager"))
    assert {p["state"] for p in r.json()["platforms"]} == {"ready_to_submit"}


def test_an_admin_override_needs_a_reason_and_is_flagged(releases: Releases) -> None:
    release_id = releases.cut(releases.run_at_gate()).json()["id"]
    r = releases.decide(release_id, ("root", "admin"))
    assert r.status_code == 422 and "give the reason" in r.json()["detail"]
    r = releases.decide(
        release_id, ("bob", "admin"), role="qa", override_reason="QA is out; smoke-tested myself"
    )
    assert r.status_code == 200
    [approval] = r.json()["approvals"]
    assert approval["override"] and approval["role"] == "qa" and approval["person"] == "bob"
    trail = releases.api.client.get(
        f"/api/releases/{release_id}/audit", headers=releases.person("v", "developer")
    ).json()
    assert trail[-1]["action"] == "override_approved"
    assert trail[-1]["details"]["override_reason"] == "QA is out; smoke-tested myself"


def test_a_canceled_or_superseded_release_refuses_approvals(releases: Releases) -> None:
    first_run = releases.run_at_gate()
    first = releases.cut(first_run, "4.2.0").json()["id"]
    r = releases.api.client.post(
        f"/api/releases/{first}/cancel",
        json={"reason": "wrong branch"},
        headers=releases.person("ana", "release_manager"),
    )
    assert r.status_code == 200 and r.json()["state"] == "canceled"
    assert releases.job(first_run, "gate:android").status == "canceled"
    r = releases.decide(first, ("ana", "release_manager"))
    assert r.status_code == 409
    assert (
        r.json()["detail"]
        == "release 4.2.0 is canceled (canceled by ana: wrong branch); an approval no longer applies to it"
    )
    second = releases.cut(releases.run_at_gate(), "4.2.1").json()["id"]
    third_run = releases.run_at_gate()
    releases.cut(third_run, "4.2.2")
    r = releases.decide(second, ("ana", "release_manager"))
    assert r.status_code == 409 and "superseded by 4.2.2" in r.json()["detail"]


def test_cuts_are_refused_with_reasons(releases: Releases) -> None:
    run_id = releases.run_at_gate()
    bad = releases.cut(run_id, "4.2")
    assert bad.status_code == 422 and "is not SemVer" in bad.json()["detail"]
    assert releases.cut(run_id, "4.2.0").status_code == 201
    again = releases.cut(run_id, "4.2.1")
    assert again.status_code == 409 and again.json()["detail"].startswith(
        f"run {run_id} already has release 4.2.0"
    )
    taken = releases.cut(releases.run_at_gate(), "4.2.0")
    assert taken.status_code == 409 and "already has a release 4.2.0" in taken.json()["detail"]
    missing = releases.cut(releases.run_at_gate(artifacts=False), "4.3.0")
    assert missing.status_code == 409
    assert "the run's build artifacts are missing: build:android left no files" in missing.json()["detail"]
    failed = releases.cut(releases.run_at_gate(gate="skipped", build="failed"), "4.4.0")
    assert failed.status_code == 409 and "before its gate" in failed.json()["detail"]
    releases.commit("version: 1\nplatforms: {android: {}}\nstages:\n  build: {lane: build}\n")
    assert releases.cut(404404, "9.9.9").status_code == 404


def test_a_pipeline_without_a_gate_cannot_be_released(releases: Releases) -> None:
    from orchestrator.db.models import Job

    run_id = releases.run_at_gate()
    with releases.api.ctx.db.session() as s:
        for job in s.scalars(select(Job).where(Job.run_id == run_id, Job.kind.in_(["gate", "submit"]))):
            s.delete(job)
        s.commit()
    r = releases.cut(run_id)
    assert r.status_code == 422 and "has no `gate` stage" in r.json()["detail"]


def test_artifacts_deleted_from_the_store_refuse_the_cut(releases: Releases) -> None:
    run_id = releases.run_at_gate()
    for path in (releases.api.ctx.settings.home / "artifacts").rglob("app-ios.tar.gz"):
        path.unlink()
    r = releases.cut(run_id)
    assert (
        r.status_code == 409
        and "missing from the artifact store: build:ios/app-ios.tar.gz" in r.json()["detail"]
    )


def test_evaluations_are_kept_when_the_checklist_changes(releases: Releases) -> None:
    release_id = releases.cut(releases.run_at_gate()).json()["id"]
    releases.decide(release_id, ("quinn", "qa"))
    releases.decide(release_id, ("quinn", "qa"))  # the same person again: same checklist
    with releases.api.ctx.db.session() as s:
        rows = s.scalars(
            select(GateEvaluation).where(GateEvaluation.platform == "android").order_by(GateEvaluation.id)
        ).all()
        assert [r.passed for r in rows] == [False, False]
        assert rows[-1].facts["approvals"][0]["person"] == "quinn"
        assert s.scalars(select(AuditEvent.action)).all().count("approved") == 2


def test_release_events_are_queued_for_the_projects_endpoints(releases: Releases) -> None:
    from orchestrator.notifications.models import NotificationDelivery
    from orchestrator.notifications.service import add_endpoint
    from orchestrator.projects import get_project

    ctx = releases.api.ctx
    with ctx.db.session() as s:
        add_endpoint(
            s,
            get_project(s, "shop"),
            sealer=ctx.sealer,
            kind="webhook",
            url="http://127.0.0.1:9/hook",
            events=["release.*"],
            allow_private=True,
        )
        s.commit()
    run_id = releases.run_at_gate(platforms=("android",))
    release_id = releases.cut(run_id).json()["id"]
    releases.decide(release_id, ("quinn", "qa"))
    releases.decide(release_id, ("dana", "release_manager"), "reject", comment="crash")
    releases.decide(release_id, ("ana", "release_manager"))
    with ctx.db.session() as s:
        rows = s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)).all()
    assert [r.event for r in rows] == [
        "release.gate_waiting",
        "release.approved",
        "release.rejected",
        "release.approved",
        "release.ready_to_submit",
    ]
    assert rows[2].payload["summary"] == "dana (release_manager) rejected release 4.2.0: crash"
    assert rows[-1].payload["release"] == {"id": release_id, "version": "4.2.0", "run_id": run_id}
