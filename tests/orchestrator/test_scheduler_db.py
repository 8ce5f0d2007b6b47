"""The scheduler against a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from orchestrator.db.models import Event, Job, Run, utcnow
from orchestrator.projects import create_project
from orchestrator.runs import DuplicateDelivery, create_run, request_cancel, rerun_failed
from orchestrator.scheduler import advance, finish_attempt, heartbeat, reconcile, start_attempt
from orchestrator.sealing import Sealer


def _run_with_jobs(session, jobs: list[tuple[str, list[str], int]]):  # type: ignore[no-untyped-def]
    project = create_project(
        session,
        sealer=Sealer("test-secret-key-0123456789"),
        name="shop",
        repo_url="file:///srv/git/acme/shop.git",
        match_name="acme/shop",
    )
    run = create_run(session, project, trigger="manual", ref="refs/heads/main", sha="a" * 40)
    for key, needs, retries in jobs:
        session.add(
            Job(
                run_id=run.id,
                key=key,
                stage=key,
                kind="run",
                queue="default",
                timeout_s=60,
                retries=retries,
                needs=needs,
                spec={"run": "true"},
            )
        )
    session.flush()
    return run


def _job(session, run_id: int, key: str) -> Job:  # type: ignore[no-untyped-def]
    return session.scalar(select(Job).where(Job.run_id == run_id, Job.key == key))


def test_jobs_run_in_dependency_order_and_a_failure_fails_the_run(database) -> None:
    with database.session() as s:
        run = _run_with_jobs(s, [("unit", [], 0), ("build", ["unit"], 0), ("submit", ["build"], 0)])
        first = advance(s, run.id)
        s.commit()
        assert [(d.job_id, d.attempt) for d in first] == [(_job(s, run.id, "unit").id, 1)]
        assert s.get(Run, run.id).status == "running"

        unit = _job(s, run.id, "unit")
        assert start_attempt(s, unit.id, 1, "w1") is not None
        assert start_attempt(s, unit.id, 1, "w2") is None, "a redelivered task must not run the job twice"
        nxt = finish_attempt(s, unit.id, 1, "succeeded", None, 0)
        assert [d.job_id for d in nxt] == [_job(s, run.id, "build").id]
        build = _job(s, run.id, "build")
        start_attempt(s, build.id, 1, "w1")
        assert finish_attempt(s, build.id, 1, "failed", "step exited with code 2", 2) == []
        s.commit()

        run = s.get(Run, run.id)
        assert run.status == "failed" and run.reason == "failed: build"
        submit = _job(s, run.id, "submit")
        assert submit.status == "skipped" and submit.reason == "needs build, which failed"
        events = s.scalars(select(Event).where(Event.run_id == run.id).order_by(Event.id)).all()
        moves = [(e.subject, e.to_status) for e in events]
        assert moves[0] == ("run", "queued") and moves[-1] == ("run", "failed")
        assert ("unit", "running") in moves and ("submit", "skipped") in moves
        assert all(e.at is not None for e in events)
        assert [e.at for e in events] == sorted(e.at for e in events)


def test_a_lost_worker_is_retried_then_failed_with_worker_lost(database) -> None:
    with database.session() as s:
        run = _run_with_jobs(s, [("build", [], 1)])
        advance(s, run.id)
        job = _job(s, run.id, "build")
        start_attempt(s, job.id, 1, "worker-a")
        s.commit()
        later = utcnow() + timedelta(minutes=5)
        again = reconcile(s, timedelta(seconds=30), max_attempts=3, now=later)
        s.commit()
        assert [(d.job_id, d.attempt) for d in again] == [(job.id, 2)]
        assert _job(s, run.id, "build").status == "queued"
        # The first worker comes back from the dead: its late result is ignored.
        assert finish_attempt(s, job.id, 1, "succeeded", None, 0) == []
        start_attempt(s, job.id, 2, "worker-b", now=later)
        s.commit()
        assert reconcile(s, timedelta(seconds=30), max_attempts=3, now=later + timedelta(minutes=5)) == []
        s.commit()
        job = _job(s, run.id, "build")
        assert job.status == "failed" and job.reason.startswith("worker lost (worker-b)")
        assert s.get(Run, run.id).status == "failed"
        assert s.scalar(select(func.count()).select_from(Job).where(Job.status == "running")) == 0


def test_cancel_stops_pending_jobs_at_once_and_running_ones_through_their_heartbeat(database) -> None:
    with database.session() as s:
        run = _run_with_jobs(s, [("a", [], 0), ("b", ["a"], 0)])
        advance(s, run.id)
        a = _job(s, run.id, "a")
        start_attempt(s, a.id, 1, "w")
        assert heartbeat(s, a.id, 1) is False
        request_cancel(s, s.get(Run, run.id))
        advance(s, run.id)
        s.commit()
        assert _job(s, run.id, "b").status == "canceled"
        assert s.get(Run, run.id).status == "running", "the run waits for its running job to stop"
        assert heartbeat(s, a.id, 1) is True
        finish_attempt(s, a.id, 1, "canceled", "canceled while running")
        s.commit()
        run = s.get(Run, run.id)
        assert run.status == "canceled" and run.reason == "canceled on request"


def test_rerun_keeps_succeeded_jobs_and_runs_the_rest(database) -> None:
    with database.session() as s:
        run = _run_with_jobs(s, [("unit", [], 0), ("build", ["unit"], 0)])
        advance(s, run.id)
        unit = _job(s, run.id, "unit")
        start_attempt(s, unit.id, 1, "w")
        finish_attempt(s, unit.id, 1, "succeeded", None)
        build = _job(s, run.id, "build")
        start_attempt(s, build.id, 1, "w")
        finish_attempt(s, build.id, 1, "failed", "boom")
        s.commit()
        new = rerun_failed(s, s.get(Run, run.id))
        dispatches = advance(s, new.id)
        s.commit()
        assert _job(s, new.id, "unit").status == "succeeded"
        assert [d.job_id for d in dispatches] == [_job(s, new.id, "build").id]
        assert new.number == 2 and new.sha == "a" * 40


def test_the_same_delivery_posted_concurrently_starts_exactly_one_run(database) -> None:
    with database.session() as s:
        project = create_project(
            s,
            sealer=Sealer("test-secret-key-0123456789"),
            name="shop",
            repo_url="file:///srv/git/acme/shop.git",
            match_name="acme/shop",
        )
        s.commit()
        project_id = project.id
    outcomes: list[str] = []
    barrier = threading.Barrier(20)

    def deliver() -> None:
        with database.session() as s:
            from orchestrator.db.models import Project

            p = s.get(Project, project_id)
            s.commit()  # a request never holds a transaction while it waits for the others
            barrier.wait()
            try:
                create_run(
                    s, p, trigger="push", ref="refs/heads/main", sha="b" * 40, delivery=("github", "d-1")
                )
                s.commit()
                outcomes.append("created")
            except DuplicateDelivery:
                s.rollback()
                outcomes.append("duplicate")

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["created"] + ["duplicate"] * 19
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Run)) == 1
