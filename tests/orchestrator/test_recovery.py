"""Recovery of lost work: the database is the record. A queued run or job whose message was lost
(broker restarted empty, a crash between commit and send) is sent again by the sweeper, never
run twice at once, and a webhook redelivery for a run that never started re-sends its plan."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from orchestrator.db.models import Job, JobAttempt, Run, utcnow
from orchestrator.projects import create_project
from orchestrator.runs import Dispatch, create_run, request_cancel
from orchestrator.scheduler import advance, start_attempt, sweep_lost_messages
from orchestrator.sealing import Sealer
from tests.orchestrator.conftest import Api
from tests.orchestrator.test_api import _github_push, _register_shop

BOUND = timedelta(seconds=60)


def _queued_run(session, keys: tuple[str, ...] = ("build",)) -> Run:  # type: ignore[no-untyped-def]
    project = create_project(
        session,
        sealer=Sealer("test-secret-key-0123456789"),
        name="shop",
        repo_url="file:///srv/git/acme/shop.git",
        match_name="acme/shop",
    )
    run = create_run(session, project, trigger="manual", ref="refs/heads/main", sha="a" * 40)
    for key in keys:
        session.add(
            Job(
                run_id=run.id,
                key=key,
                stage=key,
                kind="run",
                queue="android",
                timeout_s=60,
                spec={"run": "true"},
            )
        )
    session.flush()
    return run


def test_a_queued_job_whose_message_was_lost_is_sent_again_once_per_bound(database) -> None:
    with database.session() as s:
        run = _queued_run(s)
        sent = advance(s, run.id)  # queued now; imagine this message never reached the broker
        s.commit()
        job_id = sent[0].job_id
        queued_at = s.get(Job, job_id).dispatched_at

        assert sweep_lost_messages(s, BOUND, now=queued_at + BOUND / 2).jobs == [], "still within the bound"
        later = queued_at + BOUND + timedelta(seconds=1)
        again = sweep_lost_messages(s, BOUND, now=later)
        s.commit()
        assert again.jobs == [Dispatch(job_id, "android", 1)], "the same attempt, to the job's own queue"
        assert sweep_lost_messages(s, BOUND, now=later + BOUND / 2).jobs == [], "not re-sent on every tick"
        assert [d.job_id for d in sweep_lost_messages(s, BOUND, now=later + BOUND * 2).jobs] == [job_id]


def test_a_job_waiting_in_a_long_queue_is_re_sent_ever_less_often(database) -> None:
    with database.session() as s:
        run = _queued_run(s)
        job_id = advance(s, run.id)[0].job_id
        s.commit()
        queued = s.get(Job, job_id).queued_at
        sent_at = []
        for minute in range(1, 61):  # an hour behind other work, the sweeper ticking each minute
            now = queued + timedelta(minutes=minute)
            if sweep_lost_messages(s, BOUND, now=now).jobs:
                sent_at.append(minute)
            s.commit()
        # Each wait at least as long as the job had waited when last sent, capped at 16 bounds.
        assert sent_at == [2, 4, 8, 16, 32, 48]


def test_a_queued_run_whose_plan_message_was_lost_is_planned_again(database) -> None:
    with database.session() as s:
        lost = _queued_run(s, keys=())
        s.commit()
        created = s.get(Run, lost.id).dispatched_at
        resend = sweep_lost_messages(s, BOUND, now=created + BOUND * 2)
        s.commit()
        assert resend.plans == [lost.id] and resend.jobs == []
        assert sweep_lost_messages(s, BOUND, now=created + BOUND * 2).plans == []


def test_a_canceled_or_started_run_is_not_planned_again(database) -> None:
    with database.session() as s:
        canceled = _queued_run(s, keys=())
        request_cancel(s, canceled)
        s.commit()
        later = utcnow() + BOUND * 2
        assert sweep_lost_messages(s, BOUND, now=later).plans == []
        canceled.cancel_requested = False
        advance(s, canceled.id)  # with no jobs the run starts and ends
        s.commit()
        assert s.get(Run, canceled.id).status not in ("queued",)
        assert sweep_lost_messages(s, BOUND, now=later).plans == []


def test_a_resent_message_and_the_original_run_one_attempt_only(database) -> None:
    """Both deliveries of attempt 1 reach two workers at once: the attempt's compare-and-set lets
    exactly one of them run it."""
    with database.session() as s:
        run = _queued_run(s)
        job_id = advance(s, run.id)[0].job_id
        s.commit()
        sweep_lost_messages(s, BOUND, now=utcnow() + BOUND * 2)
        s.commit()
    winners: list[str] = []
    barrier = threading.Barrier(2)

    def deliver(worker: str) -> None:
        with database.session() as s:
            barrier.wait()
            if start_attempt(s, job_id, 1, worker) is not None:
                winners.append(worker)
            s.commit()

    threads = [threading.Thread(target=deliver, args=(w,)) for w in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(winners) == 1
    with database.session() as s:
        attempts = s.scalars(select(JobAttempt).where(JobAttempt.job_id == job_id)).all()
        assert [(a.number, a.worker) for a in attempts] == [(1, winners[0])]
        assert s.get(Job, job_id).status == "running"


def test_a_running_run_with_nothing_in_flight_is_moved_on(database) -> None:
    """A run whose next step was never taken (a lost advance) is advanced by the sweeper."""
    with database.session() as s:
        run = _queued_run(s)
        job_id = advance(s, run.id)[0].job_id
        job = s.get(Job, job_id)
        job.status, job.reason = "succeeded", None  # as if the advance after it had been lost
        s.commit()
        sweep_lost_messages(s, BOUND, now=utcnow() + BOUND * 2)
        s.commit()
        assert s.get(Run, run.id).status == "succeeded"


def _backdate_run(api: Api, run_id: int) -> None:
    with api.ctx.db.session() as s:
        run = s.get(Run, run_id)
        run.dispatched_at = run.created_at = utcnow() - timedelta(minutes=5)
        s.commit()


def test_a_redelivery_for_a_run_that_never_started_sends_its_plan_again(api: Api) -> None:
    secret = _register_shop(api)
    body, headers = _github_push(secret, delivery="lost-plan")
    first = api.client.post("/api/webhooks/github", content=body, headers=headers)
    run_id = first.json()["run_id"]
    soon = api.client.post("/api/webhooks/github", content=body, headers=headers)
    assert soon.status_code == 200 and soon.json()["status"] == "duplicate", "the first plan is in flight"

    _backdate_run(api, run_id)  # its plan message was lost minutes ago
    later = api.client.post("/api/webhooks/github", content=body, headers=headers)
    assert later.status_code == 202, later.text
    assert later.json() == {
        "status": "requeued",
        "reason": "delivery lost-plan was already received; its run had not started, so it was queued again",
        "run_id": run_id,
    }
    assert api.dispatcher.sent == [("plan", run_id), ("plan", run_id)]
    with api.ctx.db.session() as s:
        assert len(s.scalars(select(Run)).all()) == 1, "no second run"


def test_a_redelivery_for_a_planned_run_is_a_duplicate(api: Api) -> None:
    secret = _register_shop(api)
    body, headers = _github_push(secret, delivery="planned")
    run_id = api.client.post("/api/webhooks/github", content=body, headers=headers).json()["run_id"]
    with api.ctx.db.session() as s:
        s.add(
            Job(run_id=run_id, key="build", stage="build", kind="run", queue="default", timeout_s=60, spec={})
        )
        s.commit()
    _backdate_run(api, run_id)
    again = api.client.post("/api/webhooks/github", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert api.dispatcher.sent == [("plan", run_id)]
