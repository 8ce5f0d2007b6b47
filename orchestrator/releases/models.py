"""Release rows: a release and its per-platform candidates, approvals, kept gate evaluations, the
append-only audit trail, and build number counters. State changes go through `states.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from orchestrator.db.models import Base, utcnow


class Release(Base):
    """One version headed for the stores, cut from one run (a run has at most one release)."""

    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("project_id", "version", name="uq_release_version"),
        UniqueConstraint("run_id", name="uq_release_run"),
        Index("ix_releases_project", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(100))
    # active | finished | partially_finished | canceled | superseded | failed
    state: Mapped[str] = mapped_column(String(30), default="active")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    # The `release:` section of the run's instep.yml as it was when the release was cut.
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Who pushed the commit (for four eyes), when known.
    pushed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    platforms: Mapped[list[ReleasePlatform]] = relationship(
        back_populates="release", order_by="ReleasePlatform.id"
    )


class ReleasePlatform(Base):
    """The release on one platform: its candidate (artifacts with sha256, build number) and state."""

    __tablename__ = "release_platforms"
    __table_args__ = (UniqueConstraint("release_id", "platform", name="uq_release_platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(30), default="preparing")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    build_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{"name", "sha256", "size", "artifact_id"}] of the run's build artifacts for this platform.
    candidate: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # When the candidate reached the beta track (soak time counts from here; cut time until then).
    soak_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    release: Mapped[Release] = relationship(back_populates="platforms")


class Approval(Base):
    """A person's decision in a role; never edited (a later decision by the same person counts)."""

    __tablename__ = "release_approvals"
    __table_args__ = (Index("ix_release_approvals_release", "release_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(30))  # qa | release_manager
    person: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(20), default="token")  # token | session
    decision: Mapped[str] = mapped_column(String(20))  # approve | reject
    comment: Mapped[str] = mapped_column(Text, default="")
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GateEvaluation(Base):
    """A gate verdict with the facts it was computed from; stored when the checklist changes."""

    __tablename__ = "gate_evaluations"
    __table_args__ = (Index("ix_gate_evaluations_release", "release_id", "platform", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    passed: Mapped[bool] = mapped_column(Boolean)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    checklist: Mapped[list[Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """Append-only: who (in which role) did what to which release, and when."""

    __tablename__ = "release_audit"
    __table_args__ = (
        Index("ix_release_audit_release", "release_id", "id"),
        # The audit log's filters (orchestrator/releases/audit.py), newest first.
        Index("ix_release_audit_project", "project_id", "id"),
        Index("ix_release_audit_person", "person", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    release_id: Mapped[int | None] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), nullable=True
    )
    person: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BuildNumber(Base):
    """The last build number handed out for (project, platform); only ever goes up."""

    __tablename__ = "build_numbers"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
