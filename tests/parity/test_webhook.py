"""GitHub `deployment_status` deliveries of the project's web repository: `success` records a
web deployment (and passes a waiting gate), `failure`/`inactive` of the current one rolls it
back; signatures are checked like push deliveries, and an unknown repository gets the same 401."""

from __future__ import annotations

import json
import uuid
from typing import Any

from orchestrator.projects import get_project, webhook_secret
from orchestrator.webhooks import sign
from tests.parity.conftest import approved
from tests.releases.conftest import Releases, reasons

WEB_REPO = "acme/shop-web"


def status_delivery(
    secret: str,
    state: str = "success",
    deployment_id: int = 1001,
    repository: str = WEB_REPO,
    payload: Any = None,
    ref: str = "v2026.12.1",
) -> tuple[bytes, dict[str, str]]:
    """A `deployment_status` delivery shaped like GitHub's (fields Instep reads, as GitHub names them)."""
    body = json.dumps(
        {
            "action": "created",
            "deployment_status": {
                "id": 5001,
                "state": state,
                "environment": "production",
                "created_at": "2026-12-02T10:00:00Z",
                "description": "Deployed by CI",
            },
            "deployment": {
                "id": deployment_id,
                "sha": "b" * 40,
                "ref": ref,
                "task": "deploy",
                "environment": "production",
                "payload": {"api_version": "2025-11", "features": ["new_checkout"]}
                if payload is None
                else payload,
                "created_at": "2026-12-02T09:58:00Z",
            },
            "repository": {"id": 42, "full_name": repository},
            "sender": {"login": "deploy-bot"},
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "deployment_status",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
    }
    return body, headers


def with_web_repo(releases: Releases) -> str:
    ctx = releases.api.ctx
    with ctx.db.session() as s:
        project = get_project(s, "shop")
        project.web_repo = WEB_REPO
        s.commit()
        return webhook_secret(project, ctx.sealer)


def post(releases: Releases, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return releases.api.client.post("/api/webhooks/github", content=body, headers=headers)


def history(releases: Releases) -> list[dict[str, Any]]:
    r = releases.api.client.get(
        "/api/web-deployments?project=shop", headers=releases.person("dev", "developer")
    )
    return r.json()["deployments"]


def test_a_successful_deployment_status_records_the_web_and_passes_the_waiting_gate(
    releases: Releases,
) -> None:
    secret = with_web_repo(releases)
    run_id, release_id = approved(releases)
    assert releases.job(run_id, "gate:android").status == "waiting"
    r = post(releases, *status_delivery(secret))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "recorded" and r.json()["reason"] == "production web 2026.12.1"
    [deployment] = history(releases)
    assert (deployment["version"], deployment["api_version"], deployment["commit"]) == (
        "2026.12.1",
        "2025-11",
        "b" * 40,
    )
    assert deployment["features"] == ["new_checkout"] and deployment["recorded_by"] == "github:deploy-bot"
    assert deployment["deployed_at"].startswith("2026-12-02T10:00:00")
    assert releases.job(run_id, "gate:android").status == "succeeded"
    android = releases.show(release_id)["platforms"][0]
    assert reasons(android)["web_parity"] == "production web 2026.12.1 (api 2025-11) provides api >= 2025-11"
    again = post(releases, *status_delivery(secret))
    assert again.status_code == 200 and again.json()["status"] == "duplicate" and len(history(releases)) == 1


def test_failure_or_inactive_of_the_current_deployment_rolls_it_back(releases: Releases) -> None:
    secret = with_web_repo(releases)
    assert post(releases, *status_delivery(secret, deployment_id=1, ref="v2026.11.0")).status_code == 201
    assert post(releases, *status_delivery(secret, deployment_id=2)).status_code == 201
    stale = post(releases, *status_delivery(secret, state="inactive", deployment_id=1))
    assert stale.status_code == 202 and "not the current one" in stale.json()["reason"]
    r = post(releases, *status_delivery(secret, state="failure", deployment_id=2))
    assert r.status_code == 200 and r.json() == {
        "status": "rolled_back",
        "reason": "production web back to 2026.11.0",
        "run_id": None,
    }
    assert [(d["version"], d["status"]) for d in history(releases)] == [
        ("2026.12.1", "rolled_back"),
        ("2026.11.0", "deployed"),
    ]
    pending = post(releases, *status_delivery(secret, state="in_progress", deployment_id=3))
    assert pending.status_code == 202 and "changes nothing" in pending.json()["reason"]


def test_a_bad_signature_is_401_and_an_unknown_repository_answers_like_push_webhooks(
    releases: Releases,
) -> None:
    secret = with_web_repo(releases)
    wrong = post(releases, *status_delivery("not-the-secret-at-all"))
    unknown = post(releases, *status_delivery(secret, repository="acme/elsewhere"))
    assert wrong.status_code == 401
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())
    assert history(releases) == []


def test_an_unusable_version_in_the_deployment_is_refused_naming_the_field(releases: Releases) -> None:
    secret = with_web_repo(releases)
    r = post(releases, *status_delivery(secret, payload={"version": "next friday", "api_version": "2025-11"}))
    assert r.status_code == 422 and r.json()["detail"].startswith("deployment.payload.version: ")
    r = post(releases, *status_delivery(secret, payload={"api_version": "soon"}))
    assert r.status_code == 422 and r.json()["detail"].startswith("deployment.payload.api_version: ")
    assert history(releases) == []


def test_deployment_statuses_of_the_app_repository_itself_are_not_web_deployments(releases: Releases) -> None:
    secret = with_web_repo(releases)
    with releases.api.ctx.db.session() as s:
        match = get_project(s, "shop").match_name
    r = post(releases, *status_delivery(secret, repository=match))
    assert r.status_code == 202 and "are not web deployments of project shop" in r.json()["reason"]
