"""Web parity routes: record a web deployment or its rollback (role web_deployer, or a release
manager), list them, the parity board and can-i-ship. Validate, check the role, call one flow,
shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from orchestrator.actors import Actor, require_actor
from orchestrator.api.deps import BeforeId, ContextDep, ReadSessionDep, SessionDep
from orchestrator.parity import board as boards
from orchestrator.parity import flows, service
from orchestrator.parity.ranges import InvalidRange, parse_version

router = APIRouter(tags=["web parity"])
Reader = Annotated[Actor, Depends(require_actor())]
Deployer = Annotated[Actor, Depends(require_actor("web_deployer", "release_manager"))]
Name = Annotated[str, Field(min_length=1, max_length=100)]


def _version(value: str, what: str) -> str:
    try:
        parse_version(value, what)
    except InvalidRange as exc:
        raise ValueError(str(exc)) from None
    return value.strip()


class DeploymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: Name
    environment: Name = Field(description="e.g. production or staging")
    version: str = Field(min_length=1, max_length=100, description="the web release, e.g. 2026.12.1")
    api_version: str | None = Field(default=None, max_length=100, description="e.g. 2025-11")
    commit: str | None = Field(default=None, max_length=64)
    contracts: dict[str, str] = Field(default_factory=dict, description="name -> version or hash")
    features: list[str] = Field(default_factory=list, description="feature flag names")
    deployed_at: datetime | None = Field(default=None, description="when it went live (default: now)")

    @field_validator("version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        return _version(value, "version")

    @field_validator("api_version")
    @classmethod
    def _check_api_version(cls, value: str | None) -> str | None:
        return None if value is None else _version(value, "api_version")


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: Name
    environment: Name
    version: str | None = Field(default=None, max_length=100, description="the version being rolled back")
    reason: str = Field(default="", max_length=500)


class DeploymentOut(BaseModel):
    id: int
    environment: str
    version: str
    commit: str | None
    api_version: str | None
    contracts: dict[str, Any]
    features: list[str]
    deployed_at: datetime
    status: Literal["deployed", "rolled_back"]
    recorded_by: str
    rolled_back_at: datetime | None
    rolled_back_reason: str | None


class HaltOut(BaseModel):
    release_id: int
    version: str
    platform: str
    reason: str


class ChangeOut(BaseModel):
    deployment: DeploymentOut
    current: DeploymentOut | None
    rolled_back_to: str | None
    halted: list[HaltOut]


class DeploymentPage(BaseModel):
    deployments: list[DeploymentOut]
    next_before: int | None


def _problem(exc: service.ParityError) -> HTTPException:
    if isinstance(exc, service.InvalidDeployment):
        detail = [{"loc": ["body", *exc.field.split(".")], "msg": str(exc), "type": "value_error"}]
        return HTTPException(422, detail)
    return HTTPException(exc.status, str(exc))


def _change(session, change: flows.Change) -> ChangeOut:  # type: ignore[no-untyped-def]
    current = service.current_deployment(session, change.deployment.project_id, change.deployment.environment)
    return ChangeOut(
        deployment=DeploymentOut(**service.to_json(change.deployment)),
        current=DeploymentOut(**service.to_json(current)) if current is not None else None,
        rolled_back_to=change.rolled_back_to,
        halted=[
            HaltOut(release_id=h.release_id, version=h.version, platform=h.platform, reason=h.reason)
            for h in change.halts
        ],
    )


@router.post("/api/web-deployments", status_code=201, response_model=ChangeOut)
def record_deployment(body: DeploymentIn, session: SessionDep, ctx: ContextDep, actor: Deployer) -> ChangeOut:
    """Record that the web deployed `version` to `environment` (it replaces the previous one
    there; re-deploying an older version rolls the newer one back). Waiting release gates are
    re-evaluated; shipped releases the web no longer serves are halted."""
    data = service.DeploymentIn(
        environment=body.environment,
        version=body.version,
        api_version=body.api_version,
        commit=body.commit,
        contracts=body.contracts,
        features=body.features,
        deployed_at=body.deployed_at,
    )
    try:
        change = flows.record(ctx, session, body.project, data, actor)
    except service.ParityError as exc:
        raise _problem(exc) from exc
    out = _change(session, change)
    session.commit()
    ctx.dispatcher.jobs(change.dispatches)
    flows.halt_in_stores(ctx, change.halts)
    return out


@router.post("/api/web-deployments/rollback", response_model=ChangeOut)
def record_rollback(body: RollbackIn, session: SessionDep, ctx: ContextDep, actor: Deployer) -> ChangeOut:
    """Mark the current deployment of `environment` rolled back; the one before it is current
    again, and shipped releases it no longer serves are halted (`halted: web rolled back to X`)."""
    try:
        change = flows.roll_back(
            ctx, session, body.project, body.environment, actor, version=body.version, reason=body.reason
        )
    except service.ParityError as exc:
        raise _problem(exc) from exc
    out = _change(session, change)
    session.commit()
    ctx.dispatcher.jobs(change.dispatches)
    flows.halt_in_stores(ctx, change.halts)
    return out


@router.get("/api/web-deployments", response_model=DeploymentPage)
def list_deployments(
    session: ReadSessionDep,
    _: Reader,
    project: Annotated[str, Query(min_length=1, max_length=100)],
    environment: str | None = None,
    before: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> DeploymentPage:
    """Recorded web deployments, newest first (history, rolled back ones included)."""
    try:
        owner = service.project_named(session, project)
    except service.ParityError as exc:
        raise _problem(exc) from exc
    rows = service.history(session, owner.id, environment, before, limit)
    return DeploymentPage(
        deployments=[DeploymentOut(**service.to_json(r)) for r in rows],
        next_before=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/api/projects/{name}/parity")
def parity_board(name: str, session: ReadSessionDep, _: Reader) -> dict[str, Any]:
    """Per environment: the web version and API version, the latest iOS and Android releases
    with their state, their parity verdict and the drift."""
    try:
        return boards.board(session, name)
    except service.ParityError as exc:
        raise _problem(exc) from exc


@router.get("/api/projects/{name}/can-i-ship")
def can_i_ship(
    name: str,
    session: ReadSessionDep,
    ctx: ContextDep,
    _: Reader,
    version: Annotated[str, Query(min_length=1, max_length=100)],
    platform: Literal["ios", "android"] | None = None,
) -> dict[str, Any]:
    """The parity check for `version` before a release exists: `ok` with the reasons."""
    try:
        return boards.can_i_ship(ctx, session, name, version, platform)
    except service.ParityError as exc:
        if isinstance(exc, service.InvalidDeployment):
            raise HTTPException(
                422, [{"loc": ["query", exc.field], "msg": str(exc), "type": "value_error"}]
            ) from exc
        raise _problem(exc) from exc
