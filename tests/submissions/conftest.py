"""A release at its gate whose pipeline submits through the store adapters to the store simulator
(in-process, every request validated against the official descriptions), with the simulator's
credentials as the project's sealed store secrets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from orchestrator.db.models import Job
from orchestrator.projects import get_project, update_secrets
from orchestrator.releases.models import ReleasePlatform
from stores.simulator import make_test_bundle
from stores.simulator.server import DEFAULT_APP_ID, DEFAULT_PACKAGE
from tests.releases.builds import add_build_file
from tests.releases.conftest import Releases, releases  # noqa: F401  (fixture)
from tests.stores.conftest import Sim, full_sim  # noqa: F401  (fixture)

ANDROID_BUILD = 41
IOS_BUILD = 7


def pipeline(
    base_url: str, *, rollout: str = "{stages: [1, 5, 20, 50, 100], every: 24h}", extra: str = ""
) -> str:
    return f"""version: 1
platforms: {{android: {{}}, ios: {{}}}}
stages:
  unit: {{lane: test}}
  build: {{needs: [unit], lane: build}}
  gate: {{needs: [build], per_platform: true}}
  submit: {{needs: [gate]}}
release:
  approvals: {{qa: 1, release_manager: 1}}
  four_eyes: true
  store:
    google_play: {{package_name: {DEFAULT_PACKAGE}}}
    app_store: {{app_id: "{DEFAULT_APP_ID}"}}
    base_url: {base_url}
  rollout: {rollout}
{extra}"""


def store_secrets(simulator: Sim) -> dict[str, str]:
    creds = simulator.credentials()
    asc = creds["app_store"]
    return {
        "PLAY_SERVICE_ACCOUNT_JSON": json.dumps(creds["google_play"]),
        "ASC_KEY_ID": asc["key_id"],
        "ASC_ISSUER_ID": asc["issuer_id"],
        "ASC_PRIVATE_KEY": asc["private_key"],
    }


@dataclass
class Shipping:
    releases: Releases
    sim: Sim

    @property
    def ctx(self):  # type: ignore[no-untyped-def]
        return self.releases.api.ctx

    def first_play_release(self) -> None:
        """A Play track's first release must be complete; later ones can be staged."""
        play = self.sim.play()
        path = self.releases.api.ctx.settings.home / "first.aab"
        path.write_bytes(make_test_bundle(10, "0.9.0"))
        from stores import Candidate

        play.submit(Candidate("0.9.0", "10", path))
        self.sim.post("play/review", {"package": DEFAULT_PACKAGE, "decision": "approve"})

    def approved_release(
        self,
        *,
        ref: str = "refs/heads/main",
        version: str = "4.2.0",
        rollout: str | None = None,
        extra: str = "",
        branch: str = "main",
    ) -> int:
        """A release cut, signed off and approved: its platforms are ready to submit."""
        kwargs: dict[str, Any] = {"rollout": rollout} if rollout else {}
        self.releases.commit(pipeline(self.sim.url, extra=extra, **kwargs), branch=branch)
        run_id = self.releases.run_at_gate(ref=ref)
        self._add_bundle(run_id)
        r = self.releases.cut(run_id, version)
        assert r.status_code == 201, r.text
        release_id = r.json()["id"]
        assert self.releases.decide(release_id, ("quinn", "qa")).status_code == 200
        r = self.releases.decide(release_id, ("rita", "release_manager"))
        assert r.status_code == 200, r.text
        assert {p["state"] for p in r.json()["platforms"]} == {"ready_to_submit"}, r.json()
        self.sim.post("app-store/builds", {"version": version, "build_number": IOS_BUILD})
        return release_id

    def _add_bundle(self, run_id: int) -> None:
        ctx = self.releases.api.ctx
        with ctx.db.session() as s:
            job = s.scalar(select(Job).where(Job.run_id == run_id, Job.key == "build:android"))
            assert job is not None
            job.spec = {"lane": "build", "build_number": ANDROID_BUILD}
            add_build_file(s, ctx.store, job, "app.aab", make_test_bundle(ANDROID_BUILD, "4.2.0"))
            s.commit()

    def platform_id(self, release_id: int, platform: str) -> int:
        with self.ctx.db.session() as s:
            row = s.scalar(
                select(ReleasePlatform).where(
                    ReleasePlatform.release_id == release_id, ReleasePlatform.platform == platform
                )
            )
            assert row is not None
            return row.id

    def submit(self, release_id: int, platform: str, tmp: Path, *, claim: bool = True) -> Any:
        """What the submit job does: claim the platform (`ready_to_submit -> submitting`), then
        the store call; `claim=False` repeats only the store call."""
        from orchestrator.releases.submission import begin
        from orchestrator.submissions.service import submit_to_store

        run_id = self.releases.show(release_id)["run_id"]
        if claim:
            begin(self.ctx, run_id, platform)
        lines: list[str] = []
        result = submit_to_store(
            self.ctx, self.platform_id(release_id, platform), tmp / platform, lines.append
        )
        return result, lines

    def operations(self, name: str) -> int:
        return len([e for e in self.sim.requests() if e["operation"] == name])


@pytest.fixture
def shipping(releases: Releases, full_sim: Sim) -> Shipping:  # noqa: F811
    with releases.api.ctx.db.session() as s:
        project = get_project(s, "shop")
        update_secrets(s, project, store_secrets(full_sim), [], sealer=releases.api.ctx.sealer)
        s.commit()
    return Shipping(releases, full_sim)
