"""Ledger rows: one store action of one release platform (unique by release, platform and
action), and the store's state as last read for each release platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orchestrator.db.models import Base, utcnow


class StoreAction(Base):
    """A store action (submit, a rollout change) moving `intended -> sent -> confirmed | failed |
    unknown` by compare-and-set; `answer` keeps what the store said (or what a read showed)."""

    __tablename__ = "store_actions"
    __table_args__ = (
        UniqueConstraint("release_id", "platform", "action", name="uq_store_action"),
        Index("ix_store_actions_open", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    # submit | start_rollout | rollout_to_20 | halt_1 | resume_1 | complete | ...
    action: Mapped[str] = mapped_column(String(50))
    store: Mapped[str] = mapped_column(String(30))  # google_play | app_store | lane
    state: Mapped[str] = mapped_column(String(20), default="intended")
    requested_by: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    category: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    sends: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoreStatus(Base):
    """What the store last said about a release platform: review, rollout and fraction."""

    __tablename__ = "store_status"

    release_platform_id: Mapped[int] = mapped_column(
        ForeignKey("release_platforms.id", ondelete="CASCADE"), primary_key=True
    )
    store: Mapped[str] = mapped_column(String(30))
    review: Mapped[str | None] = mapped_column(String(30), nullable=True)
    rollout: Mapped[str | None] = mapped_column(String(30), nullable=True)
    store_state: Mapped[str | None] = mapped_column(String(100), nullable=True)
    fraction: Mapped[float | None] = mapped_column(Float, nullable=True)
    day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # When Instep last changed the rollout fraction (the plan's `every` counts from here).
    fraction_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
