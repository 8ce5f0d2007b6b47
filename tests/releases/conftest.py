"""A project with a release pipeline, and runs whose jobs stand where a test needs them: the REST
API in-process on a real database (SQLite, and PostgreSQL when configured), a real git repository
holding instep.yml, and real files in the artifact store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from orchestrator.db.models import Job, utcnow
from orchestrator.projects import create_project, get_project
from orchestrator.runs import create_run
from orchestrator.sealing import Sealer
from orchestrator.tokens import create_token
from tests.conftest import Repo
from tests.orchestrator.conftest import Api
from tests.releases.builds import add_build_file

PIPELINE = """version: 1
platforms: {android: {}, ios: {}}
stages:
  unit: {lane: test}
  build: {needs: [unit], lane: build}
  gate: {needs: [build], per_platform: true}
  submit: {needs: [gate], lane: release}
release:
  approvals: {qa: 1, release_manager: 1}
  four_eyes: true
"""


@dataclass
class Releases:
    api: Api
    repo: Repo
    sha: str
    people: dict[str, str] = field(default_factory=dict)

    def person(self, name: str, role: str) -> dict[str, str]:
        """Headers for `name` acting with `role` (an API token created with that name)."""
        key = f"{name}/{role}"
        if key not in self.people:
            with self.api.ctx.db.session() as s:
                self.people[key] = create_token(s, role, name)[1]
                s.commit()
        return {"Authorization": f"Bearer {self.people[key]}"}

    def commit(self, pipeline: str, branch: str = "main") -> str:
        self.sha = self.repo.commit({"instep.yml": pipeline}, "pipeline", branch=branch)
        return self.sha

    def run_at_gate(
        self,
        platforms: tuple[str, ...] = ("android", "ios"),
        *,
        gate: str = "waiting",
        build: str = "succeeded",
        artifacts: bool = True,
        ref: str = "refs/heads/main",
        pushed_by: str | None = "carl",
        built_at: datetime | None = None,
        per_platform_gate: bool = True,
    ) -> int:
        """A run whose unit and build jobs are done and whose gate job is `gate`."""
        ctx = self.api.ctx
        built_at = built_at or utcnow() - timedelta(hours=1)
        with ctx.db.session() as s:
            project = get_project(s, "shop")
            run = create_run(s, project, trigger="push", ref=ref, sha=self.sha, created_by=pushed_by)
            run.status = "waiting" if gate == "waiting" else "running"
            for p in platforms:
                self._job(s, run.id, f"unit:{p}", "unit", p, "succeeded", [], built_at)
                job = self._job(s, run.id, f"build:{p}", "build", p, build, [f"unit:{p}"], built_at)
                job.spec = {"lane": "build", "build_number": 41 if p == "android" else 7}
                if artifacts and build == "succeeded":
                    add_build_file(s, ctx.store, job, f"app-{p}.tar.gz", f"{p} bundle".encode())
                    for extra in (".instep-artifacts", "fastlane-report/report.xml"):
                        # What a lane leaves beside its outputs: not part of the candidate.
                        add_build_file(s, ctx.store, job, extra, b"x")
            if per_platform_gate:
                for p in platforms:
                    self._job(s, run.id, f"gate:{p}", "gate", p, gate, [f"build:{p}"], None)
            else:
                self._job(s, run.id, "gate", "gate", None, gate, [f"build:{p}" for p in platforms], None)
            for p in platforms:
                needs = [f"gate:{p}"] if per_platform_gate else ["gate"]
                self._job(s, run.id, f"submit:{p}", "submit", p, "pending", needs, None, queue=p)
            s.commit()
            return run.id

    @staticmethod
    def _job(s, run_id, key, kind, platform, status, needs, finished, queue="default"):  # type: ignore[no-untyped-def]
        job = Job(
            run_id=run_id,
            key=key,
            stage=key.split(":")[0],
            kind=kind,
            platform=platform,
            needs=needs,
            queue=queue,
            status=status,
            timeout_s=600,
            spec={},
            finished_at=finished if status in ("succeeded", "failed") else None,
        )
        s.add(job)
        s.flush()
        return job

    def job(self, run_id: int, key: str) -> Job:
        with self.api.ctx.db.session() as s:
            from sqlalchemy import select

            return s.scalar(select(Job).where(Job.run_id == run_id, Job.key == key))  # type: ignore[return-value]

    def cut(self, run_id: int, version: str = "4.2.0", who: tuple[str, str] = ("bob", "release_manager")):  # type: ignore[no-untyped-def]
        return self.api.client.post(
            "/api/releases",
            json={"project": "shop", "run_id": run_id, "version": version},
            headers=self.person(*who),
        )

    def decide(self, release_id: int, who: tuple[str, str], decision: str = "approve", **body):  # type: ignore[no-untyped-def]
        return self.api.client.post(
            f"/api/releases/{release_id}/{decision}", json=body, headers=self.person(*who)
        )

    def show(self, release_id: int) -> dict:
        r = self.api.client.get(f"/api/releases/{release_id}", headers=self.person("viewer", "developer"))
        assert r.status_code == 200, r.text
        return r.json()

    def submits_sent(self) -> list[int]:
        return [d.job_id for kind, d in self.api.dispatcher.sent if kind == "job"]


@pytest.fixture
def releases(settings, database, repo) -> Releases:  # type: ignore[no-untyped-def]
    api = Api(settings, database)
    sha = repo.commit({"instep.yml": PIPELINE}, "release pipeline")
    with database.session() as s:
        create_project(s, sealer=Sealer("test-secret-key-0123456789"), name="shop", repo_url=repo.url)
        s.commit()
    return Releases(api, repo, sha)


def checks(platform: dict) -> dict[str, str]:
    return {line["check"]: line["state"] for line in platform["checklist"]}


def reasons(platform: dict) -> dict[str, str]:
    return {line["check"]: line["reason"] for line in platform["checklist"]}
