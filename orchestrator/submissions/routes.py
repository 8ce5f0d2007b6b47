"""Rollout routes under /api/releases/{id}: validate, check the role, call one function, answer
with the release as it stands (the store's state read back included)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from orchestrator.actors import Actor, require_actor
from orchestrator.api.deps import ContextDep, Id
from orchestrator.releases import service
from orchestrator.submissions import rollouts

# Mounted under /api/releases by orchestrator.releases.routes.
router = APIRouter(tags=["releases"])
ReleaseManager = Annotated[Actor, Depends(require_actor("release_manager"))]
Platform = Literal["android", "ios"]


class RolloutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: float = Field(gt=0, le=100, description="The percentage of users (Google Play staged rollout).")
    platform: Platform | None = Field(
        default=None, description="Default: every platform that is rolling out."
    )


class RolloutActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Platform | None = Field(
        default=None, description="Default: every platform the action applies to."
    )


class SettleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["submitted", "failed"]
    comment: str = Field(min_length=1, max_length=2000, description="What the store shows (audited).")


class RolloutAnswer(BaseModel):
    release_id: int
    errors: list[str] = Field(
        description="Store errors by platform, classified, with the store's own message."
    )
    release: dict[str, Any]


def _answer(ctx, release_id: int, errors: list[str]) -> RolloutAnswer:  # type: ignore[no-untyped-def]
    from orchestrator.releases.routes import _out

    with ctx.db.read_session() as session:
        release = service.get_release(session, release_id)
        shown = _out(session, release, with_checklist=False).model_dump(mode="json")
    return RolloutAnswer(release_id=release_id, errors=errors, release=shown)


def _act(
    ctx, release_id: int, actor: Actor, verb: str, platform: str | None, to: float | None = None
) -> RolloutAnswer:  # type: ignore[no-untyped-def]
    try:
        errors = rollouts.act(ctx, release_id, actor, verb, platform=platform, percent_to=to)
    except service.ReleaseError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if errors:
        # The store refused (its message and category kept): a state conflict for the caller.
        raise HTTPException(409, "the store refused: " + "; ".join(errors))
    return _answer(ctx, release_id, errors)


@router.post("/{release_id}/rollout", response_model=RolloutAnswer)
def rollout(release_id: Id, body: RolloutIn, ctx: ContextDep, actor: ReleaseManager) -> RolloutAnswer:
    """Move a Google Play staged rollout to `to` percent (100 completes it); role release_manager."""
    return _act(ctx, release_id, actor, "rollout", body.platform, body.to)


@router.post("/{release_id}/halt", response_model=RolloutAnswer)
def halt(release_id: Id, body: RolloutActionIn, ctx: ContextDep, actor: ReleaseManager) -> RolloutAnswer:
    """Halt the Play rollout / pause the App Store phased release; the plan stops advancing it."""
    return _act(ctx, release_id, actor, "halt", body.platform)


@router.post("/{release_id}/resume", response_model=RolloutAnswer)
def resume(release_id: Id, body: RolloutActionIn, ctx: ContextDep, actor: ReleaseManager) -> RolloutAnswer:
    """Resume a halted rollout at the fraction it had (Play) / resume the phased release."""
    return _act(ctx, release_id, actor, "resume", body.platform)


@router.post("/{release_id}/complete", response_model=RolloutAnswer)
def complete(release_id: Id, body: RolloutActionIn, ctx: ContextDep, actor: ReleaseManager) -> RolloutAnswer:
    """Release to every user (Play: completed; App Store: phased release COMPLETE)."""
    return _act(ctx, release_id, actor, "complete", body.platform)


@router.post("/{release_id}/submissions/{platform}/settle", response_model=RolloutAnswer)
def settle(
    release_id: Id, platform: Platform, body: SettleIn, ctx: ContextDep, actor: ReleaseManager
) -> RolloutAnswer:
    """Settle a submission whose outcome is unknown (Instep never re-runs a submission lane by
    itself): `submitted` if the store has it, `failed` if not; role release_manager."""
    from orchestrator.submissions.service import settle_unknown

    try:
        settle_unknown(ctx, release_id, platform, actor, body.outcome, body.comment)
    except service.ReleaseError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return _answer(ctx, release_id, [])
