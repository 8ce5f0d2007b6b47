"""GET /api/audit: the audit trail across releases (and web deployments), filtered and paged
newest first. Validate, check the role, call `audit.query`, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel

from orchestrator.actors import Actor, require_actor
from orchestrator.api.deps import MAX_ID, BeforeId, ReadSessionDep
from orchestrator.releases import audit
from orchestrator.releases.routes import AuditOut

router = APIRouter(tags=["audit"])
# The same readers as a release's own trail (GET /api/releases/{id}/audit).
Reader = Annotated[Actor, Depends(require_actor())]
# Control characters cannot name a person or action and would forge log lines; NUL cannot be stored.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class AuditEntryOut(AuditOut):
    """An audit event with the project and release it belongs to."""

    project: str
    release_id: int | None
    release_version: str | None


class AuditPage(BaseModel):
    events: list[AuditEntryOut]
    next_before: int | None


class ProblemOut(BaseModel):
    detail: str


@router.get(
    "/api/audit",
    response_model=AuditPage,
    responses={404: {"model": ProblemOut, "description": "no project or release by that name or id"}},
)
def audit_log(
    session: ReadSessionDep,
    _: Reader,
    project: Annotated[str | None, Query(min_length=1, max_length=100, pattern=PRINTABLE)] = None,
    release: Annotated[int | None, Query(ge=1, le=MAX_ID, description="a release id")] = None,
    person: Annotated[str | None, Query(min_length=1, max_length=audit.MAX_PERSON, pattern=PRINTABLE)] = None,
    action: Annotated[str | None, Query(min_length=1, max_length=audit.MAX_ACTION, pattern=PRINTABLE)] = None,
    before: BeforeId = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
) -> AuditPage:
    """Who (in which role) did what, newest first: every filter given must match. Page on with
    `before=next_before`."""
    filters = audit.AuditFilters(project=project, release_id=release, person=person, action=action)
    try:
        entries = audit.query(session, filters, before, limit)
    except audit.AuditQueryError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return AuditPage(
        events=[AuditEntryOut(**e.to_json()) for e in entries],
        next_before=entries[-1].event.id if len(entries) == limit else None,
    )
