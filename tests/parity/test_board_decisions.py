"""The parity board's recent releases through the API: each platform's parity decision as its
gate last recorded it, with the web deployment it was checked against."""

from __future__ import annotations

from tests.parity.conftest import Web, approved
from tests.releases.conftest import Releases


def test_each_release_carries_the_parity_decision_and_the_web_it_was_checked_against(
    releases: Releases,
) -> None:
    web = Web(releases)
    assert web.record("2026.11.0", api="2025-10").status_code == 201
    _run_id, release_id = approved(releases)
    headers = releases.person("dev", "developer")
    before = releases.api.client.get("/api/projects/shop/parity", headers=headers).json()["releases"]
    assert [r["id"] for r in before] == [release_id]
    ios = {p["platform"]: p for p in before[0]["platforms"]}["ios"]
    assert ios["parity"]["state"] == "pending"
    assert ios["parity"]["web"]["version"] == "2026.11.0" and ios["parity"]["web"]["api_version"] == "2025-10"

    assert web.record("2026.12.1", api="2025-11").status_code == 201
    after = releases.api.client.get("/api/projects/shop/parity", headers=headers).json()["releases"]
    ios = {p["platform"]: p for p in after[0]["platforms"]}["ios"]
    assert ios["state"] == "ready_to_submit"
    assert ios["parity"]["state"] == "passed"
    assert ios["parity"]["reason"] == "production web 2026.12.1 (api 2025-11) provides api >= 2025-11"
    assert ios["parity"]["web"]["version"] == "2026.12.1"
