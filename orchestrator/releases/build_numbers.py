"""Build numbers: monotonic per (project, platform), never handed out twice (a failed run's
numbers stay used), allocated under the counter's row lock."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from orchestrator.db.models import Job, Run
from orchestrator.releases.models import BuildNumber


def allocate(session: Session, project_id: int, platform: str) -> int:
    """The next build number for the project on `platform` (the caller commits)."""
    counter = _locked(session, project_id, platform)
    if counter is None:
        try:
            with session.begin_nested():
                session.add(BuildNumber(project_id=project_id, platform=platform, last=0))
        except IntegrityError:
            pass  # another transaction created the counter first; lock theirs
        counter = _locked(session, project_id, platform)
        assert counter is not None
    counter.last += 1
    session.flush()
    return counter.last


def _locked(session: Session, project_id: int, platform: str) -> BuildNumber | None:
    return session.scalar(
        select(BuildNumber)
        .where(BuildNumber.project_id == project_id, BuildNumber.platform == platform)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def number_builds(session: Session, run: Run) -> None:
    """Give each build job of a release pipeline its build number, passed to its lane as the
    option the job names (`build_number` unless `release.build_number_option` says otherwise)."""
    jobs = session.scalars(select(Job).where(Job.run_id == run.id, Job.kind == "build").order_by(Job.id))
    for job in jobs:
        spec = dict(job.spec or {})
        option = spec.get("build_number_option")
        if not option or spec.get("build_number") is not None:
            continue
        number = allocate(session, run.project_id, job.platform or "all")
        spec["build_number"] = number
        spec["lane_options"] = {**(spec.get("lane_options") or {}), option: str(number)}
        job.spec = spec
    session.flush()
