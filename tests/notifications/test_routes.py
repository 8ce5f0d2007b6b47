"""The notification API: endpoints per project with roles, the URL policy at save, the
commit-status setting without its token, and the dead-letter list with retry."""

from __future__ import annotations

from datetime import timedelta

from orchestrator.db.models import Project
from orchestrator.db.session import Database
from orchestrator.notifications import publish
from orchestrator.notifications.network import guarded_client
from orchestrator.notifications.routes import RESOLVER_EXTRA
from orchestrator.notifications.sender import RetryPolicy, Sender
from orchestrator.sealing import Sealer
from tests.conftest import make_settings
from tests.notifications.conftest import Api, Clock
from tests.notifications.receiver import Receiver


def test_endpoints_are_added_listed_and_removed_by_release_managers(
    api: Api, project: Project, receiver: Receiver
) -> None:
    url = "/api/projects/shop/notifications"
    body = {"kind": "webhook", "url": f"{receiver.url}/hook?token=abc", "events": ["run.failed", "release.*"]}
    r = api.client.post(url, json=body, headers=api.as_("developer"))
    assert r.status_code == 403 and "release_manager" in r.json()["detail"]
    r = api.client.post(url, json=body, headers=api.as_("release_manager"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert len(created["secret"]) >= 32 and created["created_by"] == "token:release_manager-person"
    assert created["url"] == f"{receiver.url}/hook", "no query string (it may hold a credential)"
    slack = api.client.post(
        url, json={"kind": "slack", "url": f"{receiver.url}/services/T/B/secret"}, headers=api.as_("admin")
    ).json()
    assert slack["secret"] is None and slack["url"] == f"{receiver.url}/…" and slack["events"] == ["*"]

    listed = api.client.get(url, headers=api.as_("qa")).json()
    assert [(e["kind"], e["events"]) for e in listed] == [
        ("webhook", ["run.failed", "release.*"]),
        ("slack", ["*"]),
    ]
    assert all("secret" not in e for e in listed)

    assert api.client.delete(f"{url}/{created['id']}", headers=api.as_("qa")).status_code == 403
    assert api.client.delete(f"{url}/{created['id']}", headers=api.as_("release_manager")).status_code == 204
    r = api.client.delete(f"{url}/{created['id']}", headers=api.as_("release_manager"))
    assert r.status_code == 404 and "no notification endpoint" in r.json()["detail"]
    assert [e["kind"] for e in api.client.get(url, headers=api.as_("qa")).json()] == ["slack"]
    r = api.client.get("/api/projects/nope/notifications", headers=api.as_("qa"))
    assert r.status_code == 404 and r.json()["detail"] == "no project named 'nope'"


def test_bad_endpoints_are_refused_with_the_reason(api: Api, project: Project) -> None:
    url = "/api/projects/shop/notifications"
    admin = api.as_("admin")
    r = api.client.post(url, json={"kind": "webhook", "url": "ftp://example.com/x"}, headers=admin)
    assert r.status_code == 422 and "only http and https" in r.json()["detail"]
    r = api.client.post(
        url, json={"kind": "webhook", "url": "https://example.com/", "events": []}, headers=admin
    )
    assert r.status_code == 422 and "at least one event pattern" in r.json()["detail"]
    r = api.client.post(url, json={"kind": "carrier-pigeon", "url": "https://example.com/"}, headers=admin)
    assert r.status_code == 422


def test_a_loopback_url_is_refused_at_save_without_the_flag(
    tmp_path, database: Database, project: Project, receiver: Receiver
) -> None:
    strict = Api(make_settings(tmp_path / "strict"), database)
    assert strict.ctx.settings.allow_private_webhooks is False
    r = strict.client.post(
        "/api/projects/shop/notifications",
        json={"kind": "webhook", "url": receiver.url},
        headers=strict.as_("admin"),
    )
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "URL refused: 127.0.0.1 is a loopback address; Instep does not send notifications into private "
        "networks unless INSTEP_ALLOW_PRIVATE_WEBHOOKS=1 is set on the server"
    )
    # A name that resolves into the network is refused the same way (the resolver is injected).
    strict.ctx.extras[RESOLVER_EXTRA] = lambda host, port: ["10.0.0.8"]
    r = strict.client.post(
        "/api/projects/shop/notifications",
        json={"kind": "slack", "url": "https://hooks.internal.example/x"},
        headers=strict.as_("admin"),
    )
    assert (
        r.status_code == 422
        and "hooks.internal.example (10.0.0.8) is a private address" in r.json()["detail"]
    )
    assert receiver.requests == []


def test_the_commit_status_setting_never_shows_its_token(
    api: Api, project: Project, receiver: Receiver
) -> None:
    url = "/api/projects/shop/commit-status"
    assert api.client.get(url, headers=api.as_("qa")).status_code == 404
    body = {"provider": "github", "token": "ghp_secret", "api_url": f"{receiver.url}/api/v3/"}
    assert api.client.put(url, json=body, headers=api.as_("release_manager")).status_code == 403
    r = api.client.put(url, json=body, headers=api.as_("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["repository"] == "acme/shop" and r.json()["api_url"] == f"{receiver.url}/api/v3"
    shown = api.client.get(url, headers=api.as_("qa"))
    assert "ghp_secret" not in shown.text and shown.json()["provider"] == "github"
    r = api.client.put(url, json={**body, "repository": "acme"}, headers=api.as_("admin"))
    assert r.status_code == 422 and "must be OWNER/NAME" in r.json()["detail"]
    assert api.client.delete(url, headers=api.as_("admin")).status_code == 204
    assert api.client.get(url, headers=api.as_("qa")).status_code == 404


def test_dead_letters_are_listed_for_admins_and_can_be_retried(
    api: Api, database: Database, project: Project, clock: Clock
) -> None:
    sealer: Sealer = api.ctx.sealer
    with Receiver(default_status=502) as down:
        api.client.post(
            "/api/projects/shop/notifications",
            json={"kind": "webhook", "url": f"{down.url}/hook", "events": ["release.approved"]},
            headers=api.as_("admin"),
        )
        with database.session() as s:
            publish(s, project.id, "release.approved", {"summary": "shop 4.2.0 approved"}, now=clock.now)
            s.commit()
        with guarded_client(allow_private=True) as client:
            sender = Sender(
                database,
                sealer,
                base_url="https://i.example",
                client=client,
                clock=clock,
                retry=RetryPolicy(max_attempts=2, first_delay=timedelta(seconds=1)),
            )
            sender.deliver_due()
            clock.advance(seconds=1)
            sender.deliver_due()
        assert len(down.requests) == 2

    assert (
        api.client.get("/api/notifications/dead-letters", headers=api.as_("release_manager")).status_code
        == 403
    )
    [dead] = api.client.get("/api/notifications/dead-letters", headers=api.as_("admin")).json()
    assert dead["project"] == "shop" and dead["event"] == "release.approved" and dead["channel"] == "webhook"
    assert dead["state"] == "dead" and dead["attempts"] == 2 and dead["last_status_code"] == 502
    assert dead["last_error"].startswith(f"HTTP 502 from {down.url}/hook")

    r = api.client.post(f"/api/notifications/dead-letters/{dead['id']}/retry", headers=api.as_("admin"))
    assert r.status_code == 200 and r.json()["state"] == "pending" and r.json()["attempts"] == 0
    r = api.client.post(f"/api/notifications/dead-letters/{dead['id']}/retry", headers=api.as_("admin"))
    assert r.status_code == 409 and "not dead" in r.json()["detail"]
    assert api.client.get("/api/notifications/dead-letters", headers=api.as_("admin")).json() == []
    assert (
        api.client.post("/api/notifications/dead-letters/999/retry", headers=api.as_("admin")).status_code
        == 404
    )
