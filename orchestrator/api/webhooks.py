"""Webhook routes: GitHub, GitLab and Instep's own post-receive hook. They answer fast: address
the delivery without decoding it, find the project, verify, decode once, record the delivery and
queue a run; cloning and planning happen on a worker.

Refusals: 400 malformed (names the field or header), 401 bad or missing signature *or* no project
matching the repository (the two are answered identically, so registration cannot be probed),
404 unknown provider, 413 over 25 MB. A redelivery answers 200 `duplicate`, or 202 `requeued`
when its run never started planning (its plan is sent again)."""

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
    PROVIDERS,
    DeploymentNotice,
    Ignored,
    Ping,
    Provider,
    PushNotice,
    WebhookError,
    address,
    open_delivery,
)

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


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
    return b"".join(chunks)  # one chunk is returned as is, not copied


def _answer(
    status_code: int, status: str, reason: str | None = None, run_id: int | None = None
) -> JSONResponse:
    body = {"status": status, "reason": reason, "run_id": run_id}
    return JSONResponse(body, status_code=status_code)


@router.post(
    "/{provider}",
    responses={
        400: {"description": "Malformed delivery; the detail names the field or header."},
        401: {
            "description": "Missing or wrong signature/token, or no project matches the repository "
            "(answered identically)."
        },
        404: {"description": "Unknown provider."},
        413: {"description": "Body over 25 MB."},
    },
)
async def receive(provider: str, request: Request, session: SessionDep, ctx: ContextDep) -> JSONResponse:
    source = PROVIDERS.get(provider)
    if source is None:
        raise HTTPException(404, f"unknown webhook provider {provider!r} (expected {', '.join(PROVIDERS)})")
    body = await _body(request)
    # Database work runs in the thread pool so one slow commit never stalls other deliveries.
    return await run_in_threadpool(_handle, source, dict(request.headers), body, session, ctx)


def _handle(source: Provider, headers: dict[str, str], body: bytes, session: Session, ctx) -> JSONResponse:  # type: ignore[no-untyped-def]
    try:
        addressed = address(source, headers, body)
        project = project_service.find_by_match_name(
            session, addressed.repository
        ) or project_service.find_by_web_repo(session, addressed.repository)
        secret = None if project is None else project_service.webhook_secret(project, ctx.sealer)
        notice = open_delivery(addressed, headers, body, secret)
    except WebhookError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if isinstance(notice, Ping):
        return _answer(200, "pong")
    if isinstance(notice, Ignored):
        return _answer(202, "ignored", notice.reason)
    if isinstance(notice, DeploymentNotice):
        assert project is not None
        return _deployment_status(session, ctx, project, notice)
    assert isinstance(notice, PushNotice) and project is not None
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
        if exc.replan and exc.run_id is not None:
            # Its run never started planning (the plan message was lost): send it again.
            session.commit()
            ctx.dispatcher.plan(exc.run_id)
            return _answer(
                202,
                "requeued",
                f"delivery {notice.delivery_id} was already received; its run had not started, "
                "so it was queued again",
                exc.run_id,
            )
        session.rollback()
        return _answer(200, "duplicate", f"delivery {notice.delivery_id} was already received", exc.run_id)
    session.commit()
    ctx.dispatcher.plan(run.id)
    return _answer(201, "queued", None, run.id)


def _deployment_status(session: Session, ctx, project, notice: DeploymentNotice) -> JSONResponse:  # type: ignore[no-untyped-def]
    """A web deployment (or its rollback) reported by the project's web repository."""
    from orchestrator.parity.service import InvalidDeployment
    from orchestrator.parity.webhook import apply_deployment_status

    try:
        answer = apply_deployment_status(ctx, session, project, notice)
    except InvalidDeployment as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from exc
    session.commit()
    ctx.dispatcher.jobs(list(answer.dispatches))
    if answer.halts:
        from orchestrator.parity.flows import halt_in_stores

        halt_in_stores(ctx, answer.halts)
    return _answer(answer.status_code, answer.status, answer.reason)
