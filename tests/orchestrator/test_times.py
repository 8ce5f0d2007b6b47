"""Times read back from the database carry their zone (UTC), on SQLite as on PostgreSQL, so the
API never answers a timestamp without one."""

from __future__ import annotations

from datetime import UTC

from tests.orchestrator.conftest import Api


def test_times_in_api_answers_have_a_zone_after_a_round_trip(api: Api) -> None:
    admin = api.as_("admin")
    api.client.post(
        "/api/projects", json={"name": "shop", "repo_url": "https://x/acme/shop.git"}, headers=admin
    )
    run = api.client.post(
        "/api/runs", json={"project": "shop", "ref": "main", "sha": "a" * 40}, headers=admin
    ).json()
    for answer in (
        api.client.get("/api/projects/shop", headers=admin).json(),
        api.client.get(f"/api/runs/{run['id']}", headers=admin).json(),
    ):
        assert answer["created_at"].endswith(("+00:00", "Z")), answer["created_at"]
    from orchestrator.db.models import Project

    with api.ctx.db.session() as s:
        project = s.query(Project).one()
        assert project.created_at.tzinfo is not None and project.created_at.utcoffset() == UTC.utcoffset(None)
