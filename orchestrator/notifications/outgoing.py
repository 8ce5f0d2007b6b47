"""What goes over the wire for webhook and Slack endpoints, pure: the request built from a
delivery row's data (rendering is apart from sending, so tests check the exact bytes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestrator.notifications.signing import SIGNATURE_HEADER, sign


@dataclass(frozen=True)
class Outgoing:
    method: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def absolute_url(base_url: str, payload: dict[str, Any]) -> str | None:
    """The payload's dashboard-relative `path` as a full link, when it has one."""
    path = payload.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    return base_url.rstrip("/") + path


def outcome_phrase(status: str, reason: str | None) -> str:
    """`failed: stage unit failed`, without saying the status twice when the reason starts with it."""
    if not reason:
        return status
    if reason.split(":", 1)[0].split(" ", 1)[0] == status:
        return reason
    return f"{status}: {reason}"


def summary(project: str, event: str, payload: dict[str, Any]) -> str:
    text = payload.get("summary")
    if isinstance(text, str) and text.strip():
        return " ".join(text.split())
    return f"{project}: {event}"


def webhook_request(
    url: str,
    secret: str,
    *,
    delivery_id: str,
    event: str,
    project: str,
    created_at: datetime,
    payload: dict[str, Any],
    base_url: str,
) -> Outgoing:
    document = {
        "id": delivery_id,
        "event": event,
        "project": project,
        # SQLite hands back naive datetimes; every stored time is UTC.
        "created_at": (created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)).isoformat(),
        "url": absolute_url(base_url, payload),
        "data": payload,
    }
    body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return Outgoing(
        "POST",
        url,
        body,
        {
            "Content-Type": "application/json",
            "X-Instep-Event": event,
            "X-Instep-Delivery": delivery_id,
            SIGNATURE_HEADER: sign(secret, body),
        },
    )


def slack_request(url: str, *, event: str, project: str, payload: dict[str, Any], base_url: str) -> Outgoing:
    """Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): one line of text."""
    text = summary(project, event, payload)
    link = absolute_url(base_url, payload)
    if link:
        text = f"{text} {link}"
    body = json.dumps({"text": text}, separators=(",", ":")).encode()
    return Outgoing("POST", url, body, {"Content-Type": "application/json"})
