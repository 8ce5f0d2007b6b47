"""Runs: the list with filters and pages, one run's jobs by stage and platform with test results
and artifacts, one job's live log; cancel and rerun for those who may."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from dashboard.ansi import looks_like_error, to_html
from dashboard.results import counts, result_rows, status_counts
from dashboard.security import page_actor, refuse_unless, service_of
from dashboard.templating import render
from orchestrator import projects as project_service
from orchestrator import runs as service
from orchestrator.actors import Actor
from orchestrator.artifacts import ArtifactError
from orchestrator.context import Context
from orchestrator.db.models import Artifact, Comparison, Job, Review
from orchestrator.transitions import FINAL_JOB, FINAL_RUN

router = APIRouter(include_in_schema=False)
PageActor = Annotated[Actor, Depends(page_actor)]
# Who may cancel and rerun: the API's `Developer` roles.
STEERING = ("developer", "release_manager")
STATUSES = ("queued", "running", "waiting", "succeeded", "failed", "canceled", "skipped")
PAGE = 50
MAX_TESTS_SHOWN = 200
ATTENTION = frozenset({"failed", "error", "flaky"})
# A stored log longer than this shows its last lines; the whole file is a download.
LOG_TAIL_LINES = 5000
LOG_MAX_BYTES = 8 * 1024 * 1024


@router.get("/")
def home() -> Response:
    return RedirectResponse("/runs", status_code=303)


@router.get("/runs")
def runs_page(
    request: Request,
    actor: PageActor,
    project: str | None = None,
    status: str | None = None,
    branch: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    ctx = service_of(request)
    filters = {
        "project": project or "",
        "status": status if status in STATUSES else "",
        "branch": (branch or "").strip(),
        "q": (q or "").strip(),
    }
    with ctx.db.read_session() as session:
        projects = [p.name for p in project_service.list_projects(session)]
        proj = None
        if filters["project"]:
            try:
                proj = project_service.get_project(session, filters["project"])
            except project_service.ProjectNotFound as exc:
                raise HTTPException(404, str(exc)) from exc
        runs = service.list_runs(
            session,
            project=proj,
            status=filters["status"] or None,
            ref=filters["branch"] or None,
            text=filters["q"] or None,
            before_id=before,
            limit=PAGE,
        )
    query = {k: v for k, v in filters.items() if v}
    context = {
        "runs": runs,
        "projects": projects,
        "statuses": STATUSES,
        "filters": filters,
        "query": query,
        "next_before": runs[-1].id if len(runs) == PAGE else None,
        "paged": before is not None,
    }
    fragment = request.headers.get("hx-target") == "runs-table"
    return render(request, "_runs_table.html.j2" if fragment else "runs.html.j2", context)


def _stages(jobs: list[Any]) -> list[tuple[str, list[Any]]]:
    """Jobs grouped by stage in plan order, each stage's jobs by platform and shard."""
    grouped: OrderedDict[str, list[Any]] = OrderedDict()
    for job in jobs:
        grouped.setdefault(job.stage, []).append(job)
    return [
        (stage, sorted(items, key=lambda j: (j.platform or "", j.shard or 0)))
        for stage, items in grouped.items()
    ]


def run_context(session: Any, run_id: int, actor: Actor) -> dict[str, Any]:
    """Everything the run page shows, read through the same services as the API."""
    try:
        run = service.get_run(session, run_id)
    except service.RunNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    artifacts = list(session.scalars(select(Artifact).where(Artifact.run_id == run.id).order_by(Artifact.id)))
    # The run page lists what needs attention (failures, then flaky); each job's page lists all.
    attention = [(job, row) for job in run.jobs for row in result_rows(job.results, ATTENTION)]
    tests = [pair for pair in attention if pair[1].failing] + [pair for pair in attention if pair[1].flaky]
    test_counts: dict[str, int] = {}
    for job in run.jobs:
        for status, n in status_counts(job.results).items():
            test_counts[status] = test_counts.get(status, 0) + n
    reviewed = select(Review.comparison_id)
    needing = session.scalar(
        select(func.count(Comparison.id)).where(
            Comparison.run_id == run.id,
            Comparison.status.in_(["changed", "new", "missing", "size_mismatch"]),
            Comparison.id.not_in(reviewed),
        )
    )
    total = session.scalar(select(func.count(Comparison.id)).where(Comparison.run_id == run.id))
    failed_jobs = [j for j in run.jobs if j.status in ("failed", "canceled", "skipped")]
    return {
        "run": run,
        "artifacts": artifacts,
        "stages": _stages(run.jobs),
        "tests": tests[:MAX_TESTS_SHOWN],
        "tests_total": len(tests),
        "test_counts": test_counts,
        "comparisons_total": total or 0,
        "comparisons_waiting": needing or 0,
        "can_cancel": actor.may(*STEERING) and run.status not in FINAL_RUN,
        "can_rerun": actor.may(*STEERING)
        and run.status in FINAL_RUN
        and bool(failed_jobs)
        and bool(run.jobs),
    }


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: int, actor: PageActor) -> Response:
    with service_of(request).db.read_session() as session:
        context = run_context(session, _id(run_id), actor)
    fragment = request.headers.get("hx-target") == "run-live"
    return render(request, "_run_live.html.j2" if fragment else "run.html.j2", context)


def _id(value: int) -> int:
    if not 1 <= value <= 2**63 - 1:
        raise HTTPException(404, f"no such id {value}")
    return value


@router.post("/runs/{run_id}/cancel")
def cancel(request: Request, run_id: int, actor: PageActor) -> Response:
    refuse_unless(actor, *STEERING)
    ctx = service_of(request)
    with ctx.db.session() as session:
        try:
            run = service.get_run(session, _id(run_id))
            service.request_cancel(session, run)
        except service.RunNotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        except service.RunError as exc:
            raise HTTPException(409, str(exc)) from exc
        session.commit()
    ctx.dispatcher.advance(run_id)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/runs/{run_id}/rerun")
def rerun(request: Request, run_id: int, actor: PageActor) -> Response:
    refuse_unless(actor, *STEERING)
    ctx = service_of(request)
    with ctx.db.session() as session:
        try:
            run = service.get_run(session, _id(run_id))
            new = service.rerun_failed(session, run, created_by=actor.label)
        except service.RunNotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        except service.RunError as exc:
            raise HTTPException(409, str(exc)) from exc
        session.commit()
        new_id = new.id
    ctx.dispatcher.plan(new_id)
    return RedirectResponse(f"/runs/{new_id}", status_code=303)


def _stored_log(ctx: Context, session: Any, job: Job) -> list[str] | None:
    row = session.scalar(
        select(Artifact).where(Artifact.job_id == job.id, Artifact.kind == "log").order_by(Artifact.id.desc())
    )
    if row is None:
        return None
    try:
        chunks, size = [], 0
        for chunk in ctx.store.open(row.store_key):
            chunks.append(chunk)
            size += len(chunk)
            if size > LOG_MAX_BYTES:
                break
    except ArtifactError:
        return None
    return b"".join(chunks).decode("utf-8", "replace").splitlines()


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int, actor: PageActor) -> Response:
    ctx = service_of(request)
    with ctx.db.read_session() as session:
        job = session.get(Job, _id(job_id))
        if job is None:
            raise HTTPException(404, f"no job with id {job_id}")
        run = service.get_run(session, job.run_id)
        stored = _stored_log(ctx, session, job) if job.status in FINAL_JOB else None
        artifacts = list(
            session.scalars(select(Artifact).where(Artifact.job_id == job.id).order_by(Artifact.id))
        )
    lines = None
    skipped = 0
    if stored is not None:
        skipped = max(0, len(stored) - LOG_TAIL_LINES)
        lines = [
            (skipped + i, to_html(line), looks_like_error(line)) for i, line in enumerate(stored[skipped:])
        ]
    rows = result_rows(job.results)
    return render(
        request,
        "job.html.j2",
        {
            "run": run,
            "job": job,
            "lines": lines,
            "skipped": skipped,
            "live": lines is None,
            "artifacts": artifacts,
            "tests": rows,
            "test_counts": counts(rows),
        },
    )
