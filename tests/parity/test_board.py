"""The parity board through the API: per environment, the web next to the latest iOS and
Android releases with their state, the parity verdict and the drift."""

from __future__ import annotations

from tests.parity.conftest import Web, approved
from tests.releases.conftest import Releases


def board(releases: Releases) -> dict:  # type: ignore[type-arg]
    r = releases.api.client.get("/api/projects/shop/parity", headers=releases.person("dev", "developer"))
    assert r.status_code == 200, r.text
    return r.json()


def test_the_board_shows_web_and_mobile_side_by_side_with_the_drift(releases: Releases, web: Web) -> None:
    assert board(releases)["environments"] == []
    _run_id, release_id = approved(releases)
    assert [e["environment"] for e in board(releases)["environments"]] == ["production"]

    web.record("2026.12.1")
    web.record("2026.12.2", api="2026-01")
    web.record("2026.12.0", env="staging")
    data = board(releases)
    production, staging = data["environments"]
    assert (production["environment"], staging["environment"]) == ("production", "staging")
    assert production["web"]["version"] == "2026.12.2" and production["web"]["api_version"] == "2026-01"
    by_platform = {p["platform"]: p for p in production["platforms"]}
    assert set(by_platform) == {"ios", "android"}
    ios = by_platform["ios"]
    assert ios["release"]["id"] == release_id and ios["release"]["version"] == "4.2.0"
    assert ios["release"]["state"] == "ready_to_submit"
    assert ios["parity"]["state"] == "passed"
    assert ios["parity"]["reason"] == "production web 2026.12.2 (api 2026-01) provides api >= 2025-11"
    assert ios["drift"]["web_versions_since_cut"] == ["2026.12.1", "2026.12.2"]
    assert ios["drift"]["versions_behind"] == 2 and ios["drift"]["behind_for"] == "less than a minute"
    # Staging is not the release's parity environment: no verdict there, the drift still shows.
    assert {p["parity"] is None for p in staging["platforms"]} == {True}


def test_the_board_of_an_unknown_project_is_404(releases: Releases) -> None:
    r = releases.api.client.get("/api/projects/nope/parity", headers=releases.person("dev", "developer"))
    assert r.status_code == 404 and "no project named 'nope'" in r.json()["detail"]
