"""Notifications: per-project endpoints (signed JSON webhooks, Slack), the outbox that `publish`
writes in the caller's transaction, the sender with retries and dead letters, the outgoing-URL
allow policy, and commit statuses on GitHub and GitLab."""

from orchestrator.notifications.events import KNOWN_EVENTS, RELEASE_EVENTS, RUN_EVENTS
from orchestrator.notifications.service import NotificationError, publish

__all__ = ["KNOWN_EVENTS", "RELEASE_EVENTS", "RUN_EVENTS", "NotificationError", "publish"]
