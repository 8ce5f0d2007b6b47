"""GET /api/audit: the audit trail across releases and web deployments, as release managers,
QA and the web pipeline left it through the API; filters, newest-first keyset pages, bad input."""

from __future__ import annotations

import pytest

from tests.parity.conftest import Web, approved
from tests.releases.conftest import Releases


def audit(releases: Releases, **params: object):  # type: ignore[no-untyped-def]
    return releases.api.client.get("/api/audit", params=params, headers=releases.person("dev", "developer"))


def events(releases: Releases, **params: object) -> list[dict]:  # type: ignore[type-arg]
    r = audit(releases, **params)
    assert r.status_code == 200, r.text
    return r.json()["events"]


@pytest.fixture
def trail(releases: Releases) -> int:
    """4.2.0 cut by bob, approved by quinn (QA) and ana, then the web deployed twice."""
    web = Web(releases)
    _run_id, release_id = approved(releases)
    assert web.record("2026.12.1").status_code == 201
    assert web.record("2026.12.2", api="2026-01").status_code == 201
    return release_id


def test_every_event_newest_first_with_its_project_and_release(releases: Releases, trail: int) -> None:
    got = events(releases)
    assert [e["id"] for e in got] == sorted((e["id"] for e in got), reverse=True)
    assert (got[0]["person"], got[0]["role"], got[0]["action"]) == ("web-ci", "web_deployer", "web_deployed")
    assert got[0]["subject"] == "production web 2026.12.2" and got[0]["release_id"] is None
    cut = next(e for e in got if e["action"] == "cut")
    assert (cut["person"], cut["role"], cut["project"]) == ("bob", "release_manager", "shop")
    assert (cut["release_id"], cut["release_version"]) == (trail, "4.2.0")
    assert {"approved"} <= {e["action"] for e in got}


def test_filters_combine(releases: Releases, trail: int) -> None:
    assert [e["person"] for e in events(releases, person="quinn")] == ["quinn"]
    quinn = events(releases, person="quinn", action="approved", release=trail, project="shop")
    assert len(quinn) == 1 and quinn[0]["details"]["role"] == "qa"
    assert events(releases, person="quinn", action="cut") == []
    web = events(releases, action="web_deployed")
    assert [e["subject"] for e in web] == ["production web 2026.12.2", "production web 2026.12.1"]
    assert {e["release_id"] for e in events(releases, release=trail)} == {trail}


def test_keyset_pages_cover_the_trail_once(releases: Releases, trail: int) -> None:
    everything = [e["id"] for e in events(releases)]
    seen: list[int] = []
    before = None
    while True:
        params = {"limit": 2} | ({"before": before} if before else {})
        page = audit(releases, **params).json()
        seen += [e["id"] for e in page["events"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == everything and len(seen) > 4


def test_unknown_project_or_release_is_404(releases: Releases, trail: int) -> None:
    r = audit(releases, project="nope")
    assert r.status_code == 404 and r.json()["detail"] == "no project named 'nope'"
    r = audit(releases, release=999999)
    assert r.status_code == 404 and r.json()["detail"] == "no release with id 999999"


@pytest.mark.parametrize(
    "params",
    [
        {"release": 2**31},
        {"release": 0},
        {"release": "abc"},
        {"before": 2**63},
        {"limit": 0},
        {"limit": 10_000},
        {"person": "a\x00b"},
        {"action": "x" * 51},
        {"project": ""},
    ],
)
def test_bad_filters_are_422(releases: Releases, params: dict) -> None:  # type: ignore[type-arg]
    r = audit(releases, **params)
    assert r.status_code == 422, r.text


def test_reading_needs_a_token(releases: Releases) -> None:
    r = releases.api.client.get("/api/audit")
    assert r.status_code == 401
    assert audit(releases).status_code == 200  # any role reads, as with a release's own trail
