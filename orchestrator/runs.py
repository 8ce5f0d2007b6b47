"""Runs and jobs as stored: creating runs, every state change with its event, queries, cancel
and rerun. The decisions come from `orchestrator.transitions`; this module applies them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from orchestrator.db.models import Event, Job, Project, Run, WebhookDelivery, utcnow
from orchestrator.jobspec import JobPlan, JobSpecError
from orchestrator.notifications.run_events import on_run_moved
from orchestrator.transitions import FINAL_JOB, FINAL_RUN, check_job_move, check_run_move

MAX_PAGE = 200
# A webhook redelivery re-sends the plan of a run still queued this long after its message.
REPLAN_GRACE = timedelta(seconds=30)


class RunError(Exception):
    pass


class RunNotFound(RunError):
    pass


class DuplicateDelivery(RunError):
    """The webhook delivery id was seen before; no new run is created. `replan` is True when its
    run never started planning (its plan message was lost): the caller commits and sends the plan
    again, so a redelivery recovers the run instead of being ignored."""

    def __init__(self, provider: str, delivery_id: str, run_id: int | None, replan: bool = False) -> None:
        super().__init__(f"{provider} delivery {delivery_id} was already received")
        self.run_id = run_id
        self.replan = replan


@dataclass(frozen=True)
class Dispatch:
    """A job to send to its Celery queue once the transaction that queued it has committed."""

    job_id: int
    queue: str
    attempt: int


def move_run(
    session: Session, run: Run, new: str, reason: str | None = None, now: datetime | None = None
) -> None:
    check_run_move(str(run.id), run.status, new)
    now = now or utcnow()
    session.add(
        Event(run_id=run.id, subject="run", from_status=run.status, to_status=new, reason=reason, at=now)
    )
    run.status = new
    if reason is not None or new in FINAL_RUN or new == "running":
        run.reason = reason
    if new == "running" and run.started_at is None:
        run.started_at = now
    if new in FINAL_RUN:
        run.finished_at = now
    # Notifications and the commit status go into the outbox in this same transaction.
    on_run_moved(session, run, now=now)


def move_job(
    session: Session, job: Job, new: str, reason: str | None = None, now: datetime | None = None
) -> None:
    check_job_move(job.key, job.status, new)
    now = now or utcnow()
    session.add(
        Event(
            run_id=job.run_id,
            job_id=job.id,
            subject=job.key,
            from_status=job.status,
            to_status=new,
            reason=reason,
            at=now,
        )
    )
    job.status = new
    job.reason = reason
    if new == "queued":
        job.queued_at = now
        job.dispatched_at = now  # the caller sends its message right after the commit
    elif new == "running":
        job.started_at = now
    elif new in FINAL_JOB:
        job.finished_at = now


def _next_number(session: Session, project_id: int) -> int:
    current = session.scalar(select(func.max(Run.number)).where(Run.project_id == project_id))
    return (current or 0) + 1


def create_run(
    session: Session,
    project: Project,
    *,
    trigger: str,
    ref: str,
    sha: str,
    created_by: str | None = None,
    delivery: tuple[str, str] | None = None,
) -> Run:
    """A queued run; with `delivery=(provider, id)` a redelivery raises DuplicateDelivery."""
    # Run numbers and delivery ids are decided under the project's row lock (PostgreSQL), so
    # concurrent pushes queue here briefly instead of colliding and retrying.
    session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    if delivery is not None:
        provider, delivery_id = delivery
        existing = session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.provider == provider, WebhookDelivery.delivery_id == delivery_id
            )
        )
        if existing is not None:
            raise DuplicateDelivery(
                provider, delivery_id, existing.run_id, _mark_replan(session, existing.run_id)
            )
    run = Run(
        project_id=project.id,
        number=_next_number(session, project.id),
        trigger=trigger,
        ref=ref,
        sha=sha,
        status="queued",
        created_by=created_by,
        dispatched_at=utcnow(),  # the caller sends the plan message right after the commit
    )
    session.add(run)
    try:
        session.flush()
        if delivery is not None:
            session.add(
                WebhookDelivery(
                    provider=delivery[0], delivery_id=delivery[1], project_id=project.id, run_id=run.id
                )
            )
        session.add(
            Event(
                run_id=run.id, subject="run", from_status=None, to_status="queued", reason=f"{trigger} {ref}"
            )
        )
        session.flush()
    except IntegrityError as exc:
        # Only reachable when two writers slipped past the project lock (it cannot happen on
        # PostgreSQL or SQLite); the caller rolls back.
        if delivery is not None and "delivery" in str(exc.orig).lower():
            raise DuplicateDelivery(delivery[0], delivery[1], None) from exc
        raise RunError(f"could not record the run for project {project.name}: {exc.orig}") from exc
    return run


def _mark_replan(session: Session, run_id: int | None) -> bool:
    """Whether the run of a redelivered webhook never started planning (still queued, no jobs,
    not canceled) although its plan message went out over REPLAN_GRACE ago; if so that message
    counts as sent again now. A redelivery within the grace finds the first message in flight."""
    if run_id is None:
        return False
    run = session.scalar(select(Run).where(Run.id == run_id).with_for_update())
    if run is None or run.status != "queued" or run.cancel_requested:
        return False
    if (run.dispatched_at or run.created_at) > utcnow() - REPLAN_GRACE:
        return False
    if session.scalar(select(func.count(Job.id)).where(Job.run_id == run_id)):
        return False
    run.dispatched_at = utcnow()
    session.flush()
    return True


def get_run(session: Session, run_id: int) -> Run:
    run = session.scalar(
        select(Run).where(Run.id == run_id).options(selectinload(Run.jobs), selectinload(Run.project))
    )
    if run is None:
        raise RunNotFound(f"no run with id {run_id}")
    return run


def list_runs(
    session: Session,
    *,
    project: Project | None = None,
    status: str | None = None,
    ref: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
    text: str | None = None,
) -> list[Run]:
    """Newest first; page with `before_id` (the last id of the previous page). `text` matches
    part of the ref, sha, commit message, reason or author."""
    query = select(Run).options(selectinload(Run.project)).order_by(Run.id.desc())
    if project is not None:
        query = query.where(Run.project_id == project.id)
    if status is not None:
        query = query.where(Run.status == status)
    if ref is not None:
        query = query.where(Run.ref.in_([ref, f"refs/heads/{ref}", f"refs/tags/{ref}"]))
    if before_id is not None:
        query = query.where(Run.id < before_id)
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                *(
                    col.ilike(like, escape="\\")
                    for col in (Run.ref, Run.sha, Run.message, Run.reason, Run.created_by)
                )
            )
        )
    return list(session.scalars(query.limit(max(1, min(limit, MAX_PAGE)))))


def events_of(session: Session, run_id: int) -> Sequence[Event]:
    return list(session.scalars(select(Event).where(Event.run_id == run_id).order_by(Event.id)))


def request_cancel(session: Session, run: Run) -> None:
    if run.status in FINAL_RUN:
        raise RunError(f"run {run.id} already ended ({run.status})")
    run.cancel_requested = True
    session.flush()


def rerun_failed(session: Session, run: Run, created_by: str | None = None) -> Run:
    """A new run of the same commit that keeps the jobs that succeeded and runs the rest again."""
    if run.status not in FINAL_RUN:
        raise RunError(f"run {run.id} is still {run.status}; cancel it or wait for it to end")
    if not run.jobs:
        raise RunError(f"run {run.id} has no jobs to rerun ({run.reason or run.status})")
    try:
        plans = [JobPlan.from_row(old) for old in run.jobs]
    except JobSpecError as exc:
        raise RunError(f"run {run.id} cannot be rerun: {exc}") from None
    new = create_run(session, run.project, trigger="rerun", ref=run.ref, sha=run.sha, created_by=created_by)
    new.message = run.message
    now = utcnow()
    for old, plan in zip(run.jobs, plans, strict=True):
        job = Job(run_id=new.id, **plan.row(), status="pending")
        session.add(job)
        session.flush()
        if old.status == "succeeded":
            # Kept as is: recorded as an event so the history says where the result came from.
            session.add(
                Event(
                    run_id=new.id,
                    job_id=job.id,
                    subject=job.key,
                    from_status="pending",
                    to_status="succeeded",
                    reason=f"reused from run {run.id}",
                    at=now,
                )
            )
            job.status = "succeeded"
            job.reason = f"reused from run {run.id}"
            job.finished_at = now
    session.flush()
    return new
