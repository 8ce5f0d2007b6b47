"""The gate as stored: load a run's facts, ask the pure gate for each platform's checklist, keep
evaluations that changed, and move a waiting gate job on when its checks all pass. The job row
is locked and must still be `waiting`, so concurrent settlements release `submit` exactly once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.db.models import Comparison, Job, Review, Run, utcnow
from orchestrator.parity.service import web_fact
from orchestrator.releases.facts import ApprovalFact, GateFacts, JobFact, ReleaseFact, ScreenshotFact, to_json
from orchestrator.releases.gate import Checklist, evaluate_release
from orchestrator.releases.models import Approval, GateEvaluation, Release, ReleasePlatform
from orchestrator.releases.service import (
    System,
    audit,
    build_candidate,
    notify,
    person_of,
    release_platforms_of,
)
from orchestrator.releases.states import check_move
from orchestrator.runs import Dispatch, move_job
from orchestrator.spec.release import ReleaseSpec

NEEDS_REVIEW = ("changed", "new", "missing", "size_mismatch")
Exists = Callable[[str], bool]


def _aware(at: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _ancestors(jobs: dict[str, Job], start: Job) -> list[Job]:
    seen: dict[str, Job] = {}
    todo = list(start.needs)
    while todo:
        key = todo.pop()
        if key in seen or key not in jobs:
            continue
        seen[key] = jobs[key]
        todo.extend(jobs[key].needs)
    return sorted(seen.values(), key=lambda j: j.id)


def _screenshot_fact(session: Session, job: Job) -> ScreenshotFact:
    comparisons = session.scalars(
        select(Comparison.id).where(Comparison.job_id == job.id, Comparison.status.in_(NEEDS_REVIEW))
    ).all()
    latest: dict[int, str] = {}
    if comparisons:
        for cid, decision in session.execute(
            select(Review.comparison_id, Review.decision)
            .where(Review.comparison_id.in_(comparisons))
            .order_by(Review.id)
        ):
            latest[cid] = decision
    return ScreenshotFact(
        job.key,
        unreviewed=sum(1 for c in comparisons if c not in latest),
        rejected=sum(1 for d in latest.values() if d == "rejected"),
    )


def load_facts(
    session: Session, run: Run, release: Release | None, now: datetime, jobs: Sequence[Job] | None = None
) -> dict[str, GateFacts]:
    """Each release platform's facts as they stand at `now`."""
    jobs = list(jobs) if jobs is not None else list(session.scalars(select(Job).where(Job.run_id == run.id)))
    by_key = {j.key: j for j in jobs}
    gates = [j for j in jobs if j.kind == "gate"]
    policy = ReleaseSpec.model_validate(release.policy) if release is not None else ReleaseSpec()
    web = web_fact(session, run.project_id, policy.parity.environment) if policy.parity is not None else None
    approvals: tuple[ApprovalFact, ...] = ()
    rows: dict[str, ReleasePlatform] = {}
    release_fact = None
    if release is not None:
        approvals = tuple(
            ApprovalFact(a.role, a.person, a.decision, a.comment, a.override, a.override_reason)  # type: ignore[arg-type]
            for a in session.scalars(
                select(Approval).where(Approval.release_id == release.id).order_by(Approval.id)
            )
        )
        rows = {p.platform: p for p in release.platforms}
        release_fact = ReleaseFact(
            release.version,
            release.state,
            release.created_by,
            _aware(release.created_at) or release.created_at,
            release.reason,
        )
    facts = {}
    for platform in list(rows) if rows else release_platforms_of(jobs):
        mine = [g for g in gates if g.platform in (platform, None)] or gates
        needed: dict[str, Job] = {}
        for gate in mine:
            needed.update((j.key, j) for j in _ancestors(by_key, gate) if j.platform in (platform, None))
        ordered = sorted(needed.values(), key=lambda j: j.id)
        row = rows.get(platform)
        facts[platform] = GateFacts(
            platform=platform,
            now=now,
            policy=policy,
            release=release_fact,
            jobs=tuple(JobFact(j.key, j.status, j.allow_failure, j.reason) for j in ordered),
            screenshots=tuple(_screenshot_fact(session, j) for j in ordered if j.kind == "screenshots"),
            approvals=approvals,
            pushed_by=person_of(run.created_by),
            soak_started_at=_aware(row.soak_started_at) if row is not None else None,
            web=web,
        )
    return facts


def checklists(session: Session, run: Run, release: Release | None, now: datetime) -> dict[str, Checklist]:
    """The gate's checklist per platform, without changing anything."""
    return evaluate_release(load_facts(session, run, release, now))


def _keep(session: Session, release: Release, facts: GateFacts, checklist: Checklist, now: datetime) -> None:
    """Store the evaluation when its checklist differs from the last one kept."""
    last = session.scalar(
        select(GateEvaluation)
        .where(GateEvaluation.release_id == release.id, GateEvaluation.platform == checklist.platform)
        .order_by(GateEvaluation.id.desc())
        .limit(1)
    )
    lines = checklist.to_json()
    if last is not None and last.checklist == lines:
        return
    session.add(
        GateEvaluation(
            release_id=release.id,
            platform=checklist.platform,
            passed=checklist.passed,
            facts=to_json(facts),
            checklist=lines,
            at=now,
        )
    )


def _move(release: Release, row: ReleasePlatform, new: str, reason: str | None, now: datetime) -> None:
    check_move(f"{release.version} {row.platform}", row.state, new)
    row.state, row.reason, row.updated_at = new, reason, now


def settle_run(session: Session, run_id: int, exists: Exists, now: datetime | None = None) -> list[Dispatch]:
    """Re-evaluate the run's gate: keep changed checklists, and move waiting gate jobs whose
    platforms all pass on to `succeeded` (the scheduler then releases `submit`)."""
    from orchestrator.scheduler import advance

    now = now or utcnow()
    release = session.scalar(select(Release).where(Release.run_id == run_id).with_for_update())
    run = session.get(Run, run_id)
    if run is None:
        return []
    jobs = list(session.scalars(select(Job).where(Job.run_id == run_id).order_by(Job.id)))
    gates = [j for j in jobs if j.kind == "gate"]
    if not gates:
        return []
    if release is not None and release.state == "active":
        _prepare_platforms(session, release, run, jobs, gates, exists, now)
    facts = load_facts(session, run, release, now, jobs)
    lists = evaluate_release(facts)
    if release is not None:
        for platform, checklist in lists.items():
            _keep(session, release, facts[platform], checklist, now)
    moved = False
    for gate in gates:
        locked = session.scalar(
            select(Job).where(Job.id == gate.id).with_for_update().execution_options(populate_existing=True)
        )
        if locked is None or locked.status != "waiting":
            continue
        platforms = [locked.platform] if locked.platform in lists else list(lists)
        blocking = [f"{p}: {lists[p].blocking()}" for p in platforms if not lists[p].passed]
        rows = {p.platform: p for p in release.platforms} if release is not None else {}
        ready = (
            release is not None
            and release.state == "active"
            and not blocking
            and all(rows.get(p) is not None and rows[p].state == "waiting_for_gate" for p in platforms)
        )
        if not ready:
            reason = "waiting for the release gate: " + "; ".join(blocking) if blocking else locked.reason
            if locked.reason != reason:
                locked.reason = reason
            continue
        assert release is not None
        for p in platforms:
            _move(release, rows[p], "ready_to_submit", "every gate check passed", now)
        move_job(session, locked, "succeeded", f"gate passed for release {release.version}", now=now)
        audit(
            session,
            release.project_id,
            release.id,
            System(),
            "gate_passed",
            f"{locked.key}",
            {"platforms": platforms},
            now,
        )
        notify(
            session,
            release,
            "release.ready_to_submit",
            f"release {release.version} passed its gate on {', '.join(platforms)} and is ready to submit",
            platforms=platforms,
        )
        moved = True
    session.flush()
    return advance(session, run_id, now) if moved else []


def _prepare_platforms(
    session: Session,
    release: Release,
    run: Run,
    jobs: Sequence[Job],
    gates: Sequence[Job],
    exists: Exists,
    now: datetime,
) -> None:
    """Fill candidates once the builds are done, and mark platforms whose gate job waits."""
    for row in release.platforms:
        if row.state != "preparing":
            continue
        if not row.candidate:
            candidate, missing = build_candidate(session, run.id, jobs, row.platform, exists)
            if missing is not None:
                _move(release, row, "failed", missing, now)
                audit(
                    session,
                    release.project_id,
                    release.id,
                    System(),
                    "failed",
                    f"{release.version} {row.platform}",
                    {"reason": missing},
                    now,
                )
                continue
            if candidate is None:
                continue
            row.candidate = candidate
            builds = [j for j in jobs if j.kind == "build" and j.platform in (row.platform, None)]
            numbers = {n for j in builds if (n := (j.spec or {}).get("build_number")) is not None}
            row.build_number = max(numbers) if numbers else row.build_number
            row.soak_started_at = max((j.finished_at for j in builds if j.finished_at), default=now)
        waiting = [g for g in gates if g.platform in (row.platform, None) and g.status == "waiting"]
        if waiting:
            _move(release, row, "waiting_for_gate", None, now)
            notify(
                session,
                release,
                "release.gate_waiting",
                f"release {release.version} waits at the gate on {row.platform}",
                platform=row.platform,
            )


def waiting_gate_runs(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Job.run_id)
            .where(Job.kind == "gate", Job.status == "waiting")
            .group_by(Job.run_id)
            .order_by(Job.run_id)
        )
    )


def settle_waiting_gates(session: Session, exists: Exists, now: datetime | None = None) -> list[Dispatch]:
    """Re-evaluate every waiting gate (the clock moves freeze windows and soak time on)."""
    now = now or utcnow()
    dispatches: list[Dispatch] = []
    for run_id in waiting_gate_runs(session):
        dispatches += settle_run(session, run_id, exists, now)
    return dispatches


def checklist_json(session: Session, release: Release, now: datetime) -> dict[str, Any]:
    run = session.get(Run, release.run_id)
    assert run is not None
    lists = checklists(session, run, release, now)
    return {p: {"state": c.state, "checks": c.to_json()} for p, c in lists.items()}


def count_evaluations(session: Session, release_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(GateEvaluation).where(GateEvaluation.release_id == release_id)
        )
        or 0
    )
