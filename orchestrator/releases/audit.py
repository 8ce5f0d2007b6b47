"""Reading the audit trail across releases: who (in which role) did what, filtered by project,
release, person and action, newest first, one keyset page at a time. The API, the dashboard's
audit page and its JSON export all read through `query`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.db.models import Project
from orchestrator.releases.models import AuditEvent, Release

MAX_PAGE = 200
# The export answers every matching event up to this many (the newest ones).
MAX_EXPORT = 10_000
MAX_PERSON = 200
MAX_ACTION = 50


class AuditQueryError(Exception):
    """A filter that names nothing; `status` is the HTTP status that fits."""

    status = 404


@dataclass(frozen=True)
class AuditFilters:
    """What to look for; None means any. `project` is a project's name."""

    project: str | None = None
    release_id: int | None = None
    person: str | None = None
    action: str | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as URL query parameters (only those set)."""
        pairs = {
            "project": self.project,
            "release": str(self.release_id) if self.release_id is not None else None,
            "person": self.person,
            "action": self.action,
        }
        return {k: v for k, v in pairs.items() if v}


@dataclass(frozen=True)
class AuditEntry:
    """One event with the names it refers to (its project, its release's version)."""

    event: AuditEvent
    project: str
    release_version: str | None

    def to_json(self) -> dict[str, Any]:
        e = self.event
        at = (e.at if e.at.tzinfo is not None else e.at.replace(tzinfo=UTC)).astimezone(UTC)
        return {
            "id": e.id,
            "project": self.project,
            "release_id": e.release_id,
            "release_version": self.release_version,
            "person": e.person,
            "role": e.role,
            "action": e.action,
            "subject": e.subject,
            "details": e.details or {},
            "at": at.isoformat().replace("+00:00", "Z"),
        }


def _project_id(session: Session, name: str) -> int:
    found = session.scalar(select(Project.id).where(Project.name == name))
    if found is None:
        raise AuditQueryError(f"no project named {name!r}")
    return found


def query(
    session: Session, filters: AuditFilters, before_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """Events matching every filter, newest first, older than `before_id` when given; at most
    `limit` (bounded by one past MAX_EXPORT, so the export can tell it stopped short). An unknown
    project or release is AuditQueryError."""
    limit = max(1, min(limit, MAX_EXPORT + 1))
    stmt = (
        select(AuditEvent, Project.name, Release.version)
        .join(Project, Project.id == AuditEvent.project_id)
        .outerjoin(Release, Release.id == AuditEvent.release_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if filters.project is not None:
        stmt = stmt.where(AuditEvent.project_id == _project_id(session, filters.project))
    if filters.release_id is not None:
        if session.get(Release, filters.release_id) is None:
            raise AuditQueryError(f"no release with id {filters.release_id}")
        stmt = stmt.where(AuditEvent.release_id == filters.release_id)
    if filters.person is not None:
        stmt = stmt.where(AuditEvent.person == filters.person)
    if filters.action is not None:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    return [AuditEntry(event, name, version) for event, name, version in session.execute(stmt)]


def actions(session: Session) -> list[str]:
    """Every action the trail holds, for a filter's choices."""
    return sorted(session.scalars(select(AuditEvent.action).distinct()))
