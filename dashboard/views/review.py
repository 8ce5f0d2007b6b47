"""Screenshot review (QA's page): a run's comparisons grouped by status and device profile, one
comparison in four views with its changed areas outlined, approve / reject (one or all), and
the baseline history of a screen."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from dashboard.security import page_actor, refuse_unless, service_of
from dashboard.templating import render
from orchestrator import reviews as service
from orchestrator.actors import Actor
from orchestrator.artifacts import ArtifactError
from orchestrator.context import Context
from orchestrator.db.models import Comparison, Project, Review, Run
from screenshots.baselines import BaselineKey, InvalidName

router = APIRouter(include_in_schema=False)
PageActor = Annotated[Actor, Depends(page_actor)]
REVIEWERS = ("qa",)  # as the API's review routes
NEEDS_REVIEW = ("changed", "new", "missing", "size_mismatch")
STATUS_ORDER = (*NEEDS_REVIEW, "error", "unchanged")
VIEWS = ("side", "swipe", "onion", "diff")


@dataclass(frozen=True)
class Item:
    """One comparison as the review pages show it."""

    id: int
    name: str
    status: str
    platform: str
    device: str
    locale: str
    screen: str
    diff_pixels: int | None
    width: int | None
    height: int | None
    boxes: list[dict[str, int]]
    images: dict[str, str]
    decision: str | None
    reviews: list[Review]

    @property
    def needs_review(self) -> bool:
        return self.status in NEEDS_REVIEW


def _item(c: Comparison, project: str, reviews: list[Review]) -> Item:
    try:
        key = BaselineKey.from_artifact_name(project, c.platform, c.name)
        device, locale, screen = key.device_profile, key.locale, key.screen
    except InvalidName:
        device, locale, screen = "unknown", "", c.name
    keys = {
        "baseline": c.baseline_key,
        "candidate": c.candidate_key,
        "diff": c.diff_key,
        "thumbnail": c.thumbnail_key,
    }
    return Item(
        id=c.id,
        name=c.name,
        status=c.status,
        platform=c.platform,
        device=device,
        locale=locale,
        screen=screen,
        diff_pixels=c.diff_pixels,
        width=c.width,
        height=c.height,
        boxes=[b for b in (c.details or {}).get("changed_boxes") or [] if isinstance(b, dict)],
        # The API's image route: one way to read comparison images.
        images={k: f"/api/comparisons/{c.id}/images/{k}" for k, v in keys.items() if v},
        decision=reviews[-1].decision if reviews else None,
        reviews=reviews,
    )


def _run_items(session: Any, run: Run) -> list[Item]:
    rows = list(
        session.scalars(select(Comparison).where(Comparison.run_id == run.id).order_by(Comparison.id))
    )
    by_comparison: dict[int, list[Review]] = {}
    if rows:
        for r in session.scalars(
            select(Review)
            .join(Comparison, Review.comparison_id == Comparison.id)
            .where(Comparison.run_id == run.id)
            .order_by(Review.id)
        ):
            by_comparison.setdefault(r.comparison_id, []).append(r)
    return [_item(c, run.project.name, by_comparison.get(c.id, [])) for c in rows]


def _get_run(session: Any, run_id: int) -> Run:
    run = session.get(Run, run_id) if 1 <= run_id <= 2**31 - 1 else None
    if run is None:
        raise HTTPException(404, f"no run with id {run_id}")
    return run


def grouped(items: list[Item]) -> list[tuple[str, list[tuple[str, list[Item]]]]]:
    """Status groups in review order, each split by device profile."""
    out: list[tuple[str, list[tuple[str, list[Item]]]]] = []
    for status in STATUS_ORDER:
        devices: OrderedDict[str, list[Item]] = OrderedDict()
        for item in sorted((i for i in items if i.status == status), key=lambda i: (i.device, i.name)):
            devices.setdefault(item.device, []).append(item)
        if devices:
            out.append((status, list(devices.items())))
    return out


def review_order(items: list[Item]) -> list[Item]:
    """The order j/k walk through: the grouped order, comparisons needing review only."""
    return [i for _s, devices in grouped(items) for _d, group in devices for i in group if i.needs_review]


@router.get("/runs/{run_id}/review")
def review_page(request: Request, run_id: int, actor: PageActor) -> Response:
    with service_of(request).db.read_session() as session:
        run = _get_run(session, run_id)
        items = _run_items(session, run)
        project = run.project.name
    waiting = [i for i in items if i.needs_review and i.decision is None]
    return render(
        request,
        "review.html.j2",
        {
            "run": run,
            "project": project,
            "groups": grouped(items),
            "total": len(items),
            "waiting": len(waiting),
            "can_review": actor.may(*REVIEWERS),
        },
    )


def _history(ctx: Context, session: Any, c: Comparison) -> tuple[list[Any], str | None]:
    project = session.get(Project, c.project_id)
    try:
        key = BaselineKey.from_artifact_name(project.name, c.platform, c.name)
        versions = service.repository(ctx.store, project.default_branch).history(key, c.branch)
    except (InvalidName, ValueError, ArtifactError) as exc:
        return [], str(exc)
    return list(reversed(versions)), None


def comparison_context(ctx: Context, session: Any, comparison_id: int, actor: Actor) -> dict[str, Any]:
    c = session.get(Comparison, comparison_id) if 1 <= comparison_id <= 2**31 - 1 else None
    if c is None:
        raise HTTPException(404, f"no comparison with id {comparison_id}")
    run = _get_run(session, c.run_id)
    items = _run_items(session, run)
    walk = review_order(items)
    item = next(i for i in items if i.id == c.id)
    position = next((n for n, i in enumerate(walk) if i.id == c.id), None)
    prev_item = next_item = None
    if position is not None:
        prev_item = walk[position - 1] if position > 0 else None
        next_item = walk[position + 1] if position + 1 < len(walk) else None
    else:
        next_item = walk[0] if walk else None
    history, history_error = _history(ctx, session, c)
    return {
        "run": run,
        "item": item,
        "branch": c.branch,
        "position": position,
        "count": len(walk),
        "prev_item": prev_item,
        "next_item": next_item,
        "next_waiting": next((i for i in walk if i.decision is None and i.id != c.id), None),
        "history": history,
        "history_error": history_error,
        "can_review": actor.may(*REVIEWERS) and item.needs_review,
        "views": VIEWS,
    }


@router.get("/comparisons/{comparison_id}")
def comparison_page(request: Request, comparison_id: int, actor: PageActor) -> Response:
    ctx = service_of(request)
    with ctx.db.read_session() as session:
        context = comparison_context(ctx, session, comparison_id, actor)
    return render(request, "comparison.html.j2", context)


@router.post("/comparisons/{comparison_id}/review")
def review_one(
    request: Request,
    comparison_id: int,
    actor: PageActor,
    decision: Annotated[str, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    refuse_unless(actor, *REVIEWERS)
    ctx = service_of(request)
    if decision not in ("approved", "rejected"):
        raise HTTPException(422, "decision must be approved or rejected")
    error = None
    with ctx.db.session() as session:
        try:
            _row, dispatches = service.review(
                session, ctx.store, comparison_id, decision, actor.label, comment.strip()
            )
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from exc
        except service.ReviewError as exc:
            session.rollback()
            error, dispatches = str(exc), []
        else:
            session.commit()
    ctx.dispatcher.jobs(dispatches)
    if request.headers.get("hx-request") != "true":
        if error:
            raise HTTPException(409, error)
        return RedirectResponse(f"/comparisons/{comparison_id}", status_code=303)
    with ctx.db.read_session() as session:
        context = comparison_context(ctx, session, comparison_id, actor)
    # htmx swaps only successful answers: a refusal is shown in the panel it replaces.
    return render(request, "_review_panel.html.j2", {**context, "error": error})


@router.post("/runs/{run_id}/review")
def review_all(
    request: Request,
    run_id: int,
    actor: PageActor,
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve every comparison of the run that still needs a decision."""
    refuse_unless(actor, *REVIEWERS)
    ctx = service_of(request)
    dispatches = []
    with ctx.db.session() as session:
        _get_run(session, run_id)
        for comparison in service.needing_review(session, run_id):
            try:
                _row, more = service.review(
                    session, ctx.store, comparison.id, "approved", actor.label, comment.strip()
                )
            except service.ReviewError:
                continue  # superseded by a newer run's comparison: left for that run
            dispatches += more
        session.commit()
    ctx.dispatcher.jobs(dispatches)
    return RedirectResponse(f"/runs/{run_id}/review", status_code=303)
