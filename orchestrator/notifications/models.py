"""Notification endpoints, the commit-status setting of a project, and the outbox of deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.db.models import Base, utcnow

# Delivery states: `pending` (due at next_attempt_at), `delivered`, `dead` (attempts used up:
# the dead-letter list), `superseded` (a newer commit status for the same commit and context
# made it pointless to send).
PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"
SUPERSEDED = "superseded"


class NotificationEndpoint(Base):
    """Where a project's events go: a signed generic JSON webhook or a Slack incoming webhook."""

    __tablename__ = "notification_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # webhook | slack
    # Sealed: a Slack URL is itself a credential. `display_url` is what lists show.
    url: Mapped[str] = mapped_column(Text)
    display_url: Mapped[str] = mapped_column(String(1000))
    # Sealed HMAC key of a `webhook` endpoint; None for Slack.
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    # fnmatch patterns over event names (`run.failed`, `release.*`, `*`).
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CommitStatusSetting(Base):
    """A project's token for reporting run states to GitHub or GitLab (one per project)."""

    __tablename__ = "commit_status_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))  # github | gitlab
    api_url: Mapped[str] = mapped_column(String(1000))
    # GitHub `owner/repo`, GitLab project path or numeric id; None means the project's match name.
    repository: Mapped[str | None] = mapped_column(String(300), nullable=True)
    token: Mapped[str] = mapped_column(Text)  # sealed
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NotificationDelivery(Base):
    """One message to one destination: written in the publisher's transaction, sent later."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_coalesce", "coalesce_key", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Sent as X-Instep-Delivery: stable across retries so receivers can deduplicate.
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_endpoints.id", ondelete="CASCADE"), nullable=True, index=True
    )
    channel: Mapped[str] = mapped_column(String(20))  # webhook | slack | github | gitlab
    event: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Commit statuses for the same commit and context: only the newest one is worth sending.
    coalesce_key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
