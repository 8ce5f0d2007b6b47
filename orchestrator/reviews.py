"""The screenshot review service, as stored: QA decisions on a run's comparisons that promote
the candidate to the branch baseline or reject it, settling the waiting screenshot stage, and
what still needs a decision. The decisions come from `screenshots.review`; the comparisons are
made on the worker by `orchestrator.stages.screenshot_comparison`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.artifacts import ArtifactStore
from orchestrator.baselines import BlobAdapter, comparison_record, repository
from orchestrator.db.models import Comparison, Event, Job, Project, Review, Run, utcnow
from orchestrator.runs import Dispatch, move_job
from orchestrator.scheduler import advance
from screenshots.review import (
    ComparisonRecord,
    Decision,
    ReviewRecord,
    ReviewRefused,
    StageState,
    StageVerdict,
    check_review,
    stage_verdict,
)


class ReviewError(Exception):
    """A review request that cannot be applied; the message says why."""


def _records(session: Session, comparisons: list[Comparison]) -> list[ComparisonRecord]:
    out = []
    for c in comparisons:
        run = session.get(Run, c.run_id)
        project = session.get(Project, c.project_id)
        assert run is not None and project is not None
        out.append(
            comparison_record(
                str(c.id),
                c.run_id,
                run.number,
                c.branch,
                project.name,
                c.platform,
                c.name,
                c.status,
                c.details,
            )
        )
    return out


def _reviews(session: Session, comparison_ids: list[int]) -> list[ReviewRecord]:
    rows = session.scalars(select(Review).where(Review.comparison_id.in_(comparison_ids)).order_by(Review.id))
    return [
        ReviewRecord(str(r.comparison_id), Decision(r.decision), r.reviewer, r.id, r.comment) for r in rows
    ]


def job_verdict(session: Session, job: Job) -> StageVerdict:
    comparisons = list(
        session.scalars(select(Comparison).where(Comparison.job_id == job.id).order_by(Comparison.id))
    )
    return stage_verdict(_records(session, comparisons), _reviews(session, [c.id for c in comparisons]))


def review(
    session: Session,
    store: ArtifactStore,
    comparison_id: int,
    decision: str,
    reviewer: str,
    comment: str = "",
) -> tuple[Review, list[Dispatch]]:
    """Record one QA decision: approving promotes the candidate to the branch baseline (every older
    version is kept), rejecting fails the stage. Settles the stage when nothing awaits review."""
    try:
        choice = Decision(decision)
    except ValueError:
        raise ReviewError(f"decision {decision!r} is not one of: approved, rejected") from None
    comparison = session.scalar(select(Comparison).where(Comparison.id == comparison_id).with_for_update())
    if comparison is None:
        raise LookupError(f"no comparison with id {comparison_id}")
    # Promotions rewrite the branch manifest: one at a time per project, across processes.
    project = session.scalar(select(Project).where(Project.id == comparison.project_id).with_for_update())
    assert project is not None
    others = list(
        session.scalars(
            select(Comparison).where(
                Comparison.project_id == comparison.project_id,
                Comparison.name == comparison.name,
                Comparison.branch == comparison.branch,
                Comparison.platform == comparison.platform,
                Comparison.id != comparison.id,
            )
        )
    )
    [record] = _records(session, [comparison])
    try:
        action = check_review(record, choice, _records(session, others))
    except ReviewRefused as exc:
        raise ReviewError(str(exc)) from None
    version = None
    if choice is Decision.APPROVED:
        repo = repository(store, project.default_branch)
        png = None
        if action.value == "promote_candidate":
            if comparison.candidate_key is None:
                raise ReviewError(f"comparison {comparison.id} has no candidate image to promote")
            png = BlobAdapter(store).get(comparison.candidate_key)
        promoted, _created = repo.promote(
            record.key,
            comparison.branch,
            png,
            approved_by=reviewer,
            run_id=str(comparison.run_id),
            comment=comment,
        )
        version = promoted.version
    row = Review(
        comparison_id=comparison.id,
        decision=choice.value,
        reviewer=reviewer,
        comment=comment,
        baseline_version=version,
    )
    session.add(row)
    session.add(
        Event(
            run_id=comparison.run_id,
            job_id=comparison.job_id,
            subject=f"review {comparison.name}",
            from_status=comparison.status,
            to_status=choice.value,
            reason=f"by {reviewer}" + (f": {comment}" if comment else ""),
            at=utcnow(),
        )
    )
    session.flush()
    return row, settle(session, comparison.job_id)


def settle(session: Session, job_id: int) -> list[Dispatch]:
    """End a waiting screenshot job once its verdict is no longer `waiting`."""
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None or job.status != "waiting":
        return []
    verdict = job_verdict(session, job)
    if verdict.state is StageState.WAITING:
        job.reason = verdict.reason
        return []
    move_job(session, job, "succeeded" if verdict.state is StageState.SUCCEEDED else "failed", verdict.reason)
    session.flush()
    return advance(session, job.run_id)


def needing_review(session: Session, run_id: int) -> list[Comparison]:
    reviewed = select(Review.comparison_id)
    return list(
        session.scalars(
            select(Comparison)
            .where(
                Comparison.run_id == run_id,
                Comparison.status.in_(["changed", "new", "missing", "size_mismatch"]),
                Comparison.id.not_in(reviewed),
            )
            .order_by(Comparison.id)
        )
    )
