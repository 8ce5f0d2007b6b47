"""The simulator's own checks: malformed requests are refused (400) and recorded, App Store Connect
JWT rules (401), and `python -m stores.simulator` as a real process."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from stores import AppStoreKey, Candidate, GooglePlay
from stores.app_store_auth import make_token
from stores.simulator import make_test_bundle
from stores.simulator.descriptions import shared_play_description

EDITS = "/androidpublisher/v3/applications/dev.instep.sample/edits"
ROOT = Path(__file__).resolve().parents[2]


def play_token(sim) -> dict[str, str]:
    sim.state.keys.access_tokens["test-token"] = ("tests@instep", time.time() + 600)
    return {"Authorization": "Bearer test-token"}


# --- Play requests checked against the discovery document ---


def test_play_description_refuses_what_the_discovery_document_does_not_allow():
    play = shared_play_description()
    ok = play.check(
        "POST", f"{EDITS}/1:commit", {"changesInReviewBehavior": ["ERROR_IF_IN_REVIEW"]}, None, ""
    )
    assert ok.ok and ok.operation.name == "androidpublisher.edits.commit"
    bad_enum = play.check("POST", f"{EDITS}/1:commit", {"changesInReviewBehavior": ["LATER"]}, None, "")
    assert bad_enum.problems == [
        "query parameter changesInReviewBehavior must be one of CHANGES_IN_REVIEW_BEHAVIOR_TYPE_UNSPECIFIED, "
        "CANCEL_IN_REVIEW_AND_SUBMIT, ERROR_IF_IN_REVIEW, got 'LATER'"
    ]
    track = {"track": "production", "releases": [{"versionCodes": [42], "status": "live", "fraction": 0.1}]}
    problems = play.check("PUT", f"{EDITS}/1/tracks/production", {}, track, "application/json").problems
    assert any("'fraction' was unexpected" in p for p in problems)
    assert any("'live' is not one of" in p for p in problems)
    assert any("42 is not of type 'string'" in p for p in problems)
    assert not play.check("DELETE", f"{EDITS}/1/bundles", {}, None, "").operation


def test_malformed_play_requests_get_400_and_are_recorded(sim):
    sim.expect_only_valid = False
    headers = play_token(sim)
    with httpx.Client(base_url=sim.url, headers=headers) as client:
        edit = client.post(EDITS, json={}).json()["id"]
        refused = client.post(f"{EDITS}/{edit}:commit", params={"changesInReviewBehavior": "LATER"})
        unknown_field = client.put(
            f"{EDITS}/{edit}/tracks/production",
            json={"track": "production", "releases": [{"versionCodes": ["1"], "rollout": 0.5}]},
        )
        unknown_path = client.get(f"{EDITS}/{edit}/rollouts")
    assert refused.status_code == 400 and refused.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert (
        unknown_field.status_code == 400
        and "'rollout' was unexpected" in unknown_field.json()["error"]["message"]
    )
    assert unknown_path.status_code == 404
    invalid = sim.requests(invalid=True)
    assert [(e["method"], e["status"]) for e in invalid] == [("POST", 400), ("PUT", 400), ("GET", 404)]
    # The refused commit changed nothing.
    assert sim.state.play.apps["dev.instep.sample"].commits == 0


def test_play_api_needs_an_access_token(sim):
    response = httpx.post(f"{sim.url}{EDITS}", json={})
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


# --- App Store Connect requests checked against appstore-connect-sdk's schemas ---


@pytest.mark.integration
def test_malformed_app_store_requests_get_400_and_are_recorded(full_sim):
    full_sim.expect_only_valid = False
    key = AppStoreKey(**full_sim.credentials()["app_store"])
    headers = {"Authorization": f"Bearer {make_token(key, time.time())}"}
    with httpx.Client(base_url=full_sim.url, headers=headers) as client:
        android = client.post("/v1/reviewSubmissions", json={"data": {
            "type": "reviewSubmissions", "attributes": {"platform": "ANDROID"},
            "relationships": {"app": {"data": {"type": "apps", "id": "6444000001"}}},
        }})  # fmt: skip
        halted = client.patch("/v1/appStoreVersionPhasedReleases/1", json={"data": {
            "type": "appStoreVersionPhasedReleases", "id": "1", "attributes": {"phasedReleaseState": "HALTED"},
        }})  # fmt: skip
        no_app = client.get("/v1/reviewSubmissions", params={"filter[state]": "IN_REVIEW"})
        typo = client.get("/v1/builds", params={"filter[versions]": "1"})
    for response in (android, halted, no_app, typo):
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["status"] == "400"
    assert "'ANDROID' is not valid" in android.json()["errors"][0]["detail"]
    assert "'filter[app]' is a required property" in no_app.json()["errors"][0]["detail"]
    assert (
        "The parameter 'filter[versions]' can not be used with this request"
        in typo.json()["errors"][0]["detail"]
    )
    assert len(full_sim.requests(invalid=True)) == 4


# --- App Store Connect JWTs ---


def test_tokens_carry_the_claims_apple_asks_for():
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    key = AppStoreKey("ABC123DEFG", "issuer-1", pem)
    token = make_token(key, 1_700_000_000, lifetime_s=1200)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "ABC123DEFG", "typ": "JWT"}
    claims = jwt.decode(token, private.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1",
                        options={"verify_exp": False})  # fmt: skip
    assert claims == {
        "iss": "issuer-1",
        "iat": 1_700_000_000,
        "exp": 1_700_001_200,
        "aud": "appstoreconnect-v1",
    }
    with pytest.raises(ValueError, match="at most 1200"):
        make_token(key, 1_700_000_000, lifetime_s=1201)
    assert "BEGIN" not in repr(key)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("case", "expected"),
    [("valid", 200), ("wrong_aud", 401), ("expired", 401), ("over_20_minutes", 401), ("bad_signature", 401),
     ("unknown_kid", 401), ("wrong_issuer", 401), ("no_token", 401)],
)  # fmt: skip
def test_app_store_connect_jwt_rules(full_sim, case, expected):
    credentials = full_sim.credentials()["app_store"]
    now = int(time.time())
    claims = {"iss": credentials["issuer_id"], "iat": now, "exp": now + 600, "aud": "appstoreconnect-v1"}
    headers = {"kid": credentials["key_id"]}
    signing_key = credentials["private_key"]
    match case:
        case "wrong_aud":
            claims["aud"] = "appstoreconnect-v2"
        case "expired":
            claims.update(iat=now - 1500, exp=now - 300)
        case "over_20_minutes":
            claims["exp"] = now + 1260
        case "bad_signature":
            signing_key = ec.generate_private_key(ec.SECP256R1())
        case "unknown_kid":
            headers["kid"] = "NOPE000000"
        case "wrong_issuer":
            claims["iss"] = "another-team"
    token = jwt.encode(claims, signing_key, algorithm="ES256", headers=headers)
    auth = {} if case == "no_token" else {"Authorization": f"Bearer {token}"}
    response = httpx.get(f"{full_sim.url}/v1/apps/6444000001/appStoreVersions", headers=auth)
    assert response.status_code == expected, response.text
    if expected == 401:
        error = response.json()["errors"][0]
        assert (error["status"], error["code"]) == ("401", "NOT_AUTHORIZED")
        assert error["title"] == "Authentication credentials are missing or invalid."


# --- the simulator as its own process ---


def _read_line(proc: subprocess.Popen, deadline_s: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if selector.select(timeout=max(0.0, deadline - time.monotonic())):
            return proc.stdout.readline()
        if proc.poll() is not None:
            break
    raise AssertionError(
        f"the simulator did not start in {deadline_s} s: {proc.stderr.read() if proc.stderr else ''}"
    )


def test_python_m_stores_simulator_serves_play_until_stopped(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "stores.simulator", "--port", "0", "--play-package", "com.example.cli"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        line = _read_line(proc, 30)
        assert line.startswith("stores simulator listening on http://127.0.0.1:")
        url = line.split()[-1]
        credentials = httpx.get(f"{url}/_sim/credentials", timeout=10).json()
        assert credentials["google_play"]["token_uri"] == f"{url}/token"
        bundle = tmp_path / "app.aab"
        bundle.write_bytes(make_test_bundle(5))
        play = GooglePlay(
            service_account_info=credentials["google_play"], package_name="com.example.cli", root_url=url
        )
        play.submit(Candidate(version="1.0.0", build_number="5", artifact=bundle))
        log = httpx.get(f"{url}/_sim/requests", timeout=10).json()["requests"]
        assert [e["operation"] for e in log if e["store"] == "google_play"][
            -1
        ] == "androidpublisher.edits.commit"
        assert all(e["valid"] for e in log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode is not None


def test_request_log_filters_by_operation_and_sequence(sim, aab):
    play = sim.play()
    play.submit(aab(1))
    commits = sim.admin.get("/_sim/requests", params={"operation": "androidpublisher.edits.commit"}).json()[
        "requests"
    ]
    assert len(commits) == 1
    later = sim.admin.get("/_sim/requests", params={"since": commits[0]["seq"]}).json()["requests"]
    assert later == []
    sim.admin.delete("/_sim/requests")
    play.track_releases()
    after_clear = sim.requests(store="google_play")
    assert after_clear and after_clear[0]["seq"] > commits[0]["seq"]
