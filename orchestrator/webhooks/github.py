"""GitHub deliveries: `ping` and `push`, signed with X-Hub-Signature-256.

GitHub sends JSON, or a form with the JSON in a `payload` field when the webhook's content type
is `application/x-www-form-urlencoded`; the signature covers the body as sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.webhooks.errors import BadRequest
from orchestrator.webhooks.notices import ZERO_SHA, Ignored, Ping, PushNotice, is_zero_sha
from orchestrator.webhooks.payloads import (
    FORM,
    JSON,
    check_size,
    content_type,
    decode,
    optional_text,
    require_header,
    text_field,
)
from orchestrator.webhooks.signatures import verify_signature

EVENT = "X-GitHub-Event"
DELIVERY = "X-GitHub-Delivery"
SIGNATURE = "X-Hub-Signature-256"


def repository(headers: Mapping[str, str], body: bytes) -> str:
    check_size(body)
    event = require_header(headers, EVENT)
    data = decode(body, content_type(headers, (JSON, FORM)))
    if event == "ping" and not isinstance(data.get("repository"), Mapping):
        raise BadRequest(
            "ping is not about a repository: organisation and app webhooks are not supported, "
            "add the webhook to the repository"
        )
    return text_field(data, "repository", "full_name")


def parse(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ping | Ignored:
    """Verify and read one GitHub delivery."""
    check_size(body)
    event = require_header(headers, EVENT)
    delivery = require_header(headers, DELIVERY)
    media_type = content_type(headers, (JSON, FORM))
    verify_signature(secret, body, headers, SIGNATURE)
    data = decode(body, media_type)
    if event == "ping":
        return Ping("github", delivery, optional_text(data, "repository", "full_name"))
    if event != "push":
        return Ignored("github", event, f"GitHub event {event!r} starts nothing (only push does)")
    return _push(delivery, data)


def _push(delivery: str, data: dict[str, Any]) -> PushNotice:
    after = text_field(data, "after")
    return PushNotice(
        provider="github",
        delivery_id=delivery,
        repository=text_field(data, "repository", "full_name"),
        ref=text_field(data, "ref"),
        before=optional_text(data, "before") or ZERO_SHA,
        after=after,
        deleted=data.get("deleted") is True or is_zero_sha(after),
        pusher=optional_text(data, "pusher", "name"),
        head_message=optional_text(data, "head_commit", "message"),
    )
