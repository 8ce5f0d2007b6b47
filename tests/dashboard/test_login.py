"""Signing in and out: signed HttpOnly SameSite=Lax cookies, CSRF on the form, the throttle
(5 failures a minute per account), a password change ending sessions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from orchestrator.users import LoginThrottle, set_password
from tests.dashboard.conftest import Site, csrf_of
from tests.dashboard.seed import PASSWORDS


def _login(client: TestClient, name: str, password: str, csrf: str | None = None):  # type: ignore[no-untyped-def]
    if csrf is None:
        csrf = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf, "next": "/runs"},
        follow_redirects=False,
    )


def test_pages_send_anonymous_visitors_to_the_login_and_the_api_keeps_answering_json(site: Site) -> None:
    client = site.client()
    r = client.get("/runs", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/runs"
    api = TestClient(site.app)
    r = api.get("/api/runs")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/json")


def test_signing_in_sets_a_signed_http_only_lax_cookie(site: Site) -> None:
    client = site.client()
    r = _login(client, "qa", PASSWORDS["qa"])
    assert r.status_code == 303 and r.headers["location"] == "/runs"
    cookie = r.headers["set-cookie"]
    assert "instep_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here
    page = client.get("/runs")
    assert page.status_code == 200 and "qa" in page.text and "Sign out" in page.text
    # A tampered cookie is not a session.
    value = client.cookies.get("instep_session")
    tampered = TestClient(
        site.app, headers={"Accept": "text/html"}, cookies={"instep_session": value[:-2] + "xx"}
    )
    assert tampered.get("/runs", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_over_https(site: Site) -> None:
    client = TestClient(site.app, base_url="https://testserver", headers={"Accept": "text/html"})
    r = _login(client, "qa", PASSWORDS["qa"])
    assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_wrong_password_and_missing_csrf_are_refused(site: Site) -> None:
    client = site.client()
    r = _login(client, "qa", "not-the-password")
    assert r.status_code == 401 and "wrong user name or password" in r.text
    r = _login(client, "nobody", "whatever-password")
    assert r.status_code == 401 and "wrong user name or password" in r.text
    r = _login(client, "qa", PASSWORDS["qa"], csrf="forged")
    assert r.status_code == 403 and "instep_session" not in r.headers.get("set-cookie", "")


def test_five_failures_a_minute_throttle_the_account_then_it_recovers(site: Site) -> None:
    now = [1000.0]
    site.ctx.extras["login_throttle"] = LoginThrottle(clock=lambda: now[0])
    client = site.client()
    for _ in range(5):
        assert _login(client, "qa", "wrong-password").status_code == 401
    r = _login(client, "qa", PASSWORDS["qa"])  # even the right password waits
    assert r.status_code == 429 and "too many failed sign-ins" in r.text
    assert int(r.headers["retry-after"]) == 60
    # Other accounts are not affected.
    assert _login(site.client(), "dev", PASSWORDS["dev"]).status_code == 303
    now[0] += 61
    assert _login(client, "qa", PASSWORDS["qa"]).status_code == 303


def test_sign_out_ends_the_session(site: Site) -> None:
    client = site.signed_in("dev")
    page = client.get("/runs")
    r = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/runs", follow_redirects=False).status_code == 303


def test_a_password_change_ends_open_sessions(site: Site) -> None:
    client = site.signed_in("qa")
    assert client.get("/runs").status_code == 200
    with site.ctx.db.session() as s:
        set_password(s, "qa", "a-brand-new-password")
        s.commit()
    assert client.get("/runs", follow_redirects=False).status_code == 303
    assert _login(site.client(), "qa", "a-brand-new-password").status_code == 303


def test_next_never_leaves_the_site(site: Site) -> None:
    client = site.client()
    csrf = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"name": "qa", "password": PASSWORDS["qa"], "csrf_token": csrf, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/runs"
