"""Web deployment rows: every deployment a web pipeline reported, per project and environment,
kept as history. The current one of an environment is the latest `deployed_at` still
`deployed`; recording never deletes, a rollback only marks the row it undoes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.db.models import Base, utcnow

DEPLOYED = "deployed"
ROLLED_BACK = "rolled_back"


class WebDeployment(Base):
    __tablename__ = "web_deployments"
    __table_args__ = (
        Index("ix_web_deployments_current", "project_id", "environment", "status", "deployed_at"),
        Index("ix_web_deployments_source", "project_id", "source_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    environment: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(100))
    commit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    api_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # {"orders": "v3", "payments": "sha256:..."}: contract name -> version or hash.
    contracts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    features: Mapped[list[Any]] = mapped_column(JSON, default=list)
    deployed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default=DEPLOYED)  # deployed | rolled_back
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Where it came from, for matching later events about it: `github:deployment:123`.
    source_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rolled_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rolled_back_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Why: "re-deployed 2026.12.0", "marked rolled back by ci", "GitHub deployment failure".
    rolled_back_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
