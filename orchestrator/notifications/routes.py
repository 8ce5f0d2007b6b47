"""Notification routes: endpoints and the commit-status setting of a project, dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from sqlalchemy.orm import Session

from orchestrator.actors import Actor, require_actor
from orchestrator.api.deps import BeforeId, ContextDep, Id, ReadSessionDep, SessionDep
from orchestrator.db.models import Project
from orchestrator.notifications import service
from orchestrator.notifications.models import CommitStatusSetting, NotificationDelivery, NotificationEndpoint
from orchestrator.notifications.network import Resolver, system_resolver
from orchestrator.notifications.schemas import (
    CommitStatusIn,
    CommitStatusOut,
    DeliveryOut,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
)
from orchestrator.projects import ProjectNotFound, get_project

router = APIRouter(tags=["notifications"])
Reader = Annotated[Actor, Depends(require_actor())]
Configurer = Annotated[Actor, Depends(require_actor("release_manager"))]
Admin = Annotated[Actor, Depends(require_actor("admin"))]
RESOLVER_EXTRA = "notifications.resolver"


def _project(session: Session, name: str) -> Project:
    try:
        return get_project(session, name)
    except ProjectNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


def _resolver(ctx: ContextDep) -> Resolver:
    return ctx.extras.get(RESOLVER_EXTRA, system_resolver)


def endpoint_out(e: NotificationEndpoint) -> EndpointOut:
    return EndpointOut(
        id=e.id,
        kind=e.kind,
        url=e.display_url,
        events=list(e.events),
        created_by=e.created_by,
        created_at=e.created_at,
    )


def status_out(s: CommitStatusSetting, project: Project) -> CommitStatusOut:
    return CommitStatusOut(
        provider=s.provider,
        api_url=s.api_url,
        repository=s.repository or project.match_name,
        updated_at=s.updated_at,
    )


def delivery_out(d: NotificationDelivery, project: str) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        delivery_id=d.delivery_id,
        project=project,
        channel=d.channel,
        event=d.event,
        state=d.state,
        attempts=d.attempts,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=d.created_at,
        finished_at=d.finished_at,
        next_attempt_at=d.next_attempt_at,
    )


@router.post("/api/projects/{name}/notifications", status_code=201, response_model=EndpointCreated)
def add_endpoint(
    name: str,
    body: EndpointIn,
    session: SessionDep,
    ctx: ContextDep,
    actor: Configurer,
    resolver: Annotated[Resolver, Depends(_resolver)],
) -> EndpointCreated:
    project = _project(session, name)
    try:
        endpoint, secret = service.add_endpoint(
            session,
            project,
            sealer=ctx.sealer,
            kind=body.kind,
            url=body.url,
            secret=body.secret,
            events=body.events,
            created_by=actor.label,
            allow_private=ctx.settings.allow_private_webhooks,
            resolver=resolver,
        )
    except service.NotificationError as exc:
        raise HTTPException(422, str(exc)) from exc
    session.commit()
    return EndpointCreated(**endpoint_out(endpoint).model_dump(), secret=secret)


@router.get("/api/projects/{name}/notifications", response_model=list[EndpointOut])
def list_endpoints(name: str, session: ReadSessionDep, _: Reader) -> list[EndpointOut]:
    return [endpoint_out(e) for e in service.list_endpoints(session, _project(session, name))]


@router.delete("/api/projects/{name}/notifications/{endpoint_id}", status_code=204)
def remove_endpoint(name: str, endpoint_id: Id, session: SessionDep, _: Configurer) -> Response:
    try:
        service.remove_endpoint(session, _project(session, name), endpoint_id)
    except service.EndpointNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    session.commit()
    return Response(status_code=204)


@router.put("/api/projects/{name}/commit-status", response_model=CommitStatusOut)
def set_commit_status(
    name: str,
    body: CommitStatusIn,
    session: SessionDep,
    ctx: ContextDep,
    _: Admin,
    resolver: Annotated[Resolver, Depends(_resolver)],
) -> CommitStatusOut:
    project = _project(session, name)
    try:
        setting = service.set_commit_status(
            session,
            project,
            sealer=ctx.sealer,
            provider=body.provider,
            token=body.token,
            api_url=body.api_url,
            repository=body.repository,
            allow_private=ctx.settings.allow_private_webhooks,
            resolver=resolver,
        )
    except service.NotificationError as exc:
        raise HTTPException(422, str(exc)) from exc
    session.commit()
    return status_out(setting, project)


@router.get("/api/projects/{name}/commit-status", response_model=CommitStatusOut)
def get_commit_status(name: str, session: ReadSessionDep, _: Reader) -> CommitStatusOut:
    project = _project(session, name)
    setting = service.commit_status_of(session, project)
    if setting is None:
        raise HTTPException(404, f"project {name} does not report commit statuses; PUT a provider and token")
    return status_out(setting, project)


@router.delete("/api/projects/{name}/commit-status", status_code=204)
def remove_commit_status(name: str, session: SessionDep, _: Admin) -> Response:
    try:
        service.remove_commit_status(session, _project(session, name))
    except service.NotificationError as exc:
        raise HTTPException(404, str(exc)) from exc
    session.commit()
    return Response(status_code=204)


@router.get("/api/notifications/dead-letters", response_model=list[DeliveryOut])
def dead_letters(
    session: ReadSessionDep,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    before_id: BeforeId = None,
) -> list[DeliveryOut]:
    rows = service.dead_letters(session, before_id=before_id, limit=limit)
    names = service.project_names(session, {d.project_id for d in rows})
    return [delivery_out(d, names[d.project_id]) for d in rows]


@router.post("/api/notifications/dead-letters/{delivery_id}/retry", response_model=DeliveryOut)
def retry_dead_letter(delivery_id: Id, session: SessionDep, _: Admin) -> DeliveryOut:
    try:
        delivery = service.retry_dead_letter(session, delivery_id)
    except service.DeliveryNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except service.DeliveryConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()
    return delivery_out(delivery, service.project_names(session, {delivery.project_id})[delivery.project_id])
