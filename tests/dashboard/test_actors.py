"""`require_actor`: one dependency for routes that act for a person (session) or a token, with
CSRF for sessions on state-changing requests and roles as for API tokens."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from orchestrator.actors import Actor, require_actor
from orchestrator.tokens import create_token
from tests.dashboard.conftest import Site, csrf_of


@pytest.fixture
def app(site: Site) -> FastAPI:
    def route(actor: Annotated[Actor, Depends(require_actor("release_manager"))]) -> dict[str, str]:
        return {"name": actor.name, "role": actor.role, "via": actor.via, "label": actor.label}

    site.app.post("/api/test-actor")(route)
    site.app.get("/api/test-actor")(route)
    return site.app


def test_a_token_acts_under_its_name(site: Site, app: FastAPI) -> None:
    with site.ctx.db.session() as s:
        rm = create_token(s, "release_manager", "ci-bot")[1]
        qa = create_token(s, "qa", "qa-bot")[1]
        s.commit()
    client = TestClient(app)
    r = client.post("/api/test-actor", headers={"Authorization": f"Bearer {rm}"})
    assert r.json() == {"name": "ci-bot", "role": "release_manager", "via": "token", "label": "token:ci-bot"}
    r = client.post("/api/test-actor", headers={"Authorization": f"Bearer {qa}"})
    assert r.status_code == 403 and "needs one of: release_manager" in r.json()["detail"]
    assert client.post("/api/test-actor", headers={"Authorization": "Bearer inst_nope"}).status_code == 401
    assert client.post("/api/test-actor").status_code == 401


def test_a_session_acts_as_its_person_and_needs_csrf_to_change_things(site: Site, app: FastAPI) -> None:
    client = site.signed_in("rm")
    csrf = csrf_of(client.get("/runs").text)
    assert client.get("/api/test-actor").json()["label"] == "user:rm"  # reading needs no token
    assert client.post("/api/test-actor").status_code == 403
    r = client.post("/api/test-actor", headers={"X-CSRF-Token": csrf})
    assert r.json() == {"name": "rm", "role": "release_manager", "via": "session", "label": "user:rm"}
    assert client.post("/api/test-actor", data={"csrf_token": csrf}).status_code == 200
    admin = site.signed_in("admin")  # admin may do everything
    assert (
        admin.post("/api/test-actor", headers={"X-CSRF-Token": csrf_of(admin.get("/runs").text)}).status_code
        == 200
    )
    dev = site.signed_in("dev")
    r = dev.post("/api/test-actor", headers={"X-CSRF-Token": csrf_of(dev.get("/runs").text)})
    assert r.status_code == 403
