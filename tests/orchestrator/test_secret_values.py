"""Project secrets too short to be masked in logs are refused, with the reason, and nothing is stored."""

from __future__ import annotations

from tests.orchestrator.conftest import Api


def test_a_short_secret_is_refused_by_the_api_and_nothing_changes(api: Api) -> None:
    admin = api.as_("admin")
    r = api.client.post(
        "/api/projects",
        json={"name": "shop", "repo_url": "https://x/acme/shop.git", "secrets": {"PIN": "123"}},
        headers=admin,
    )
    assert r.status_code == 422
    assert "secret 'PIN' is 3 characters long" in r.json()["detail"]
    assert api.client.get("/api/projects/shop", headers=admin).status_code == 404

    api.client.post("/api/projects", json={"name": "shop", "repo_url": "https://x/acme/shop.git"}, headers=admin)
    r = api.client.put(
        "/api/projects/shop/secrets", json={"set": {"OK_KEY": "long-enough", "PIN": "abc"}}, headers=admin
    )
    assert r.status_code == 422 and "at least 6" in r.json()["detail"]
    assert api.client.get("/api/projects/shop", headers=admin).json()["secret_names"] == []
