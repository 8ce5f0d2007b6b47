"""Screenshot comparison and review routes: QA approves (promoting to the branch baseline) or
rejects, one comparison or a whole run at once."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from orchestrator import reviews as service
from orchestrator.actors import Viewer
from orchestrator.api.deps import ContextDep, Id, Reader, ReadSessionDep, SessionDep, require
from orchestrator.artifacts import ArtifactError
from orchestrator.baselines import BlobAdapter, repository
from orchestrator.db.models import ApiToken, Comparison, Project, Review, Run
from screenshots.baselines import BaselineKey, InvalidName

router = APIRouter(prefix="/api", tags=["screenshots"])
QA = Annotated[ApiToken, Depends(require("qa"))]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approved", "rejected"]
    comment: str = Field(default="", max_length=2000)


class ReviewOut(BaseModel):
    id: int
    decision: str
    reviewer: str
    comment: str
    baseline_version: int | None


class ComparisonOut(BaseModel):
    id: int
    run_id: int
    job_id: int
    branch: str
    platform: str
    name: str
    status: str
    diff_pixels: int | None
    width: int | None
    height: int | None
    baseline_version: int | None
    changed_boxes: list[dict[str, int]] = Field(default_factory=list)
    images: dict[str, str] = Field(description="URLs of the baseline, candidate, diff and thumbnail images")
    reviews: list[ReviewOut]


class RunReviewOut(BaseModel):
    reviewed: list[int]
    refused: dict[int, str]


def _out(session, c: Comparison) -> ComparisonOut:  # type: ignore[no-untyped-def]
    rows = session.scalars(select(Review).where(Review.comparison_id == c.id).order_by(Review.id)).all()
    keys = {
        "baseline": c.baseline_key,
        "candidate": c.candidate_key,
        "diff": c.diff_key,
        "thumbnail": c.thumbnail_key,
    }
    return ComparisonOut(
        id=c.id,
        run_id=c.run_id,
        job_id=c.job_id,
        branch=c.branch,
        platform=c.platform,
        name=c.name,
        status=c.status,
        diff_pixels=c.diff_pixels,
        width=c.width,
        height=c.height,
        baseline_version=c.baseline_version,
        changed_boxes=list(c.details.get("changed_boxes") or []),
        images={k: f"/api/comparisons/{c.id}/images/{k}" for k, v in keys.items() if v},
        reviews=[
            ReviewOut(
                id=r.id,
                decision=r.decision,
                reviewer=r.reviewer,
                comment=r.comment,
                baseline_version=r.baseline_version,
            )
            for r in rows
        ],
    )


@router.get("/runs/{run_id}/comparisons", response_model=list[ComparisonOut])
def list_comparisons(run_id: Id, session: ReadSessionDep, _: Reader) -> list[ComparisonOut]:
    if session.get(Run, run_id) is None:
        raise HTTPException(404, f"no run with id {run_id}")
    rows = session.scalars(
        select(Comparison).where(Comparison.run_id == run_id).order_by(Comparison.id)
    ).all()
    return [_out(session, c) for c in rows]


@router.post("/comparisons/{comparison_id}/review", response_model=ComparisonOut)
def review_one(
    comparison_id: Id, body: ReviewIn, session: SessionDep, ctx: ContextDep, token: QA
) -> ComparisonOut:
    try:
        _row, dispatches = service.review(
            session, ctx.store, comparison_id, body.decision, f"token:{token.name}", body.comment
        )
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    except service.ReviewError as exc:
        raise HTTPException(409, str(exc)) from exc
    session.commit()
    ctx.dispatcher.jobs(dispatches)
    comparison = session.get(Comparison, comparison_id)
    assert comparison is not None
    return _out(session, comparison)


@router.post("/runs/{run_id}/review", response_model=RunReviewOut)
def review_run(run_id: Id, body: ReviewIn, session: SessionDep, ctx: ContextDep, token: QA) -> RunReviewOut:
    """Approve or reject every comparison of the run that still needs a decision."""
    if session.get(Run, run_id) is None:
        raise HTTPException(404, f"no run with id {run_id}")
    done: list[int] = []
    refused: dict[int, str] = {}
    dispatches = []
    for comparison in service.needing_review(session, run_id):
        try:
            _row, more = service.review(
                session, ctx.store, comparison.id, body.decision, f"token:{token.name}", body.comment
            )
        except service.ReviewError as exc:
            refused[comparison.id] = str(exc)
            continue
        done.append(comparison.id)
        dispatches += more
    session.commit()
    ctx.dispatcher.jobs(dispatches)
    return RunReviewOut(reviewed=done, refused=refused)


@router.get(
    "/comparisons/{comparison_id}/images/{kind}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def comparison_image(
    comparison_id: Id,
    kind: Literal["baseline", "candidate", "diff", "thumbnail"],
    session: ReadSessionDep,
    ctx: ContextDep,
    _: Viewer,
) -> Response:
    c = session.get(Comparison, comparison_id)
    if c is None:
        raise HTTPException(404, f"no comparison with id {comparison_id}")
    key = {
        "baseline": c.baseline_key,
        "candidate": c.candidate_key,
        "diff": c.diff_key,
        "thumbnail": c.thumbnail_key,
    }[kind]
    if key is None:
        raise HTTPException(404, f"comparison {comparison_id} ({c.status}) has no {kind} image")
    try:
        data = BlobAdapter(ctx.store).get(key)
    except KeyError as exc:
        raise HTTPException(
            404, f"the {kind} image of comparison {comparison_id} is missing from the store"
        ) from exc
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/projects/{name}/baselines/{device_profile}/{locale}/{screen}")
def baseline_history(
    name: str,
    device_profile: str,
    locale: str,
    screen: str,
    session: ReadSessionDep,
    ctx: ContextDep,
    _: Reader,
    branch: str | None = None,
    platform: str = "all",
) -> dict:
    """Every accepted version of one screen's baseline on a branch (newest last)."""
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise HTTPException(404, f"no project named {name!r}")
    try:
        key = BaselineKey(project.name, platform, device_profile, locale, screen.removesuffix(".png"))
        versions = repository(ctx.store, project.default_branch).history(
            key, branch or project.default_branch
        )
    except (InvalidName, ValueError) as exc:
        raise HTTPException(422, str(exc)) from exc
    except ArtifactError as exc:
        raise HTTPException(404, str(exc)) from exc
    return {
        "branch": branch or project.default_branch,
        "screen": key.screen_id,
        "versions": [
            {
                "version": v.version,
                "sha256": v.sha256,
                "approved_by": v.approved_by,
                "run_id": v.run_id,
                "approved_at": v.approved_at,
                "comment": v.comment,
            }
            for v in versions
        ],
    }
