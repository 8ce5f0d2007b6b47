"""What a webhook means once verified: a push, a ping, or something Instep ignores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAX_PAYLOAD_BYTES = 25 * 1024 * 1024
ZERO_SHA = "0" * 40


class WebhookError(Exception):
    """A refused delivery; `status` is the HTTP status to answer with."""

    status = 400


class BadRequest(WebhookError):
    status = 400


class BadSignature(WebhookError):
    status = 401


class PayloadTooLarge(WebhookError):
    status = 413


@dataclass(frozen=True)
class PushNotice:
    provider: Literal["github", "gitlab", "git"]
    delivery_id: str
    repository: str
    ref: str
    before: str
    after: str
    deleted: bool
    pusher: str | None = None
    head_message: str | None = None


@dataclass(frozen=True)
class Ping:
    provider: str
    delivery_id: str
    repository: str | None


@dataclass(frozen=True)
class Ignored:
    provider: str
    event: str
    reason: str
