"""Run, job log and artifact routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Annotated
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import PlainTextResponse, StreamingResponse
from sqlalchemy import select

from orchestrator import projects as project_service
from orchestrator import runs as service
from orchestrator.actors import Viewer
from orchestrator.api.deps import BeforeId, ContextDep, Developer, Id, Reader, ReadSessionDep, SessionDep
from orchestrator.api.schemas import ArtifactOut, EventOut, JobOut, RunDetail, RunOut, RunPage, TriggerIn
from orchestrator.artifacts import ArtifactError
from orchestrator.context import Context
from orchestrator.db.models import Artifact, Job, Run
from orchestrator.logbus import LogEnd, LogLine, follow
from orchestrator.transitions import FINAL_JOB
from orchestrator.workspaces import WorkspaceError, fetch_ref

router = APIRouter(prefix="/api", tags=["runs"])


def run_out(run: Run) -> RunOut:
    return RunOut(
        id=run.id,
        number=run.number,
        project=run.project.name,
        trigger=run.trigger,
        ref=run.ref,
        sha=run.sha,
        message=run.message,
        status=run.status,
        reason=run.reason,
        cancel_requested=run.cancel_requested,
        created_by=run.created_by,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )


def job_out(job: Job) -> JobOut:
    return JobOut.model_validate(job, from_attributes=True)


def run_detail(session, run: Run) -> RunDetail:  # type: ignore[no-untyped-def]
    artifacts = session.scalars(select(Artifact).where(Artifact.run_id == run.id).order_by(Artifact.id)).all()
    return RunDetail(
        **run_out(run).model_dump(),
        jobs=[job_out(j) for j in run.jobs],
        artifacts=[
            ArtifactOut(
                id=a.id,
                job_id=a.job_id,
                name=a.name,
                kind=a.kind,
                size=a.size,
                sha256=a.sha256,
                content_type=a.content_type,
            )
            for a in artifacts
        ],
        events=[
            EventOut(
                subject=e.subject, from_status=e.from_status, to_status=e.to_status, reason=e.reason, at=e.at
            )
            for e in service.events_of(session, run.id)
        ],
    )


def _get_run(session, run_id: int) -> Run:  # type: ignore[no-untyped-def]
    try:
        return service.get_run(session, run_id)
    except service.RunNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/runs", response_model=RunPage)
def list_runs(
    session: ReadSessionDep,
    _: Reader,
    project: str | None = None,
    status: str | None = None,
    ref: str | None = None,
    before: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> RunPage:
    proj = None
    if project is not None:
        try:
            proj = project_service.get_project(session, project)
        except project_service.ProjectNotFound as exc:
            raise HTTPException(404, str(exc)) from exc
    runs = service.list_runs(session, project=proj, status=status, ref=ref, before_id=before, limit=limit)
    return RunPage(runs=[run_out(r) for r in runs], next_before=runs[-1].id if len(runs) == limit else None)


@router.post("/runs", status_code=201, response_model=RunOut)
def trigger_run(body: TriggerIn, session: SessionDep, ctx: ContextDep, token: Developer) -> RunOut:
    try:
        project = project_service.get_project(session, body.project)
    except project_service.ProjectNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    sha = body.sha
    if sha is None:
        # Resolving a branch needs the repository; a manual trigger may wait for one fetch.
        try:
            sha = fetch_ref(
                ctx.settings.mirrors_dir, project.id, project_service.clone_url(project, ctx.sealer), body.ref
            )
        except WorkspaceError as exc:
            raise HTTPException(422, str(exc)) from exc
    ref = body.ref if body.ref.startswith("refs/") else f"refs/heads/{body.ref}"
    run = service.create_run(
        session, project, trigger="api", ref=ref, sha=sha, created_by=f"token:{token.name}"
    )
    session.commit()
    ctx.dispatcher.plan(run.id)
    return run_out(run)


@router.get("/runs/{run_id}", response_model=RunDetail)
def get_run(run_id: Id, session: ReadSessionDep, _: Reader) -> RunDetail:
    return run_detail(session, _get_run(session, run_id))


@router.post("/runs/{run_id}/cancel", response_model=RunOut)
def cancel_run(run_id: Id, session: SessionDep, ctx: ContextDep, _: Developer) -> RunOut:
    run = _get_run(session, run_id)
    try:
        service.request_cancel(session, run)
    except service.RunError as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()
    ctx.dispatcher.advance(run.id)
    return run_out(run)


@router.post("/runs/{run_id}/rerun", status_code=201, response_model=RunOut)
def rerun(run_id: Id, session: SessionDep, ctx: ContextDep, token: Developer) -> RunOut:
    run = _get_run(session, run_id)
    try:
        new = service.rerun_failed(session, run, created_by=f"token:{token.name}")
    except service.RunError as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()
    ctx.dispatcher.plan(new.id)
    return run_out(service.get_run(session, new.id))


def _job(session, job_id: int) -> Job:  # type: ignore[no-untyped-def]
    job = session.get(Job, job_id)
    if job is None:
        raise HTTPException(404, f"no job with id {job_id}")
    return job


def _stored_log(session, ctx: Context, job: Job) -> Iterator[bytes] | None:  # type: ignore[no-untyped-def]
    row = session.scalar(
        select(Artifact).where(Artifact.job_id == job.id, Artifact.kind == "log").order_by(Artifact.id.desc())
    )
    if row is None:
        return None
    try:
        return ctx.store.open(row.store_key)
    except ArtifactError:
        return None


@router.get("/jobs/{job_id}/log", response_class=PlainTextResponse)
def job_log(job_id: Id, session: ReadSessionDep, ctx: ContextDep, _: Viewer):  # type: ignore[no-untyped-def]
    job = _job(session, job_id)
    if job.status in FINAL_JOB:
        stored = _stored_log(session, ctx, job)
        if stored is not None:
            return StreamingResponse(stored, media_type="text/plain; charset=utf-8")
    lines, _done = ctx.logs.read(job.id, 0, limit=1_000_000)
    return PlainTextResponse("".join(line + "\n" for line in lines))


@router.get("/jobs/{job_id}/log/stream")
def job_log_stream(
    job_id: Id,
    ctx: ContextDep,
    _: Reader,
    last_event_id: Annotated[int | None, Header()] = None,
    max_seconds: Annotated[float, Query(gt=0, le=24 * 3600)] = 3600,
) -> StreamingResponse:
    """Server-sent events: one `data:` per log line with its index as `id`, then `event: end`."""
    with ctx.db.read_session() as session:
        _job(session, job_id)

    def job_over() -> str | None:
        with ctx.db.read_session() as s:
            job = s.get(Job, job_id)
            status = job.status if job else "gone"
        return status if status in FINAL_JOB or status in ("waiting", "gone") else None

    async def events() -> AsyncIterator[str]:
        start = 0 if last_event_id is None else last_event_id + 1
        ended = partial(to_thread.run_sync, job_over)
        async for item in follow(ctx.logs, job_id, start, ended, max_seconds=max_seconds):
            if isinstance(item, LogLine):
                yield f"id: {item.index}\ndata: {item.text}\n\n"
            elif isinstance(item, LogEnd):
                yield f"event: end\ndata: {item.why}\n\n"
            else:  # proxies drop idle streams
                yield ": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def attachment_disposition(name: str) -> str:
    """`Content-Disposition` for a download of the artifact `name`: an ASCII fallback plus the
    exact UTF-8 file name (RFC 6266), so any name can be sent as a header."""
    filename = name.rsplit("/", 1)[-1]
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/artifacts/{artifact_id}")
def download_artifact(
    artifact_id: Id, session: ReadSessionDep, ctx: ContextDep, _: Viewer
) -> StreamingResponse:
    row = session.get(Artifact, artifact_id)
    if row is None:
        raise HTTPException(404, f"no artifact with id {artifact_id}")
    try:
        body = ctx.store.open(row.store_key)
    except ArtifactError as exc:
        raise HTTPException(404, str(exc)) from exc
    return StreamingResponse(
        body,
        media_type=row.content_type,
        headers={
            "Content-Disposition": attachment_disposition(row.name),
            "Content-Length": str(row.size),
        },
    )
