"""Releases (the release manager's page): the list with filters and pages; one release with each
platform's gate checklist, approvals, approve / reject, the store's state and the submission
ledger, rollout controls behind a confirmation that says what will happen, and the audit trail.
Everything is read and done through the same services as the release API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from dashboard.security import page_actor, refuse_unless, service_of
from dashboard.templating import render
from orchestrator import projects as project_service
from orchestrator.actors import Actor
from orchestrator.api.deps import MAX_ID
from orchestrator.releases import flows, service
from orchestrator.releases.routes import PlatformOut, ReleaseDetail, release_view
from orchestrator.spec.release import ReleaseSpec, RolloutPlan
from orchestrator.submissions import rollouts
from orchestrator.submissions.rollout_plan import next_fraction

router = APIRouter(include_in_schema=False)
PageActor = Annotated[Actor, Depends(page_actor)]
# As the API's routes: `Approver` for approve / reject (an admin only as an override), and
# `ReleaseManager` for rollout steering.
APPROVERS = ("qa", "release_manager")
STEERING = ("release_manager",)
STATES = ("active", "finished", "partially_finished", "canceled", "failed", "superseded")
DECIDABLE = ("preparing", "waiting_for_gate")
VERBS = ("rollout", "halt", "resume", "complete")
PAGE = 50
PLATFORM_NAMES = {"android": "Android", "ios": "iOS"}


@dataclass(frozen=True)
class RolloutAction:
    """One rollout control as the page offers it, with the sentence its confirmation shows."""

    verb: str
    platform: str
    label: str
    statement: str
    danger: bool = False
    to: float | None = None  # percent, for a raise


def _pct(fraction: float | None) -> str:
    return "100 %" if fraction is None else f"{fraction * 100:g} %"


def rollout_actions(version: str, p: PlatformOut, plan: RolloutPlan | None) -> list[RolloutAction]:
    """The rollout controls that apply to a platform in its state (pure; the service decides
    again when asked). Google Play is a staged rollout by percent; the App Store a phased release."""
    name = PLATFORM_NAMES.get(p.platform, p.platform)
    store = p.store or {}
    fraction = store.get("fraction")
    play = p.platform != "ios"
    where = "on Google Play" if play else "on the App Store"
    out: list[RolloutAction] = []
    if p.state == "rolling_out":
        nxt = next_fraction(plan or RolloutPlan(), fraction) if play else None
        if play and nxt is not None and nxt < 1:
            out.append(
                RolloutAction(
                    "rollout",
                    p.platform,
                    f"Raise to {_pct(nxt)}",
                    f"Raise the {name} staged rollout of {version} {where} from {_pct(fraction)} to "
                    f"{_pct(nxt)} of users. Web parity is checked first; the plan raises it on from there.",
                    to=round(nxt * 100, 6),
                )
            )
        at = f"at {_pct(fraction)}" if play else f"on day {store.get('day') or '?'}"
        kind = "staged rollout" if play else "phased release"
        out.append(
            RolloutAction(
                "halt",
                p.platform,
                "Halt" if play else "Pause",
                f"{'Halt' if play else 'Pause'} the {name} {kind} of {version} {where} {at}: no new users "
                "get it until it is resumed. Users who have it keep it.",
                danger=True,
            )
        )
    if p.state == "halted":
        at = f"at {_pct(fraction)}" if play else "where it was paused"
        out.append(
            RolloutAction(
                "resume",
                p.platform,
                "Resume",
                f"Resume the {name} {'staged rollout' if play else 'phased release'} of {version} {where} "
                f"{at}: new users get it again. Web parity is checked first.",
            )
        )
    if p.state in ("approved_by_store", "rolling_out", "halted"):
        out.append(
            RolloutAction(
                "complete",
                p.platform,
                "Release to everyone",
                f"Release {version} to every {name} user {where} (100 %). A completed rollout cannot "
                "be halted or taken back.",
                danger=True,
            )
        )
    return out


def _id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise HTTPException(404, f"no release with id {value}")
    return value


def _load(session: Any, release_id: int) -> tuple[ReleaseDetail, RolloutPlan | None]:
    try:
        release = service.get_release(session, _id(release_id))
    except service.ReleaseNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    try:
        plan = ReleaseSpec.model_validate(release.policy or {}).rollout
    except ValueError:
        plan = None
    return release_view(session, release, with_checklist=True), plan


@router.get("/releases")
def releases_page(
    request: Request,
    actor: PageActor,
    project: Annotated[str | None, Query(max_length=100)] = None,
    state: str | None = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    filters = {"project": project or "", "state": state if state in STATES else ""}
    with service_of(request).db.read_session() as session:
        projects = [p.name for p in project_service.list_projects(session)]
        project_id = None
        if filters["project"]:
            try:
                project_id = flows.project_id_of(session, filters["project"])
            except service.ReleaseNotFound as exc:
                raise HTTPException(404, str(exc)) from exc
        rows = service.list_releases(session, project_id, filters["state"] or None, before, PAGE)
        releases = [release_view(session, r) for r in rows]
    query = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "releases.html.j2",
        {
            "releases": releases,
            "projects": projects,
            "states": STATES,
            "filters": filters,
            "query": query,
            "next_before": rows[-1].id if len(rows) == PAGE else None,
            "paged": before is not None,
        },
    )


def release_context(session: Any, release_id: int, actor: Actor) -> dict[str, Any]:
    release, plan = _load(session, release_id)
    active = release.state == "active"
    controls = {
        p.platform: rollout_actions(release.version, p, plan) if active and actor.may(*STEERING) else []
        for p in release.platforms
    }
    return {
        "release": release,
        "audit": service.audit_of(session, release.id),
        "can_decide": actor.may(*APPROVERS)
        and active
        and any(p.state in DECIDABLE for p in release.platforms),
        "override": actor.role == "admin",
        "controls": controls,
        "names": PLATFORM_NAMES,
        "error": None,
    }


@router.get("/releases/{release_id}")
def release_page(request: Request, release_id: int, actor: PageActor) -> Response:
    with service_of(request).db.read_session() as session:
        context = release_context(session, release_id, actor)
    return render(request, "release.html.j2", context)


def _refused(request: Request, release_id: int, actor: Actor, exc: service.ReleaseError) -> Response:
    """The release page again with the service's message (and its status), nothing changed."""
    if isinstance(exc, service.ReleaseNotFound):
        raise HTTPException(404, str(exc))
    with service_of(request).db.read_session() as session:
        context = release_context(session, release_id, actor)
    return render(request, "release.html.j2", {**context, "error": str(exc)}, status_code=exc.status)


@router.post("/releases/{release_id}/decide")
def decide(
    request: Request,
    release_id: int,
    actor: PageActor,
    decision: Annotated[str, Form()],
    comment: Annotated[str, Form(max_length=2000)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    override_reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    refuse_unless(actor, *APPROVERS)
    if decision not in ("approve", "reject"):
        raise HTTPException(422, "decision must be approve or reject")
    if role not in ("", *APPROVERS):
        raise HTTPException(422, "role must be qa or release_manager")
    ctx = service_of(request)
    with ctx.db.session() as session:
        try:
            _row, dispatches = flows.decide(
                ctx,
                session,
                _id(release_id),
                actor,
                decision,
                comment=comment.strip(),
                role=role or None,
                override_reason=override_reason.strip() or None,
            )
        except service.ReleaseError as exc:
            session.rollback()
            return _refused(request, release_id, actor, exc)
        session.commit()
    ctx.dispatcher.jobs(dispatches)
    return RedirectResponse(f"/releases/{release_id}#checklists", status_code=303)


def _offered(session: Any, release_id: int, actor: Actor, verb: str, platform: str) -> RolloutAction:
    refuse_unless(actor, *STEERING)
    if verb not in VERBS or platform not in PLATFORM_NAMES:
        raise HTTPException(404, f"no rollout action {verb!r} for platform {platform!r}")
    context = release_context(session, release_id, actor)
    for action in context["controls"].get(platform, []):
        if action.verb == verb:
            return action
    release = context["release"]
    states = {p.platform: p.state for p in release.platforms}
    if platform not in states:
        raise HTTPException(404, f"release {release.version} has no {platform} platform")
    raise HTTPException(
        409,
        f"release {release.version} on {platform} is {states[platform].replace('_', ' ')}"
        f" ({release.state}); {verb} does not apply to it now",
    )


@router.get("/releases/{release_id}/rollout/{verb}/{platform}")
def confirm_page(request: Request, release_id: int, verb: str, platform: str, actor: PageActor) -> Response:
    """The confirmation: what exactly will happen, and the form that does it."""
    with service_of(request).db.read_session() as session:
        action = _offered(session, release_id, actor, verb, platform)
        release, _plan = _load(session, release_id)
    return render(
        request,
        "release_confirm.html.j2",
        {"release": release, "action": action, "names": PLATFORM_NAMES},
    )


@router.post("/releases/{release_id}/rollout/{verb}/{platform}")
def steer(
    request: Request,
    release_id: int,
    verb: str,
    platform: str,
    actor: PageActor,
    to: Annotated[float | None, Form(gt=0, le=100)] = None,
) -> Response:
    refuse_unless(actor, *STEERING)
    if verb not in VERBS or platform not in PLATFORM_NAMES:
        raise HTTPException(404, f"no rollout action {verb!r} for platform {platform!r}")
    if verb == "rollout" and to is None:
        raise HTTPException(422, "a raise needs `to`: the percentage of users")
    ctx = service_of(request)
    try:
        errors = rollouts.act(
            ctx, _id(release_id), actor, verb, platform=platform, percent_to=to if verb == "rollout" else None
        )
    except service.ReleaseError as exc:
        return _refused(request, release_id, actor, exc)
    if errors:
        # The store refused: its classified message, as the API's 409.
        return _refused(
            request, release_id, actor, service.ReleaseRefused("the store refused: " + "; ".join(errors))
        )
    return RedirectResponse(f"/releases/{release_id}#platform-{platform}", status_code=303)
