"""Web parity: per project and environment the web's deployed version next to the iOS and Android
releases with their state, drift and verdict, and each recent release's parity decision with the
web release it was checked against. Read through the board service the API uses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from dashboard.security import page_actor, service_of
from dashboard.templating import render, when
from orchestrator import projects as project_service
from orchestrator.actors import Actor
from orchestrator.parity import board as boards
from orchestrator.parity import service as parity_service

router = APIRouter(include_in_schema=False)
PageActor = Annotated[Actor, Depends(page_actor)]
# Without a project filter the page shows this many projects' boards (the filter reaches the rest).
MAX_BOARDS = 10


def at(iso: str | None) -> str:
    """The board's ISO times as the dashboard shows times."""
    return when(datetime.fromisoformat(iso)) if iso else ""


@router.get("/parity")
def parity_page(
    request: Request,
    actor: PageActor,
    project: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    with service_of(request).db.read_session() as session:
        projects = [p.name for p in project_service.list_projects(session)]
        chosen = (project or "").strip() or None
        if chosen is not None and not chosen.isprintable():
            raise HTTPException(400, "project must be a project's name (printable text)")
        names = [chosen] if chosen else projects[:MAX_BOARDS]
        try:
            boards_shown: list[dict[str, Any]] = [boards.board(session, name) for name in names]
        except parity_service.ProjectNotFound as exc:
            raise HTTPException(404, str(exc)) from exc
    return render(
        request,
        "parity.html.j2",
        {
            "boards": boards_shown,
            "projects": projects,
            "chosen": chosen or "",
            "at": at,
            "more": 0 if chosen else max(0, len(projects) - MAX_BOARDS),
        },
    )
