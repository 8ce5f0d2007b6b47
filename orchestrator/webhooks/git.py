"""Instep's own notice, sent by the post-receive hook that `instep hook install` writes.

    POST /api/webhooks/git
    Content-Type: application/json
    X-Instep-Event: push
    X-Instep-Delivery: <uuid4>
    X-Instep-Signature-256: sha256=<hex HMAC-SHA256 of the body keyed with the webhook secret>

    {"repository": "acme/shop", "ref": "refs/heads/main", "before": "<sha>", "after": "<sha>",
     "pusher": "dev", "head_message": "Fix the order list"}

`pusher` and `head_message` may be null or absent."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.webhooks.notices import ZERO_SHA, Ignored, PushNotice, is_zero_sha
from orchestrator.webhooks.payloads import (
    check_size,
    content_type,
    decode,
    optional_text,
    require_header,
    text_field,
)
from orchestrator.webhooks.signatures import verify_signature

EVENT = "X-Instep-Event"
DELIVERY = "X-Instep-Delivery"
SIGNATURE = "X-Instep-Signature-256"


def repository(headers: Mapping[str, str], body: bytes) -> str:
    check_size(body)
    return text_field(decode(body, content_type(headers)), "repository")


def parse(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ignored:
    """Verify and read one notice from Instep's post-receive hook."""
    check_size(body)
    event = require_header(headers, EVENT)
    delivery = require_header(headers, DELIVERY)
    media_type = content_type(headers)
    verify_signature(secret, body, headers, SIGNATURE)
    data = decode(body, media_type)
    if event != "push":
        return Ignored("git", event, f"event {event!r} starts nothing (only push does)")
    after = text_field(data, "after")
    return PushNotice(
        provider="git",
        delivery_id=delivery,
        repository=text_field(data, "repository"),
        ref=text_field(data, "ref"),
        before=optional_text(data, "before") or ZERO_SHA,
        after=after,
        deleted=is_zero_sha(after),
        pusher=optional_text(data, "pusher"),
        head_message=optional_text(data, "head_message"),
    )
