"""The notification service: endpoints per project, and `publish`, which writes the outbox.

Nothing is sent here: `publish` adds one delivery row per matching destination to the caller's
transaction, and `orchestrator.notifications.sender` delivers due rows later."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.db.models import utcnow
from orchestrator.notifications.events import check_event, matches
from orchestrator.notifications.models import PENDING, NotificationDelivery, NotificationEndpoint


class NotificationError(Exception):
    """Bad notification input; the message names the field and what to do."""


def publish(
    session: Session,
    project_id: int,
    event: str,
    payload: dict[str, Any],
    *,
    now: datetime | None = None,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> None:
    """Queue `event` for every endpoint of the project whose filter matches it; the caller commits.

    `payload` must be JSON-serialisable. Optional conventional keys: `summary` (a one-line human
    sentence, used as the Slack text) and `path` (a dashboard-relative link such as `/runs/12`;
    receivers get it as an absolute `url`)."""
    check_event(event)
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise NotificationError(f"payload of event {event} is not JSON-serialisable: {exc}") from exc
    now = now or utcnow()
    endpoints = session.scalars(
        select(NotificationEndpoint)
        .where(NotificationEndpoint.project_id == project_id)
        .order_by(NotificationEndpoint.id)
    )
    for endpoint in endpoints:
        if matches(endpoint.events, event):
            session.add(
                NotificationDelivery(
                    delivery_id=new_id(),
                    project_id=project_id,
                    endpoint_id=endpoint.id,
                    channel=endpoint.kind,
                    event=event,
                    payload=payload,
                    state=PENDING,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
