"""Real data for the web parity and audit pages, made through the orchestrator's own services:
a project "atlas" whose release policy asks the production web for api >= 2025-11, web
deployments recorded by people with hostile names, two releases cut from runs waiting at their
gate (the older one superseded), the gates settled (so each platform's parity decision is kept),
approvals with hostile comments, and a project "quiet" with nothing recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from orchestrator.artifacts import ArtifactStore
from orchestrator.db.models import Job, Run, utcnow
from orchestrator.db.session import Database
from orchestrator.parity import service as parity
from orchestrator.projects import create_project
from orchestrator.releases import service as releases
from orchestrator.releases import settlement
from orchestrator.runs import create_run
from orchestrator.sealing import Sealer
from orchestrator.spec.release import ReleaseSpec
from tests.releases.builds import add_build_file

HOSTILE = "<img src=x onerror=alert(1)>"
POLICY = {"parity": {"environment": "production", "requires_api": ">=2025-11"}}


@dataclass(frozen=True)
class Who:
    name: str
    role: str
    via: str = "session"


@dataclass
class ParitySeeded:
    project: str = "atlas"
    empty_project: str = "quiet"
    releases: dict[str, int] = field(default_factory=dict)
    web_deployer: str = f"web-ci {HOSTILE}"
    other_environment: str = "staging"


def _job(session, run: Run, key: str, kind: str, platform: str, status: str, needs: list[str]) -> Job:  # type: ignore[no-untyped-def]
    job = Job(
        run_id=run.id,
        key=key,
        stage=key.split(":")[0],
        kind=kind,
        platform=platform,
        needs=needs,
        queue="default",
        status=status,
        timeout_s=600,
        spec={"build_number": 7} if kind == "build" else {},
        finished_at=utcnow() - timedelta(hours=2) if status == "succeeded" else None,
    )
    session.add(job)
    session.flush()
    return job


def _run_at_gate(session, store: ArtifactStore, project, sha: str) -> Run:  # type: ignore[no-untyped-def]
    """A run whose builds are done (with their files in the store) and whose gates wait."""
    run = create_run(session, project, trigger="push", ref="refs/heads/main", sha=sha, created_by="dev")
    run.status = "waiting"
    for p in ("android", "ios"):
        _job(session, run, f"unit:{p}", "unit", p, "succeeded", [])
        build = _job(session, run, f"build:{p}", "build", p, "succeeded", [f"unit:{p}"])
        add_build_file(session, store, build, f"app-{p}.tar.gz", f"{p} bundle {sha}".encode())
        _job(session, run, f"gate:{p}", "gate", p, "waiting", [f"build:{p}"])
        _job(session, run, f"submit:{p}", "submit", p, "pending", [f"gate:{p}"])
    session.flush()
    return run


def seed_parity(db: Database, store: ArtifactStore, secret_key: str) -> ParitySeeded:
    seeded = ParitySeeded()
    policy = ReleaseSpec.model_validate(POLICY)
    web = Who(seeded.web_deployer, "web_deployer", "token")
    rm = Who("ana", "release_manager")
    now = utcnow()
    with db.session() as s:
        sealer = Sealer(secret_key)
        project = create_project(
            s, sealer=sealer, name=seeded.project, repo_url="https://git.example/mobile/atlas.git"
        )
        create_project(
            s, sealer=sealer, name=seeded.empty_project, repo_url="https://git.example/mobile/quiet.git"
        )
        deploy = parity.DeploymentIn
        parity.record_deployment(
            s, project, deploy("production", "2026.11.3", api_version="2025-10"), web, now - timedelta(days=3)
        )
        for version, cut_ago in (("4.1.0", timedelta(days=2)), ("4.2.0", timedelta(days=1))):
            run = _run_at_gate(s, store, project, version.replace(".", "") * 8)
            release = releases.cut_release(
                s,
                run_id=run.id,
                version=version,
                who=rm,
                policy=policy,
                exists=store.exists,
                now=now - cut_ago,
            )
            seeded.releases[version] = release.id
            settlement.settle_run(s, run.id, store.exists, now - cut_ago)
        parity.record_deployment(
            s,
            project,
            deploy("production", "2026.12.1", api_version="2025-11"),
            web,
            now - timedelta(hours=5),
        )
        parity.record_deployment(s, project, deploy(seeded.other_environment, "2026.12.0"), web, now)
        newest = seeded.releases["4.2.0"]
        approvers = (
            (Who(f"quinn {HOSTILE}", "qa"), f"screens fine {HOSTILE}"),
            (Who("rita", "release_manager"), "ok"),
        )
        for who, comment in approvers:
            releases.decide(s, newest, who, "approve", comment=comment, now=now - timedelta(hours=1))
        settlement.settle_run(s, releases.get_release(s, newest).run_id, store.exists, now)
        s.commit()
    return seeded
