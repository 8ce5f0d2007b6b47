"""Why a delivery is refused; each error carries the HTTP status the route answers with."""

from __future__ import annotations


class WebhookError(Exception):
    """A refused delivery; `status` is the HTTP status and `str(error)` the user-facing reason.

    Messages never include the secret or the body."""

    status = 400


class BadRequest(WebhookError):
    """Malformed JSON, unsupported content type, missing header or missing payload field."""

    status = 400


class BadSignature(WebhookError):
    """Missing, malformed or wrong signature (GitHub, git) or token (GitLab)."""

    status = 401


class PayloadTooLarge(WebhookError):
    """A body over `MAX_PAYLOAD_BYTES`."""

    status = 413
