"""A release pipeline whose `release.parity` asks the production web for api >= 2025-11, on the
releases fixture (REST API in-process, real database and git repository)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.releases.conftest import PIPELINE, Releases
from tests.releases.conftest import releases as releases  # noqa: F401 - the fixture, re-exported

PARITY_PIPELINE = (
    PIPELINE
    + """  parity:
    environment: production
    requires_api: ">=2025-11"
"""
)


class Web:
    """The web team's pipeline: records deployments with a `web_deployer` token."""

    def __init__(self, releases: Releases) -> None:
        self.releases = releases

    def record(self, version: str, api: str | None = "2025-11", env: str = "production", **more: Any):  # type: ignore[no-untyped-def]
        body = {"project": "shop", "environment": env, "version": version, "api_version": api, **more}
        return self.releases.api.client.post(
            "/api/web-deployments", json=body, headers=self.releases.person("web-ci", "web_deployer")
        )

    def rollback(self, env: str = "production", **more: Any):  # type: ignore[no-untyped-def]
        body = {"project": "shop", "environment": env, **more}
        return self.releases.api.client.post(
            "/api/web-deployments/rollback", json=body, headers=self.releases.person("web-ci", "web_deployer")
        )


@pytest.fixture
def web(releases: Releases) -> Web:  # noqa: F811
    return Web(releases)


def approved(releases: Releases, pipeline: str = PARITY_PIPELINE) -> tuple[int, int]:  # noqa: F811
    """A release 4.2.0 cut by bob, signed off by quinn (QA) and approved by ana."""
    releases.commit(pipeline)
    run_id = releases.run_at_gate()
    r = releases.cut(run_id)
    assert r.status_code == 201, r.text
    release_id = r.json()["id"]
    for who in (("quinn", "qa"), ("ana", "release_manager")):
        assert releases.decide(release_id, who).status_code == 200
    return run_id, release_id
