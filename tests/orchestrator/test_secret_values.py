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

    api.client.post(
        "/api/projects", json={"name": "shop", "repo_url": "https://x/acme/shop.git"}, headers=admin
    )
    r = api.client.put(
        "/api/projects/shop/secrets", json={"set": {"OK_KEY": "long-enough", "PIN": "abc"}}, headers=admin
    )
    assert r.status_code == 422 and "at least 6" in r.json()["detail"]
    assert api.client.get("/api/projects/shop", headers=admin).json()["secret_names"] == []


def test_generated_bad_input_answers_4xx_not_500(api: Api) -> None:
    """Cases schemathesis found: a ref with NUL and a lone surrogate, a run id past 2^63 in a
    body, a negative page cursor."""
    admin = api.as_("admin")
    api.client.post(
        "/api/projects", json={"name": "shop", "repo_url": "https://x/acme/shop.git"}, headers=admin
    )
    body = '{"project": "shop", "ref": "=\\u001a\\u0001\\u0000\\uda7c"}'  # the escapes as JSON sends them
    r = api.client.post("/api/runs", content=body, headers={**admin, "Content-Type": "application/json"})
    assert r.status_code == 422 and "valid string" in r.text
    r = api.client.post(
        "/api/runs", json={"project": "shop", "ref": "main\ninstep: fake line"}, headers=admin
    )
    assert r.status_code == 422 and "printable" in r.text
    r = api.client.post(
        "/api/releases",
        json={"run_id": -559560004087506337792, "project": "shop", "version": "1.0.0"},
        headers=admin,
    )
    assert r.status_code == 422
    r = api.client.get(
        "/api/notifications/dead-letters?before_id=-123984122189027120601104384", headers=admin
    )
    assert r.status_code == 422
