"""The audit log: every recorded action across releases and web deployments, filtered by project,
release, person and action, newest first in pages, and exported as a JSON file. Read through
`orchestrator.releases.audit.query`, the function GET /api/audit answers from."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from dashboard.security import page_actor, service_of
from dashboard.templating import render
from orchestrator import projects as project_service
from orchestrator.actors import Actor
from orchestrator.api.deps import MAX_ID
from orchestrator.releases import audit

router = APIRouter(include_in_schema=False)
PageActor = Annotated[Actor, Depends(page_actor)]
PAGE = 50
DETAILS_SHOWN = 240
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: str | None, what: str, longest: int) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > longest or _CONTROL.search(value):
        raise HTTPException(400, f"{what} must be printable text of at most {longest} characters")
    return value


def filters_of(
    project: str | None, release: str | None, person: str | None, action: str | None
) -> audit.AuditFilters:
    """The page's form fields as filters; 400 with what to fix for a value that cannot be one."""
    release_id = None
    text = (release or "").strip().lstrip("#")
    if text:
        if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
            raise HTTPException(400, f"release must be a release id (a whole number from 1 to {MAX_ID})")
        release_id = int(text)
    return audit.AuditFilters(
        project=_text(project, "project", 100),
        release_id=release_id,
        person=_text(person, "person", audit.MAX_PERSON),
        action=_text(action, "action", audit.MAX_ACTION),
    )


def _query(
    session: Any, filters: audit.AuditFilters, before: int | None, limit: int
) -> list[audit.AuditEntry]:
    try:
        return audit.query(session, filters, before, limit)
    except audit.AuditQueryError as exc:
        raise HTTPException(exc.status, str(exc)) from exc


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def compact(details: dict[str, Any]) -> str:
    """`role: qa · comment: looks good`, cut short: the whole record is in the export."""
    parts = [f"{key}: {_shown(value)}" for key, value in details.items() if value not in (None, "", [], {})]
    text = " · ".join(parts)
    return text if len(text) <= DETAILS_SHOWN else text[: DETAILS_SHOWN - 1] + "…"


Text = Annotated[str | None, Query(max_length=300)]


def page_filters(
    project: Text = None, release: Text = None, person: Text = None, action: Text = None
) -> audit.AuditFilters:
    return filters_of(project, release, person, action)


Filters = Annotated[audit.AuditFilters, Depends(page_filters)]


@router.get("/audit")
def audit_page(
    request: Request,
    actor: PageActor,
    filters: Filters,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    with service_of(request).db.read_session() as session:
        projects = [p.name for p in project_service.list_projects(session)]
        actions = audit.actions(session)
        entries = _query(session, filters, before, PAGE)
        rows = [(e.to_json(), compact(e.event.details or {})) for e in entries]
    query = filters.as_query()
    return render(
        request,
        "audit.html.j2",
        {
            "rows": rows,
            "projects": projects,
            "actions": actions,
            "filters": filters,
            "query": query,
            "next_before": entries[-1].event.id if len(entries) == PAGE else None,
            "paged": before is not None,
            "max_export": audit.MAX_EXPORT,
        },
    )


@router.get("/audit/export.json")
def audit_export(
    request: Request,
    actor: PageActor,
    filters: Filters,
) -> Response:
    """Every matching event, newest first, as a downloaded JSON array; past MAX_EXPORT events the
    newest MAX_EXPORT, with `X-Instep-Truncated` saying so."""
    with service_of(request).db.read_session() as session:
        entries = _query(session, filters, None, audit.MAX_EXPORT + 1)
        events = [e.to_json() for e in entries[: audit.MAX_EXPORT]]
    headers = {
        "Content-Disposition": 'attachment; filename="instep-audit.json"',
        "Cache-Control": "no-store",
        "X-Instep-Events": str(len(events)),
    }
    if len(entries) > audit.MAX_EXPORT:
        headers["X-Instep-Truncated"] = (
            f"only the newest {audit.MAX_EXPORT} events; filter to export the rest"
        )
    body = json.dumps(events, ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json", headers=headers)
