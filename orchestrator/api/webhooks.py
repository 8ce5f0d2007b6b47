"""Webhook routes: GitHub, GitLab and Instep's own post-receive hook. They answer fast: verify,
record the delivery, queue a run; cloning and planning happen on a worker."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from orchestrator import projects as project_service
from orchestrator import runs as run_service
from orchestrator.api.deps import ContextDep, SessionDep
from orchestrator.webhooks import (
    MAX_PAYLOAD_BYTES,
    Ignored,
    Ping,
    PushNotice,
    WebhookError,
    parse_git,
    parse_github,
    parse_gitlab,
    repository_of,
)

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
_PARSERS = {"github": parse_github, "gitlab": parse_gitlab, "git": parse_git}


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
        raise HTTPException(413, f"payload is {declared} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PAYLOAD_BYTES:
            raise HTTPException(413, f"payload exceeds the limit of {MAX_PAYLOAD_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(
    status_code: int, status: str, reason: str | None = None, run_id: int | None = None
) -> JSONResponse:
    body = {"status": status, "reason": reason, "run_id": run_id}
    return JSONResponse(body, status_code=status_code)


@router.post("/{provider}", responses={401: {}, 404: {}, 413: {}})
async def receive(provider: str, request: Request, session: SessionDep, ctx: ContextDep) -> JSONResponse:
    parser = _PARSERS.get(provider)
    if parser is None:
        raise HTTPException(404, f"unknown webhook provider {provider!r} (expected github, gitlab or git)")
    body = await _body(request)
    # Database work runs in the thread pool so one slow commit never stalls other deliveries.
    return await run_in_threadpool(_handle, provider, dict(request.headers), body, session, ctx)


def _handle(provider: str, headers: dict[str, str], body: bytes, session: Session, ctx) -> JSONResponse:  # type: ignore[no-untyped-def]
    parser = _PARSERS[provider]
    try:
        repository = repository_of(provider, headers, body)
        project = project_service.find_by_match_name(session, repository)
        if project is None:
            raise HTTPException(404, f"no project matches repository {repository!r}")
        notice = parser(headers, body, project_service.webhook_secret(project, ctx.sealer))
    except WebhookError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if isinstance(notice, Ping):
        return _answer(200, "pong")
    if isinstance(notice, Ignored):
        return _answer(202, "ignored", notice.reason)
    assert isinstance(notice, PushNotice)
    if notice.deleted:
        return _answer(202, "ignored", f"{notice.ref} was deleted; nothing to build")
    try:
        run = run_service.create_run(
            session,
            project,
            trigger="push",
            ref=notice.ref,
            sha=notice.after,
            created_by=notice.pusher,
            delivery=(notice.provider, notice.delivery_id),
        )
    except run_service.DuplicateDelivery as exc:
        session.rollback()
        return _answer(200, "duplicate", f"delivery {notice.delivery_id} was already received", exc.run_id)
    session.commit()
    ctx.dispatcher.plan(run.id)
    return _answer(201, "queued", None, run.id)
