"""The ledger as stored: claim a store action once (the unique key decides between concurrent
claims), move it by compare-and-set (an UPDATE that matches the expected state), and keep the
store's last word per release platform. Functions flush; the caller commits."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from orchestrator.db.models import utcnow
from orchestrator.submissions import ledger
from orchestrator.submissions.models import StoreAction, StoreStatus

OPEN = ("intended", "sent", "unknown")


def plain(answer: Any) -> dict[str, Any]:
    """A store result (frozen dataclass with enums) as JSON."""
    if answer is None:
        return {}
    data = asdict(answer) if is_dataclass(answer) and not isinstance(answer, type) else dict(answer)
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in data.items()}


def find(session: Session, release_id: int, platform: str, action: str) -> StoreAction | None:
    return session.scalar(
        select(StoreAction).where(
            StoreAction.release_id == release_id,
            StoreAction.platform == platform,
            StoreAction.action == action,
        )
    )


def claim(
    session: Session,
    *,
    release_id: int,
    platform: str,
    action: str,
    store: str,
    who: str,
    request: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> tuple[StoreAction, bool]:
    """The ledger row of (release, platform, action): (row, True) when this call created it,
    (existing row, False) when it was there already (also when a concurrent claim won)."""
    existing = find(session, release_id, platform, action)
    if existing is not None:
        return existing, False
    now = now or utcnow()
    row = StoreAction(
        release_id=release_id,
        platform=platform,
        action=action,
        store=store,
        state="intended",
        requested_by=who,
        request=request or {},
        answer={},
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = find(session, release_id, platform, action)
        assert found is not None
        return found, False
    return row, True


def cas(
    session: Session, row: StoreAction, expected: str, new: str, now: datetime | None = None, **values: Any
) -> bool:
    """Move `row` from `expected` to `new` only if it is still `expected`; False when another
    attempt moved it first (the row is refreshed either way)."""
    ledger.check(expected, new)
    if new == "sent":
        values["sends"] = StoreAction.sends + 1
    result = session.execute(
        update(StoreAction)
        .where(StoreAction.id == row.id, StoreAction.state == expected)
        .values(state=new, updated_at=now or utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    return result.rowcount == 1  # type: ignore[attr-defined]


def open_action(session: Session, release_id: int, platform: str) -> StoreAction | None:
    """A store action of this platform whose outcome is not known yet (at most one at a time)."""
    return session.scalar(
        select(StoreAction)
        .where(
            StoreAction.release_id == release_id,
            StoreAction.platform == platform,
            StoreAction.state.in_(OPEN),
        )
        .order_by(StoreAction.id)
        .limit(1)
    )


def count_actions(session: Session, release_id: int, platform: str, prefix: str) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(StoreAction)
            .where(
                StoreAction.release_id == release_id,
                StoreAction.platform == platform,
                StoreAction.action.like(f"{prefix}%"),
            )
        )
        or 0
    )


def actions_of(session: Session, release_id: int) -> list[StoreAction]:
    return list(
        session.scalars(
            select(StoreAction).where(StoreAction.release_id == release_id).order_by(StoreAction.id)
        )
    )


def status_of(session: Session, platform_id: int) -> StoreStatus | None:
    return session.get(StoreStatus, platform_id)


def keep_status(session: Session, platform_id: int, store: str, now: datetime, **values: Any) -> StoreStatus:
    """Record what the store said about a release platform (only the fields given change)."""
    row = session.get(StoreStatus, platform_id)
    if row is None:
        row = StoreStatus(release_platform_id=platform_id, store=store)
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.read_at = now
    session.flush()
    return row


def store_view(session: Session, platform_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The store's last word per release platform, as the release API shows it."""
    if not platform_ids:
        return {}
    rows = session.scalars(select(StoreStatus).where(StoreStatus.release_platform_id.in_(platform_ids)))
    return {
        r.release_platform_id: {
            "store": r.store,
            "review": r.review,
            "rollout": r.rollout,
            "store_state": r.store_state,
            "fraction": r.fraction,
            "day": r.day,
            "read_at": r.read_at.isoformat() if r.read_at else None,
            "error": r.error,
        }
        for r in rows
    }


def actions_view(session: Session, release_id: int) -> list[dict[str, Any]]:
    return [
        {
            "platform": a.platform,
            "action": a.action,
            "store": a.store,
            "state": a.state,
            "requested_by": a.requested_by,
            "category": a.category,
            "reason": a.reason,
            "answer": a.answer,
            "updated_at": a.updated_at.isoformat() if a.updated_at else None,
        }
        for a in actions_of(session, release_id)
    ]
