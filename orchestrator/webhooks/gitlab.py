"""GitLab deliveries: `Push Hook` and `Tag Push Hook`, authenticated by X-Gitlab-Token."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from orchestrator.webhooks.notices import ZERO_SHA, Ignored, PushNotice, is_zero_sha
from orchestrator.webhooks.payloads import (
    check_size,
    content_type,
    decode,
    header,
    optional_text,
    require_header,
    text_field,
)
from orchestrator.webhooks.signatures import verify_token

EVENT = "X-Gitlab-Event"
TOKEN = "X-Gitlab-Token"
PUSH_EVENTS = ("Push Hook", "Tag Push Hook")
# Idempotency-Key stays the same when GitLab retries or an admin resends a delivery (GitLab 17.4+);
# older servers only send X-Gitlab-Event-UUID.
DELIVERY_HEADERS = ("Idempotency-Key", "X-Gitlab-Event-UUID")


def repository(headers: Mapping[str, str], body: bytes) -> str:
    check_size(body)
    require_header(headers, EVENT)
    return text_field(decode(body, content_type(headers)), "project", "path_with_namespace")


def parse(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ignored:
    """Verify and read one GitLab delivery."""
    check_size(body)
    event = require_header(headers, EVENT)
    media_type = content_type(headers)
    verify_token(secret, headers, TOKEN)
    data = decode(body, media_type)
    if event not in PUSH_EVENTS:
        return Ignored(
            "gitlab", event, f"GitLab event {event!r} starts nothing (only Push Hook and Tag Push Hook do)"
        )
    return _push(_delivery_id(headers, body), data)


def _delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    for name in DELIVERY_HEADERS:
        value = (header(headers, name) or "").strip()
        if value:
            return value
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _push(delivery: str, data: dict[str, Any]) -> PushNotice:
    after = text_field(data, "after")
    # GitLab marks a deleted branch or tag with an all-zeros `after` and a null `checkout_sha`.
    deleted = is_zero_sha(after) or ("checkout_sha" in data and data["checkout_sha"] is None)
    return PushNotice(
        provider="gitlab",
        delivery_id=delivery,
        repository=text_field(data, "project", "path_with_namespace"),
        ref=text_field(data, "ref"),
        before=optional_text(data, "before") or ZERO_SHA,
        after=after,
        deleted=deleted,
        pusher=optional_text(data, "user_username") or optional_text(data, "user_name"),
        head_message=_head_message(data, after),
    )


def _head_message(data: dict[str, Any], after: str) -> str | None:
    commits = [c for c in data.get("commits") or [] if isinstance(c, Mapping)]
    for commit in commits:
        if commit.get("id") == after:
            return optional_text(commit, "message")
    # Tag pushes list no commits; branch pushes list them oldest first.
    return optional_text(commits[-1], "message") if commits else None
