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
from typing import Any

from orchestrator.webhooks import locating
from orchestrator.webhooks.errors import BadRequest
from orchestrator.webhooks.notices import ZERO_SHA, Ignored, Notice, PushNotice, is_zero_sha
from orchestrator.webhooks.payloads import (
    JSON,
    commit_sha,
    optional_line,
    optional_sha,
    optional_text,
    ref_text,
    require_header,
    text_field,
)
from orchestrator.webhooks.signatures import verify_signature

EVENT = "X-Instep-Event"
DELIVERY = "X-Instep-Delivery"
SIGNATURE = "X-Instep-Signature-256"
_REPOSITORY = locating.key_pattern("repository", rb'(?=")')


class Git:
    name = "git"
    media_types: tuple[str, ...] = (JSON,)

    def check_headers(self, headers: Mapping[str, str]) -> None:
        require_header(headers, EVENT)
        require_header(headers, DELIVERY)

    def repository(self, headers: Mapping[str, str], body: bytes, media_type: str) -> str:
        name = locating.top_level_text(body, _REPOSITORY)
        if name is None:
            raise BadRequest("payload has no `repository` (a non-empty string)")
        return name

    def verify(self, secret: str, headers: Mapping[str, str], body: bytes) -> None:
        verify_signature(secret, body, headers, SIGNATURE)

    def read(self, headers: Mapping[str, str], body: bytes, data: dict[str, Any]) -> Notice:
        event = require_header(headers, EVENT)
        if event != "push":
            return Ignored("git", event, f"event {event!r} starts nothing (only push does)")
        after = commit_sha(data, "after")
        return PushNotice(
            provider="git",
            delivery_id=require_header(headers, DELIVERY),
            repository=text_field(data, "repository"),
            ref=ref_text(data, "ref"),
            before=optional_sha(data, "before") or ZERO_SHA,
            after=after,
            deleted=is_zero_sha(after),
            pusher=optional_line(data, "pusher"),
            head_message=optional_text(data, "head_message"),
        )


GIT = Git()
