"""The REST API in-process (FastAPI TestClient) on a real database; Celery is replaced by a
dispatcher that records what would have been sent (fixtures in conftest.py)."""

from __future__ import annotations

import pytest

from tests.orchestrator.conftest import Api


def test_every_route_needs_a_valid_token(api: Api) -> None:
    assert api.client.get("/api/projects").status_code == 401
    r = api.client.get("/api/runs", headers={"Authorization": "Bearer inst_not-a-real-token"})
    assert r.status_code == 401 and r.json()["detail"] == "invalid or revoked API token"


def test_roles_are_checked_on_mutating_routes(api: Api) -> None:
    body = {"name": "shop", "repo_url": "https://github.com/acme/shop.git"}
    r = api.client.post("/api/projects", json=body, headers=api.as_("developer"))
    assert r.status_code == 403 and "needs one of: admin" in r.json()["detail"]
    r = api.client.post("/api/projects", json=body, headers=api.as_("admin"))
    assert r.status_code == 201
    created = r.json()
    assert created["match"] == "acme/shop" and len(created["webhook_secret"]) >= 32
    assert api.client.post("/api/projects", json=body, headers=api.as_("admin")).status_code == 409
    # Everyone with a token may read; the webhook secret is never shown again.
    listed = api.client.get("/api/projects", headers=api.as_("qa")).json()
    assert [p["name"] for p in listed] == ["shop"] and "webhook_secret" not in listed[0]
    r = api.client.post(
        "/api/runs", json={"project": "shop", "ref": "main", "sha": "a" * 40}, headers=api.as_("qa")
    )
    assert r.status_code == 403


def test_secrets_are_write_only(api: Api) -> None:
    api.client.post(
        "/api/projects",
        json={"name": "shop", "repo_url": "https://x/acme/shop.git"},
        headers=api.as_("admin"),
    )
    r = api.client.put(
        "/api/projects/shop/secrets", json={"set": {"PLAY_KEY": "hunter2-long"}}, headers=api.as_("admin")
    )
    assert r.status_code == 200 and r.json()["secret_names"] == ["PLAY_KEY"]
    assert "hunter2-long" not in r.text
    r = api.client.put(
        "/api/projects/shop/secrets", json={"set": {"bad-name": "x"}}, headers=api.as_("admin")
    )
    assert r.status_code == 422 and "bad-name" in r.json()["detail"]


def test_trigger_list_show_cancel_and_rerun(api: Api) -> None:
    api.client.post(
        "/api/projects",
        json={"name": "shop", "repo_url": "https://x/acme/shop.git"},
        headers=api.as_("admin"),
    )
    r = api.client.post(
        "/api/runs", json={"project": "shop", "ref": "main", "sha": "c" * 40}, headers=api.as_("developer")
    )
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] == "queued" and run["ref"] == "refs/heads/main" and run["number"] == 1
    assert api.dispatcher.sent == [("plan", run["id"])]

    page = api.client.get(
        "/api/runs", params={"project": "shop", "status": "queued"}, headers=api.as_("qa")
    ).json()
    assert [r["id"] for r in page["runs"]] == [run["id"]]
    assert api.client.get("/api/runs", params={"project": "nope"}, headers=api.as_("qa")).status_code == 404

    detail = api.client.get(f"/api/runs/{run['id']}", headers=api.as_("qa")).json()
    assert detail["jobs"] == [] and detail["events"][0]["to_status"] == "queued"

    r = api.client.post(f"/api/runs/{run['id']}/cancel", headers=api.as_("developer"))
    assert r.status_code == 200 and r.json()["cancel_requested"] is True
    r = api.client.post(f"/api/runs/{run['id']}/rerun", headers=api.as_("developer"))
    assert r.status_code == 409 and "still queued" in r.json()["detail"]
    assert api.client.get("/api/runs/999999", headers=api.as_("qa")).status_code == 404


def test_pagination_walks_every_run_once(api: Api) -> None:
    api.client.post(
        "/api/projects",
        json={"name": "shop", "repo_url": "https://x/acme/shop.git"},
        headers=api.as_("admin"),
    )
    for i in range(7):
        api.client.post(
            "/api/runs",
            json={"project": "shop", "ref": "main", "sha": f"{i:040x}"},
            headers=api.as_("developer"),
        )
    seen: list[int] = []
    before = None
    while True:
        params = {"limit": 3, **({"before": before} if before else {})}
        page = api.client.get("/api/runs", params=params, headers=api.as_("qa")).json()
        seen += [r["number"] for r in page["runs"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == [7, 6, 5, 4, 3, 2, 1]


def test_openapi_document_describes_the_api(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    for path in (
        "/api/runs",
        "/api/runs/{run_id}/cancel",
        "/api/projects/{name}/secrets",
        "/api/jobs/{job_id}/log/stream",
        "/api/webhooks/{provider}",
        "/api/artifacts/{artifact_id}",
    ):
        assert path in doc["paths"], path


def test_secrets_are_stored_sealed_and_only_jobs_see_them_in_clear(api: Api) -> None:
    from sqlalchemy import text

    from orchestrator.db.models import Project
    from orchestrator.projects import job_secrets, webhook_secret

    r = api.client.post(
        "/api/projects",
        json={
            "name": "shop",
            "repo_url": "https://x/acme/shop.git",
            "secrets": {"PLAY_KEY": "play-json-key-value"},
        },
        headers=api.as_("admin"),
    )
    clear_hook = r.json()["webhook_secret"]
    with api.ctx.db.session() as s:
        raw = " ".join(str(v) for v in s.execute(text("SELECT webhook_secret, secrets FROM projects")).one())
        assert "play-json-key-value" not in raw and clear_hook not in raw and "sealed:v1:" in raw
        project = s.query(Project).one()
        assert job_secrets(project, api.ctx.sealer) == {"PLAY_KEY": "play-json-key-value"}
        assert webhook_secret(project, api.ctx.sealer) == clear_hook
        from orchestrator.sealing import Sealer, SealError

        with pytest.raises(SealError, match="INSTEP_SECRET_KEY"):
            job_secrets(project, Sealer("another-secret-key-entirely"))


# --- webhooks through the route ------------------------------------------------------------------


def _github_push(secret: str, *, repository: str = "acme/shop", delivery: str = "d-1", **fields: object):  # type: ignore[no-untyped-def]
    import json

    from orchestrator.webhooks import sign

    data: dict[str, object] = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": "c" * 40,
        "repository": {"full_name": repository},
    }
    data.update(fields)
    body = json.dumps(data).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(secret, body),
    }
    return body, headers


def _register_shop(api: Api) -> str:
    r = api.client.post(
        "/api/projects",
        json={"name": "shop", "repo_url": "https://github.com/acme/shop.git"},
        headers=api.as_("admin"),
    )
    assert r.status_code == 201, r.text
    return r.json()["webhook_secret"]


def test_an_unknown_repository_and_a_bad_signature_get_the_same_answer(api: Api) -> None:
    secret = _register_shop(api)
    body, headers = _github_push("guess")
    wrong_secret = api.client.post("/api/webhooks/github", content=body, headers=headers)
    body, headers = _github_push("guess", repository="acme/other")
    unknown = api.client.post("/api/webhooks/github", content=body, headers=headers)
    assert (unknown.status_code, unknown.json()) == (wrong_secret.status_code, wrong_secret.json())
    assert unknown.status_code == 401 and "acme" not in unknown.text
    body, headers = _github_push(secret)
    assert api.client.post("/api/webhooks/github", content=body, headers=headers).status_code == 201


def test_a_redelivered_github_delivery_starts_nothing_new(api: Api) -> None:
    secret = _register_shop(api)
    body, headers = _github_push(secret, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    first = api.client.post("/api/webhooks/github", content=body, headers=headers)
    again = api.client.post("/api/webhooks/github", content=body, headers=headers)
    assert first.status_code == 201 and first.json()["status"] == "queued"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["run_id"] == first.json()["run_id"]
    assert api.dispatcher.sent == [("plan", first.json()["run_id"])]


def test_webhook_json_nested_1000_deep_answers_400_even_when_signed(api: Api) -> None:
    from orchestrator.webhooks import sign

    secret = _register_shop(api)
    body, headers = _github_push(secret)
    body = body[:-1] + b', "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    headers["X-Hub-Signature-256"] = sign(secret, body)
    r = api.client.post("/api/webhooks/github", content=body, headers=headers)
    assert r.status_code == 400 and "nests deeper than 64 levels" in r.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"after": "main"}, "`after` is not a commit sha"),
        ({"ref": "refs/heads/main\nINFO deployed"}, "`ref` contains the control character U+000A"),
    ],
)
def test_webhook_sha_and_ref_are_checked(api: Api, fields: dict, detail: str) -> None:
    secret = _register_shop(api)
    body, headers = _github_push(secret, **fields)
    r = api.client.post("/api/webhooks/github", content=body, headers=headers)
    assert r.status_code == 400 and detail in r.json()["detail"]
    assert api.dispatcher.sent == []


def test_an_unsigned_25_mb_flood_is_refused_without_decoding(api: Api) -> None:
    import tracemalloc

    from orchestrator.webhooks import MAX_PAYLOAD_BYTES

    _register_shop(api)
    prefix = b'{"repository": {"full_name": "acme/shop"}, "x": ['
    body = prefix + b"{}," * ((MAX_PAYLOAD_BYTES - len(prefix) - 8) // 3) + b"{}]}"
    headers = _github_push("guess")[1]
    tracemalloc.start()
    r = api.client.post("/api/webhooks/github", content=body, headers=headers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert r.status_code == 401
    # The body itself is received (25 MB, once joined); decoding it would add ~650 MB.
    print(f"peak Python allocation while refusing a 25 MB flood: {peak / 1e6:.1f} MB")
    assert peak < 2.5 * MAX_PAYLOAD_BYTES, f"{peak / 1e6:.0f} MB"


def test_unknown_webhook_provider_is_404(api: Api) -> None:
    r = api.client.post(
        "/api/webhooks/bitbucket", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 404 and "expected github, gitlab, git" in r.json()["detail"]


def test_a_repo_url_with_credentials_is_sealed_and_shown_redacted(api: Api) -> None:
    from sqlalchemy import text

    from orchestrator.db.models import Project
    from orchestrator.projects import clone_url

    url = "https://x-access-token:ghs_TOKENvalue123@github.com/acme/shop.git"
    r = api.client.post("/api/projects", json={"name": "shop", "repo_url": url}, headers=api.as_("admin"))
    assert r.status_code == 201 and r.json()["repo_url"] == "https://***@github.com/acme/shop.git"
    answers = [
        api.client.get("/api/projects", headers=api.as_("qa")).text,
        api.client.get("/api/projects/shop", headers=api.as_("developer")).text,
        api.client.put("/api/projects/shop/secrets", json={"set": {}}, headers=api.as_("admin")).text,
    ]
    assert all("ghs_TOKENvalue123" not in a and "https://***@github.com/acme/shop.git" in a for a in answers)
    with api.ctx.db.session() as s:
        raw = " ".join(
            str(v) for v in s.execute(text("SELECT repo_url, repo_url_sealed FROM projects")).one()
        )
        assert "ghs_TOKENvalue123" not in raw
        assert clone_url(s.query(Project).one(), api.ctx.sealer) == url  # what the worker clones with


# --- ids out of range ----------------------------------------------------------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/runs/{HUGE}"),
        ("post", f"/api/runs/{HUGE}/cancel"),
        ("post", f"/api/runs/{HUGE}/rerun"),
        ("get", f"/api/jobs/{HUGE}/log"),
        ("get", f"/api/jobs/{HUGE}/log/stream"),
        ("get", f"/api/artifacts/{HUGE}"),
        ("get", f"/api/runs/{HUGE}/comparisons"),
        ("get", f"/api/runs?before={HUGE}"),
        ("get", "/api/runs/3000000000"),  # past PostgreSQL's INTEGER
        ("get", "/api/runs/-1"),
        ("get", "/api/runs?before=0"),
    ],
)
def test_ids_out_of_range_answer_422_not_500(api: Api, method: str, path: str) -> None:
    r = getattr(api.client, method)(path, headers=api.as_("admin"))
    assert r.status_code == 422, (r.status_code, r.text)


def test_the_largest_id_is_simply_not_found(api: Api) -> None:
    from orchestrator.api.deps import MAX_ID

    r = api.client.get(f"/api/runs/{MAX_ID}", headers=api.as_("qa"))
    assert r.status_code == 404
    r = api.client.get("/api/runs", params={"before": MAX_ID}, headers=api.as_("qa"))
    assert r.status_code == 200 and r.json()["runs"] == []
    assert api.client.get(f"/api/runs/{MAX_ID + 1}", headers=api.as_("qa")).status_code == 422


def test_every_integer_path_parameter_and_before_is_bounded(api: Api) -> None:
    """The OpenAPI document shows each route's id type; a new route with a bare `int` id fails
    here (use `orchestrator.api.deps.Id` / `BeforeId`)."""
    doc = api.client.get("/openapi.json").json()
    unbounded = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                types = [schema] + schema.get("anyOf", [])
                if not any(t.get("type") == "integer" for t in types):
                    continue
                if parameter["in"] == "path" or parameter["name"] == "before":
                    bounded = [
                        t for t in types if t.get("type") == "integer" and t.get("maximum") == 2**31 - 1
                    ]
                    if not bounded:
                        unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == [], (
        "use orchestrator.api.deps.Id for id path parameters and BeforeId for before= "
        "(a bare int answers 500 past 2^31-1 on PostgreSQL): " + ", ".join(unbounded)
    )


@pytest.mark.parametrize(
    "body",
    [
        {"repo_url": "https://github.com/acme/shop.git\nINFO injected"},
        {"repo_url": "https://github.com/acme/shop.git", "match": "acme/shop\r"},
        {"repo_url": "https://github.com/acme/shop.git", "match": "a/" + "b" * 300},
    ],
)
def test_project_urls_and_match_names_are_checked(api: Api, body: dict) -> None:
    r = api.client.post("/api/projects", json={"name": "shop", **body}, headers=api.as_("admin"))
    assert r.status_code == 422 and ("--match" in r.json()["detail"] or "--repo" in r.json()["detail"])
