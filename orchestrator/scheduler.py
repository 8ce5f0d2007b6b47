"""The scheduler: applies the state machine's actions to stored runs, records job attempts,
reconciles jobs whose worker vanished and re-sends messages that were lost. Callers commit,
then send the returned dispatches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from orchestrator.db.models import Job, JobAttempt, Run, utcnow
from orchestrator.releases.build_numbers import number_builds
from orchestrator.runs import Dispatch, move_job, move_run
from orchestrator.stages import wait_reason

if TYPE_CHECKING:
    from orchestrator.planner import RunPlan
from orchestrator.transitions import (
    FINAL_JOB,
    CancelJob,
    EnqueueJob,
    FinishRun,
    JobView,
    ResumeRun,
    RunView,
    SkipJob,
    StartRun,
    WaitRun,
    next_actions,
)


def _lock_run(session: Session, run_id: int) -> Run:
    run = session.scalar(select(Run).where(Run.id == run_id).with_for_update())
    if run is None:
        raise LookupError(f"no run with id {run_id}")
    return run


def _jobs(session: Session, run_id: int) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.run_id == run_id).order_by(Job.id)))


def advance(session: Session, run_id: int, now: datetime | None = None) -> list[Dispatch]:
    """Ask the state machine what to do for this run and do it (locks the run row)."""
    now = now or utcnow()
    run = _lock_run(session, run_id)
    jobs = {j.key: j for j in _jobs(session, run_id)}
    view = RunView(
        status=run.status,
        jobs=tuple(JobView(j.key, j.status, tuple(j.needs), j.allow_failure) for j in jobs.values()),
        cancel_requested=run.cancel_requested,
    )
    dispatches: list[Dispatch] = []
    for action in next_actions(view):
        match action:
            case StartRun():
                move_run(session, run, "running", now=now)
            case EnqueueJob(key=key):
                job = jobs[key]
                move_job(session, job, "queued", now=now)
                dispatches.append(Dispatch(job.id, job.queue, job.attempts + 1))
            case SkipJob(key=key, reason=reason):
                move_job(session, jobs[key], "skipped", reason, now=now)
            case CancelJob(key=key, reason=reason, running=True):
                # The worker sees the flag on its next heartbeat and kills the process group.
                jobs[key].cancel_requested = True
            case CancelJob(key=key, reason=reason, running=False):
                move_job(session, jobs[key], "canceled", reason, now=now)
            case WaitRun():
                waiting = [j.kind for j in jobs.values() if j.status == "waiting"]
                move_run(session, run, "waiting", wait_reason(waiting), now=now)
            case ResumeRun():
                move_run(session, run, "running", now=now)
            case FinishRun(status=status, reason=reason):
                move_run(session, run, status, reason, now=now)
    session.flush()
    return dispatches


def apply_plan(session: Session, run_id: int, plan: RunPlan, now: datetime | None = None) -> list[Dispatch]:
    """Store the planned jobs (or the skip) and advance the run."""
    now = now or utcnow()
    run = _lock_run(session, run_id)
    if run.status != "queued":
        return []  # planned twice (a redelivered task): the first one won
    if plan.skipped_reason is not None:
        move_run(session, run, "skipped", plan.skipped_reason, now=now)
        session.flush()
        return []
    for jp in plan.jobs:
        session.add(Job(run_id=run.id, **jp.row(), status="pending"))
    session.flush()
    number_builds(session, run)
    return advance(session, run_id, now)


def fail_planning(session: Session, run_id: int, reason: str, now: datetime | None = None) -> None:
    run = _lock_run(session, run_id)
    if run.status == "queued":
        move_run(session, run, "failed", reason, now=now)
        session.flush()


def start_attempt(
    session: Session, job_id: int, attempt: int, worker: str, now: datetime | None = None
) -> Job | None:
    """Mark the job running for `attempt`, or None when this delivery is stale (the job was
    canceled, already ran, or was re-queued under a newer attempt)."""
    now = now or utcnow()
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None or job.status != "queued" or job.attempts + 1 != attempt:
        return None
    move_job(session, job, "running", f"attempt {attempt} on {worker}", now=now)
    job.attempts = attempt
    job.worker = worker
    job.heartbeat_at = now
    session.add(JobAttempt(job_id=job.id, number=attempt, status="running", worker=worker, started_at=now))
    session.flush()
    return job


def heartbeat(session: Session, job_id: int, attempt: int, now: datetime | None = None) -> bool:
    """Record that the worker is alive; True when the job must stop (canceled or taken away)."""
    job = session.get(Job, job_id)
    if job is None or job.status != "running" or job.attempts != attempt:
        return True
    job.heartbeat_at = now or utcnow()
    session.flush()
    return job.cancel_requested


def finish_attempt(
    session: Session,
    job_id: int,
    attempt: int,
    status: str,
    reason: str | None,
    exit_code: int | None = None,
    now: datetime | None = None,
    results: dict[str, Any] | None = None,
) -> list[Dispatch]:
    """Record the attempt's outcome and advance the run; a stale attempt changes nothing."""
    now = now or utcnow()
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None or job.status != "running" or job.attempts != attempt:
        return []
    _close_attempt(session, job, attempt, status, reason, exit_code, now)
    if results is not None:
        job.results = results
    move_job(session, job, status, reason, now=now)
    session.flush()
    return advance(session, job.run_id, now)


def _close_attempt(
    session: Session,
    job: Job,
    attempt: int,
    status: str,
    reason: str | None,
    exit_code: int | None,
    now: datetime,
) -> None:
    row = session.scalar(select(JobAttempt).where(JobAttempt.job_id == job.id, JobAttempt.number == attempt))
    if row is not None:
        row.status = status
        row.reason = reason
        row.exit_code = exit_code
        row.finished_at = now


def reconcile(
    session: Session, lost_after: timedelta, max_attempts: int, now: datetime | None = None
) -> list[Dispatch]:
    """Re-queue running jobs whose heartbeat stopped (their worker vanished), within the job's
    retry budget; past it, fail them with `worker lost`. Also advances runs with nothing left."""
    now = now or utcnow()
    cutoff = now - lost_after
    dispatches: list[Dispatch] = []
    lost = list(
        session.scalars(
            select(Job).where(Job.status == "running", Job.heartbeat_at < cutoff).with_for_update()
        )
    )
    for job in lost:
        worker = job.worker or "unknown worker"
        allowed = min(1 + job.retries, max_attempts)
        if job.cancel_requested:
            _close_attempt(session, job, job.attempts, "canceled", f"worker lost ({worker})", None, now)
            move_job(session, job, "canceled", "run canceled; its worker was lost", now=now)
        elif job.attempts < allowed:
            _close_attempt(session, job, job.attempts, "lost", f"worker lost ({worker})", None, now)
            move_job(
                session,
                job,
                "queued",
                f"worker lost ({worker}); attempt {job.attempts + 1} of {allowed}",
                now=now,
            )
            dispatches.append(Dispatch(job.id, job.queue, job.attempts + 1))
        else:
            _close_attempt(session, job, job.attempts, "lost", f"worker lost ({worker})", None, now)
            move_job(
                session, job, "failed", f"worker lost ({worker}) after {job.attempts} attempt(s)", now=now
            )
        session.flush()
        dispatches.extend(advance(session, job.run_id, now))
    # Runs whose cancel was requested while jobs were queued/pending, or otherwise stuck.
    pending_cancel = session.scalars(
        select(Run.id).where(Run.cancel_requested.is_(True), Run.status.in_(["queued", "running", "waiting"]))
    ).all()
    for run_id in pending_cancel:
        dispatches.extend(advance(session, run_id, now))
    return dispatches


@dataclass
class Resend:
    """Messages the sweeper found lost: runs to plan and jobs to execute, sent after the commit."""

    plans: list[int] = field(default_factory=list)
    jobs: list[Dispatch] = field(default_factory=list)


def sweep_lost_messages(session: Session, resend_after: timedelta, now: datetime | None = None) -> Resend:
    """The database is the record: a run still `queued` or a job still `queued` whose message
    was sent longer than `resend_after` ago had its message lost (broker restarted empty, a
    crash between commit and send); send it again (backing off while it keeps waiting) and note
    when. A duplicate message is
    harmless: `apply_plan` keeps the first plan and `start_attempt` runs one delivery of an
    attempt only. Also advances running runs with no job left in flight (a lost advance)."""
    now = now or utcnow()
    cutoff = now - resend_after
    resend = Resend()

    def due(sent: datetime | None, first: datetime) -> bool:
        # Back off as a message keeps waiting (the queue may just be long): wait at least as
        # long as it had waited when last sent, up to 16 bounds; so a job queued behind an hour
        # of work is re-sent a few times, not every bound.
        sent = sent or first
        return now - sent >= min(max(resend_after, sent - first), resend_after * 16)

    runs = session.scalars(
        select(Run)
        .where(
            Run.status == "queued",
            Run.cancel_requested.is_(False),
            func.coalesce(Run.dispatched_at, Run.created_at) < cutoff,
        )
        .order_by(Run.id)
        .with_for_update(skip_locked=True)
    ).all()
    for run in runs:
        # `queued` re-checked: unchanged since the query (SQLite has no row locks)
        if run.status == "queued" and due(run.dispatched_at, run.created_at):
            run.dispatched_at = now
            resend.plans.append(run.id)
    jobs = session.scalars(
        select(Job)
        .where(Job.status == "queued", func.coalesce(Job.dispatched_at, Job.queued_at) < cutoff)
        .order_by(Job.id)
        .with_for_update(skip_locked=True)
    ).all()
    for job in jobs:
        if due(job.dispatched_at, job.queued_at or now):
            job.dispatched_at = now
            resend.jobs.append(Dispatch(job.id, job.queue, job.attempts + 1))
    in_flight = exists().where(Job.run_id == Run.id, Job.status.in_(["queued", "running", "waiting"]))
    idle = session.scalars(
        select(Run.id).where(
            Run.status == "running",
            ~in_flight,
            func.coalesce(Run.started_at, Run.created_at) < cutoff,
        )
    ).all()
    session.flush()
    for run_id in idle:
        resend.jobs.extend(advance(session, run_id, now))
    return resend


__all__ = [
    "Resend",
    "FINAL_JOB",
    "advance",
    "apply_plan",
    "fail_planning",
    "finish_attempt",
    "heartbeat",
    "reconcile",
    "start_attempt",
    "sweep_lost_messages",
]
