"""Release routes under /api/releases: validate, check the role, call one flow, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.actors import Actor, require_actor
from orchestrator.api.deps import MAX_ID, BeforeId, ContextDep, Id, ReadSessionDep, SessionDep
from orchestrator.db.models import Project, utcnow
from orchestrator.releases import flows, service, settlement
from orchestrator.releases.models import Release
from orchestrator.submissions import ledger_rows

router = APIRouter(prefix="/api/releases", tags=["releases"])
Reader = Annotated[Actor, Depends(require_actor())]
ReleaseManager = Annotated[Actor, Depends(require_actor("release_manager"))]
Approver = Annotated[Actor, Depends(require_actor("qa", "release_manager"))]


class CutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: str = Field(min_length=1, max_length=100)
    run_id: int = Field(ge=1, le=MAX_ID)
    version: str = Field(min_length=1, max_length=100)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(default="", max_length=2000)
    role: Literal["qa", "release_manager"] | None = Field(
        default=None, description="The role to act in (an admin override names the role it overrides)."
    )
    override_reason: str | None = Field(default=None, max_length=2000)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=2000)


class CheckOut(BaseModel):
    check: str
    title: str
    state: Literal["passed", "failed", "pending"]
    reason: str


class PlatformOut(BaseModel):
    platform: str
    state: str
    reason: str | None
    build_number: int | None
    candidate: list[dict[str, Any]]
    gate: Literal["passed", "failed", "pending"] | None = None
    checklist: list[CheckOut] = []
    store: dict[str, Any] | None = Field(
        default=None,
        description="The store's state as last read: review, rollout, fraction, day, its own word.",
    )


class ApprovalOut(BaseModel):
    id: int
    role: str
    person: str
    via: str
    decision: str
    comment: str
    override: bool
    override_reason: str | None
    at: datetime


class ReleaseOut(BaseModel):
    id: int
    project: str
    version: str
    run_id: int
    state: str
    reason: str | None
    created_by: str
    created_at: datetime
    platforms: list[PlatformOut]


class ReleaseDetail(ReleaseOut):
    approvals: list[ApprovalOut]
    store_actions: list[dict[str, Any]] = Field(
        default=[], description="The submission ledger: each store action, its state and the store's answer."
    )


class ReleasePage(BaseModel):
    releases: list[ReleaseOut]
    next_before: int | None


class AuditOut(BaseModel):
    id: int
    person: str
    role: str
    action: str
    subject: str
    details: dict[str, Any]
    at: datetime


def _raise(exc: service.ReleaseError) -> HTTPException:
    return HTTPException(exc.status, str(exc))


def _out(session, release: Release, with_checklist: bool = False) -> ReleaseDetail:  # type: ignore[no-untyped-def]
    project = session.get(Project, release.project_id)
    lists = settlement.checklist_json(session, release, utcnow()) if with_checklist else {}
    stores = ledger_rows.store_view(session, [p.id for p in release.platforms])
    platforms = []
    for p in release.platforms:
        gate = lists.get(p.platform)
        platforms.append(
            PlatformOut(
                platform=p.platform,
                state=p.state,
                reason=p.reason,
                build_number=p.build_number,
                candidate=p.candidate,
                gate=gate["state"] if gate else None,
                checklist=[CheckOut(**line) for line in gate["checks"]] if gate else [],
                store=stores.get(p.id),
            )
        )
    approvals = service.approvals_of(session, release.id) if with_checklist else []
    return ReleaseDetail(
        id=release.id,
        project=project.name if project else "?",
        version=release.version,
        run_id=release.run_id,
        state=release.state,
        reason=release.reason,
        created_by=release.created_by,
        created_at=release.created_at,
        platforms=platforms,
        store_actions=ledger_rows.actions_view(session, release.id) if with_checklist else [],
        approvals=[
            ApprovalOut(
                id=a.id,
                role=a.role,
                person=a.person,
                via=a.via,
                decision=a.decision,
                comment=a.comment,
                override=a.override,
                override_reason=a.override_reason,
                at=a.at,
            )
            for a in approvals
        ],
    )


def release_view(session, release: Release, *, with_checklist: bool = False) -> ReleaseDetail:  # type: ignore[no-untyped-def]
    """The release as the API answers it (with each platform's checklist when asked): the
    dashboard's release pages show the same."""
    return _out(session, release, with_checklist)


@router.post("", status_code=201, response_model=ReleaseDetail)
def cut_release(body: CutIn, session: SessionDep, ctx: ContextDep, actor: ReleaseManager) -> ReleaseDetail:
    """Cut `version` from a run whose pipeline has a `gate` stage (role release_manager)."""
    try:
        release, dispatches = flows.cut(
            ctx, session, run_id=body.run_id, version=body.version, who=actor, project=body.project
        )
    except service.ReleaseError as exc:
        raise _raise(exc) from exc
    session.commit()
    ctx.dispatcher.jobs(dispatches)
    return _out(session, release, with_checklist=True)


@router.get("", response_model=ReleasePage)
def list_releases(
    session: ReadSessionDep,
    _: Reader,
    project: str | None = None,
    state: str | None = None,
    before: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> ReleasePage:
    try:
        project_id = flows.project_id_of(session, project) if project is not None else None
    except service.ReleaseError as exc:
        raise _raise(exc) from exc
    rows = service.list_releases(session, project_id, state, before, limit)
    return ReleasePage(
        releases=[_out(session, r) for r in rows], next_before=rows[-1].id if len(rows) == limit else None
    )


@router.get("/{release_id}", response_model=ReleaseDetail)
def show_release(release_id: Id, session: ReadSessionDep, _: Reader) -> ReleaseDetail:
    """The release with each platform's gate checklist (check, state, reason) as of now."""
    try:
        release = service.get_release(session, release_id)
    except service.ReleaseError as exc:
        raise _raise(exc) from exc
    return _out(session, release, with_checklist=True)


def _decide(decision: str, release_id: int, body: DecisionIn, session, ctx, actor: Actor) -> ReleaseDetail:  # type: ignore[no-untyped-def]
    try:
        _row, dispatches = flows.decide(
            ctx,
            session,
            release_id,
            actor,
            decision,
            comment=body.comment,
            role=body.role,
            override_reason=body.override_reason,
        )
    except service.ReleaseError as exc:
        raise _raise(exc) from exc
    session.commit()
    ctx.dispatcher.jobs(dispatches)
    return _out(session, service.get_release(session, release_id), with_checklist=True)


@router.post("/{release_id}/approve", response_model=ReleaseDetail)
def approve(
    release_id: Id, body: DecisionIn, session: SessionDep, ctx: ContextDep, actor: Approver
) -> ReleaseDetail:
    """QA signs off (role qa) or a release manager approves (role release_manager); an admin
    only as an override with `override_reason`."""
    return _decide("approve", release_id, body, session, ctx, actor)


@router.post("/{release_id}/reject", response_model=ReleaseDetail)
def reject(
    release_id: Id, body: DecisionIn, session: SessionDep, ctx: ContextDep, actor: Approver
) -> ReleaseDetail:
    """Reject with a comment; the gate stays blocked until someone in that role approves again."""
    return _decide("reject", release_id, body, session, ctx, actor)


@router.post("/{release_id}/cancel", response_model=ReleaseDetail)
def cancel(
    release_id: Id, body: CancelIn, session: SessionDep, ctx: ContextDep, actor: ReleaseManager
) -> ReleaseDetail:
    try:
        release, dispatches = flows.cancel(ctx, session, release_id, actor, body.reason)
    except service.ReleaseError as exc:
        raise _raise(exc) from exc
    session.commit()
    ctx.dispatcher.jobs(dispatches)
    return _out(session, release, with_checklist=True)


@router.get("/{release_id}/audit", response_model=list[AuditOut])
def audit_trail(release_id: Id, session: ReadSessionDep, _: Reader) -> list[AuditOut]:
    """Everything anyone did to the release, oldest first (append-only)."""
    try:
        service.get_release(session, release_id)
    except service.ReleaseError as exc:
        raise _raise(exc) from exc
    return [
        AuditOut(
            id=e.id,
            person=e.person,
            role=e.role,
            action=e.action,
            subject=e.subject,
            details=e.details,
            at=e.at,
        )
        for e in service.audit_of(session, release_id)
    ]


def _include_rollouts() -> None:
    from orchestrator.submissions.routes import router as rollout_router

    router.include_router(rollout_router, prefix="")


_include_rollouts()
