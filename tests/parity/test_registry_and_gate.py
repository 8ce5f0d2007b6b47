"""The web deployment registry through the API, and the gate's web parity line on a real
database: pending with an empty registry, passing by itself when the web deploys, the decision
stored with the deployment's id; rollbacks halt shipped releases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from orchestrator.db.models import utcnow
from orchestrator.notifications.service import add_endpoint
from orchestrator.parity import flows, service
from orchestrator.parity.protection import check_parity_before
from orchestrator.projects import get_project
from orchestrator.releases.models import AuditEvent, GateEvaluation, ReleasePlatform
from orchestrator.releases.service import System
from tests.parity.conftest import Web, approved
from tests.releases.conftest import Releases, checks, reasons


def test_an_empty_registry_keeps_the_gate_pending_and_a_deployment_passes_it_by_itself(
    releases: Releases, web: Web
) -> None:
    run_id, release_id = approved(releases)
    android = {p["platform"]: p for p in releases.show(release_id)["platforms"]}["android"]
    assert checks(android)["web_parity"] == "pending"
    assert reasons(android)["web_parity"] == "no web deployment recorded for production"
    assert releases.job(run_id, "gate:android").status == "waiting" and releases.submits_sent() == []

    r = web.record("2026.12.1", commit="a" * 40, contracts={"orders": "v3"}, features=["new_checkout"])
    assert r.status_code == 201, r.text
    deployment = r.json()["deployment"]
    assert deployment["recorded_by"] == "web-ci" and deployment["status"] == "deployed"

    for platform in releases.show(release_id)["platforms"]:
        assert platform["state"] == "ready_to_submit", platform
        assert (
            reasons(platform)["web_parity"]
            == "production web 2026.12.1 (api 2025-11) provides api >= 2025-11"
        )
    assert releases.job(run_id, "gate:android").status == "succeeded"
    assert len(releases.submits_sent()) == 2, "each platform's submit job is released once"
    with releases.api.ctx.db.session() as s:
        kept = s.scalars(
            select(GateEvaluation)
            .where(GateEvaluation.release_id == release_id)
            .order_by(GateEvaluation.id.desc())
        ).first()
        assert kept is not None and kept.passed and kept.facts["web"]["id"] == deployment["id"]
        assert kept.facts["web"]["version"] == "2026.12.1"


def test_a_web_that_does_not_provide_the_api_keeps_the_gate_pending_with_the_reason(
    releases: Releases, web: Web
) -> None:
    run_id, release_id = approved(releases)
    assert web.record("2026.12.0", api="2025-10").status_code == 201
    android = releases.show(release_id)["platforms"][0]
    assert checks(android)["web_parity"] == "pending"
    assert reasons(android)["web_parity"].startswith(
        "needs api >= 2025-11, production web 2026.12.0 (api 2025-10) provides api 2025-10 since"
    )
    assert releases.job(run_id, "gate:android").status == "waiting"
    assert web.record("2026.12.0", api="2025-11", env="staging").status_code == 201
    assert releases.job(run_id, "gate:android").status == "waiting", "staging is not the policy's environment"


def test_unparseable_versions_are_refused_naming_the_field(releases: Releases, web: Web) -> None:
    bad_version = web.record("latest")
    assert bad_version.status_code == 422
    assert bad_version.json()["detail"][0]["loc"] == ["body", "version"]
    assert "'latest' is not a version" in bad_version.json()["detail"][0]["msg"]
    bad_api = web.record("2026.12.1", api="soon")
    assert bad_api.status_code == 422 and bad_api.json()["detail"][0]["loc"] == ["body", "api_version"]
    bad_contract = web.record("2026.12.1", contracts={"orders": "v 3"})
    assert bad_contract.status_code == 422 and bad_contract.json()["detail"][0]["loc"] == [
        "body",
        "contracts",
        "orders",
    ]
    unknown = releases.api.client.post(
        "/api/web-deployments",
        json={"project": "nope", "environment": "production", "version": "1.0"},
        headers=releases.person("web-ci", "web_deployer"),
    )
    assert unknown.status_code == 404 and "no project named 'nope'" in unknown.text
    listed = releases.api.client.get(
        "/api/web-deployments?project=shop", headers=releases.person("dev", "developer")
    )
    assert listed.json()["deployments"] == []


def test_a_web_deployer_token_may_only_record_web_deployments(releases: Releases, web: Web) -> None:
    run_id = releases.run_at_gate()
    deployer = releases.person("web-ci", "web_deployer")
    client = releases.api.client
    for method, path, body in [
        ("GET", "/api/projects", None),
        ("GET", "/api/runs", None),
        ("GET", f"/api/runs/{run_id}", None),
        ("GET", "/api/releases", None),
        ("POST", "/api/releases", {"project": "shop", "run_id": run_id, "version": "4.2.0"}),
        ("GET", "/api/web-deployments?project=shop", None),
        ("GET", "/api/projects/shop/parity", None),
        ("POST", "/api/runs", {"project": "shop", "ref": "main"}),
    ]:
        r = client.request(method, path, json=body, headers=deployer)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "role 'web_deployer' may not do this" in r.json()["detail"]
    assert web.record("2026.12.1").status_code == 201
    developer = client.post(
        "/api/web-deployments",
        json={"project": "shop", "environment": "production", "version": "2026.12.2"},
        headers=releases.person("dev", "developer"),
    )
    assert developer.status_code == 403


def test_recording_replaces_the_previous_one_and_keeps_history(releases: Releases, web: Web) -> None:
    first = web.record("2026.12.1").json()["deployment"]
    second = web.record("2026.12.2").json()
    assert second["current"]["version"] == "2026.12.2" and second["rolled_back_to"] is None
    history = releases.api.client.get(
        "/api/web-deployments?project=shop", headers=releases.person("dev", "developer")
    ).json()["deployments"]
    assert [(d["version"], d["status"]) for d in history] == [
        ("2026.12.2", "deployed"),
        ("2026.12.1", "deployed"),
    ]
    assert history[1]["id"] == first["id"]


def test_two_recordings_at_once_the_later_deployed_at_wins_and_both_are_kept(releases: Releases) -> None:
    ctx = releases.api.ctx
    early = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def record(version: str, at: datetime) -> None:
        try:
            with ctx.db.session() as s:
                barrier.wait(timeout=10)
                flows.record(
                    ctx,
                    s,
                    "shop",
                    service.DeploymentIn("production", version, "2025-11", deployed_at=at),
                    System("web-ci", "web_deployer"),
                )
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # The later deployment is reported first, then a late report of the earlier one: twice, in
    # both orders, so whichever thread commits last, the answer is the same.
    for later_first in (True, False):
        base = early + timedelta(days=1 if later_first else 2)
        pair = [
            (f"2026.12.{3 if later_first else 5}", base + timedelta(minutes=5)),
            (f"2026.12.{2 if later_first else 4}", base),
        ]
        threads = [
            threading.Thread(target=record, args=item) for item in (pair if later_first else pair[::-1])
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        with ctx.db.session() as s:
            project = get_project(s, "shop")
            current = service.current_deployment(s, project.id, "production")
            assert current is not None and current.version == pair[0][0], "the later deployed_at is current"
            versions = {d.version for d in service.history(s, project.id, "production")}
            assert {pair[0][0], pair[1][0]} <= versions, "both are kept"
            assert all(d.status == "deployed" for d in service.history(s, project.id)), (
                "a late report is no rollback"
            )


def test_a_web_rollback_halts_every_shipped_release_with_the_reason(releases: Releases, web: Web) -> None:
    ctx = releases.api.ctx
    with ctx.db.session() as s:
        add_endpoint(
            s,
            get_project(s, "shop"),
            sealer=ctx.sealer,
            kind="webhook",
            url="https://hooks.example.com/instep",
            events=["release.halted"],
            allow_private=True,
            resolver=lambda host, port: ["93.184.216.34"],
        )
        s.commit()
    assert web.record("2026.11.0", api="2025-10").status_code == 201
    assert web.record("2026.12.1").status_code == 201
    run_id, release_id = approved(releases)
    assert releases.job(run_id, "gate:android").status == "succeeded"
    with ctx.db.session() as s:  # android reached the store and rolls out; ios waits for review
        for row in s.scalars(select(ReleasePlatform).where(ReleasePlatform.release_id == release_id)):
            row.state = "rolling_out" if row.platform == "android" else "in_review"
        s.commit()

    r = web.rollback(version="2026.12.1", reason="checkout errors")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rolled_back_to"] == "2026.11.0" and body["current"]["version"] == "2026.11.0"
    assert {(h["platform"], h["reason"]) for h in body["halted"]} == {
        ("android", "halted: web rolled back to 2026.11.0"),
        ("ios", "halted: web rolled back to 2026.11.0"),
    }
    shown = releases.show(release_id)
    assert shown["reason"] == "halted: web rolled back to 2026.11.0"
    states = {p["platform"]: (p["state"], p["reason"]) for p in shown["platforms"]}
    assert states == {
        "android": ("halted", "halted: web rolled back to 2026.11.0"),
        "ios": ("in_review", "halted: web rolled back to 2026.11.0"),
    }
    audit = releases.api.client.get(
        f"/api/releases/{release_id}/audit", headers=releases.person("dev", "developer")
    ).json()
    halted = [e for e in audit if e["action"] == "halted_for_web"]
    assert len(halted) == 2 and all(e["details"]["deployment_id"] == body["current"]["id"] for e in halted)
    assert all("not sent" in e["details"]["store"] for e in halted), "the store halt is not wired yet"
    from orchestrator.notifications.models import NotificationDelivery

    with ctx.db.session() as s:
        events = [
            d.payload["summary"]
            for d in s.scalars(
                select(NotificationDelivery).where(NotificationDelivery.event == "release.halted")
            )
        ]
    assert sorted(events) == [
        "release 4.2.0 on android halted: web rolled back to 2026.11.0",
        "release 4.2.0 on ios halted: web rolled back to 2026.11.0",
    ]
    # Recording the same web again halts nothing twice.
    assert web.record("2026.11.0", api="2025-10").json()["halted"] == []


def test_re_deploying_an_older_version_is_a_rollback(releases: Releases, web: Web) -> None:
    web.record("2026.11.0", api="2025-10")
    newer = web.record("2026.12.1").json()["deployment"]
    run_id, release_id = approved(releases)
    assert releases.job(run_id, "gate:android").status == "succeeded"
    r = web.record("2026.11.0", api="2025-10").json()
    assert r["rolled_back_to"] == "2026.11.0"
    assert {h["reason"] for h in r["halted"]} == {"halted: web rolled back to 2026.11.0"}
    history = releases.api.client.get(
        "/api/web-deployments?project=shop", headers=releases.person("dev", "developer")
    ).json()["deployments"]
    rolled = [d for d in history if d["id"] == newer["id"]][0]
    assert (
        rolled["status"] == "rolled_back"
        and rolled["rolled_back_reason"] == "re-deployed older version 2026.11.0"
    )


def test_parity_is_asked_again_before_submission_and_rollout_increases(releases: Releases, web: Web) -> None:
    web.record("2026.12.1")
    _run_id, release_id = approved(releases)
    ctx = releases.api.ctx
    with ctx.db.session() as s:
        assert check_parity_before(s, release_id, "android", "submit").passed
        s.commit()
    web.rollback()
    with ctx.db.session() as s:
        verdict = check_parity_before(s, release_id, "android", "rollout_increase", now=utcnow())
        s.commit()
    assert not verdict.passed and verdict.reason == "no web deployment recorded for production"
    with ctx.db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.release_id == release_id))]
    assert "parity_before_submit" in actions and "parity_before_rollout_increase" in actions


def test_a_web_deployer_token_sees_no_dashboard_page(releases: Releases) -> None:
    from fastapi.testclient import TestClient

    from dashboard import install
    from orchestrator.api import create_app

    client = TestClient(create_app(releases.api.ctx, extensions=[install]))
    deployer = releases.person("web-ci", "web_deployer")
    developer = releases.person("dev", "developer")
    for page in ("/runs", "/devices"):
        assert client.get(page, headers=developer).status_code == 200, page
        r = client.get(page, headers=deployer)
        assert r.status_code == 403, (page, r.status_code)
