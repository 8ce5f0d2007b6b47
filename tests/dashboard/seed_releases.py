"""Releases for the dashboard's release pages, made through the orchestrator's own flows on a real
git repository: 1.3.0 waiting at its gate for a release manager (QA rejected it once with a
hostile comment, then approved; its cutter's name is hostile; its pipeline asks for 48 h of soak,
so an approval never starts a submission during a test), and, with a store simulator, 1.2.0
submitted to Google Play, approved by the simulator's review and rolling out at the plan's
first stage (1 %)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from orchestrator.actors import Actor
from orchestrator.context import Context
from orchestrator.db.models import Job, utcnow
from orchestrator.projects import create_project, get_project
from orchestrator.releases import flows
from orchestrator.releases.models import ReleasePlatform
from orchestrator.releases.submission import begin
from orchestrator.runs import create_run
from orchestrator.scheduler import finish_attempt, start_attempt
from orchestrator.submissions.service import submit_to_store
from orchestrator.submissions.tick import tick
from stores import Candidate, GooglePlay
from stores.simulator import make_test_bundle
from stores.simulator.server import DEFAULT_PACKAGE
from tests.conftest import Repo
from tests.dashboard.seed import XSS
from tests.releases.builds import add_build_file

PROJECT = "wallet"
ROLLING = "1.2.0"
GATED = "1.3.0"
CUTTER = Actor("bob", "release_manager", "token")
PUSHER = "carl"


def pipeline(sim_url: str, soak: str = "0") -> str:
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
  soak: {soak}
  store:
    google_play: {{package_name: {DEFAULT_PACKAGE}}}
    base_url: {sim_url}
  rollout: {{stages: [1, 5, 20, 50, 100], every: 24h}}
"""


@dataclass
class SeededReleases:
    project: str = PROJECT
    releases: dict[str, int] = field(default_factory=dict)


def _job(session: Any, run_id: int, key: str, platform: str, status: str, needs: list[str]) -> Job:
    job = Job(
        run_id=run_id,
        key=key,
        stage=key.split(":")[0],
        kind=key.split(":")[0],
        platform=platform,
        needs=needs,
        queue=platform if key.startswith("submit") else "default",
        status=status,
        timeout_s=600,
        spec={},
        finished_at=utcnow() - timedelta(hours=1) if status == "succeeded" else None,
    )
    session.add(job)
    session.flush()
    return job


def run_at_gate(ctx: Context, sha: str, platforms: tuple[str, ...], build_number: int) -> int:
    """A run whose unit and build jobs passed an hour ago (an AAB for Android) and whose gates wait."""
    with ctx.db.session() as s:
        project = get_project(s, PROJECT)
        run = create_run(s, project, trigger="push", ref="refs/heads/main", sha=sha, created_by=PUSHER)
        run.status = "waiting"
        for p in platforms:
            _job(s, run.id, f"unit:{p}", p, "succeeded", [])
            build = _job(s, run.id, f"build:{p}", p, "succeeded", [f"unit:{p}"])
            build.spec = {"lane": "build", "build_number": build_number}
            name, data = (
                ("app.aab", make_test_bundle(build_number, "1.0.0"))
                if p == "android"
                else ("app-ios.txt", f"ios build {build_number}".encode())
            )
            add_build_file(s, ctx.store, build, name, data)
            _job(s, run.id, f"gate:{p}", p, "waiting", [f"build:{p}"])
            _job(s, run.id, f"submit:{p}", p, "pending", [f"gate:{p}"])
        s.commit()
        return run.id


def cut(ctx: Context, run_id: int, version: str, who: Actor = CUTTER) -> int:
    with ctx.db.session() as s:
        release, _ = flows.cut(ctx, s, run_id=run_id, version=version, who=who, project=PROJECT)
        s.commit()
        return release.id


def decide(ctx: Context, release_id: int, who: Actor, decision: str = "approve", comment: str = "") -> None:
    with ctx.db.session() as s:
        flows.decide(ctx, s, release_id, who, decision, comment=comment)
        s.commit()


def seed_releases(ctx: Context, root: Path, sim: Any | None = None) -> SeededReleases:
    """The `wallet` project on a real repository; with `sim` (tests.stores.conftest.Sim), 1.2.0
    rolling out on Google Play at 1 %; always 1.3.0 waiting for approvals."""
    out = SeededReleases()
    repo = Repo(root / "wallet-repo")
    sim_url = sim.url if sim is not None else "http://127.0.0.1:9"
    sha = repo.commit({"instep.yml": pipeline(sim_url)}, "release pipeline")
    secrets = {}
    if sim is not None:
        secrets["PLAY_SERVICE_ACCOUNT_JSON"] = json.dumps(sim.credentials()["google_play"])
    with ctx.db.session() as s:
        create_project(s, sealer=ctx.sealer, name=PROJECT, repo_url=repo.url, secrets=secrets)
        s.commit()
    if sim is not None:
        out.releases["rolling"] = _rolling_out(ctx, sim, sha, root)
    sha = repo.commit({"instep.yml": pipeline(sim_url, soak="48h")}, "soak before shipping")
    run_id = run_at_gate(ctx, sha, ("android", "ios"), 60)
    release_id = cut(ctx, run_id, GATED, Actor(f"bob {XSS}", "release_manager", "token"))
    # QA rejected once with a hostile comment, then approved: the release manager's turn.
    decide(ctx, release_id, Actor("quinn", "qa", "token"), "reject", f"crash on login {XSS}")
    decide(ctx, release_id, Actor("quinn", "qa", "token"), "approve", "fixed in the build")
    out.releases["gated"] = release_id
    return out


def _rolling_out(ctx: Context, sim: Any, sha: str, root: Path) -> int:
    # A Play track's first release must be complete; later ones can be staged.
    first = root / "first.aab"
    first.write_bytes(make_test_bundle(10, "0.9.0"))
    play = GooglePlay(
        service_account_info=sim.credentials()["google_play"], package_name=DEFAULT_PACKAGE, root_url=sim.url
    )
    play.submit(Candidate("0.9.0", "10", first))
    sim.post("play/review", {"package": DEFAULT_PACKAGE, "decision": "approve"})

    run_id = run_at_gate(ctx, sha, ("android",), 41)
    release_id = cut(ctx, run_id, ROLLING)
    decide(ctx, release_id, Actor("quinn", "qa", "token"))
    decide(ctx, release_id, Actor("rita", "release_manager", "token"), comment="ship it")
    # What the worker does with the submit job: claim the platform, call the store, finish.
    with ctx.db.session() as s:
        job = s.scalar(select(Job).where(Job.run_id == run_id, Job.key == "submit:android"))
        assert job is not None and job.status == "queued", job and job.status
        start_attempt(s, job.id, 1, "seed-worker")
        s.commit()
        job_id = job.id
    submission = begin(ctx, run_id, "android")
    result = submit_to_store(ctx, submission.platform_id, root / "submit", lambda _line: None)
    assert result.status == "succeeded", result
    with ctx.db.session() as s:
        finish_attempt(s, job_id, 1, "succeeded", None, exit_code=0)
        s.commit()
    tick(ctx, force=True)  # in review
    sim.post("play/review", {"package": DEFAULT_PACKAGE, "decision": "approve"})
    tick(ctx, force=True)  # published at the plan's first stage
    with ctx.db.read_session() as s:
        row = s.scalar(select(ReleasePlatform).where(ReleasePlatform.release_id == release_id))
        assert row is not None and row.state == "rolling_out", row and (row.state, row.reason)
    return release_id
