"""Webhooks: signature checks and payload parsing for GitHub, GitLab and Instep's own
post-receive hook, all pure; the routes in `orchestrator.api.webhooks` apply them."""

from orchestrator.webhooks.notices import (
    MAX_PAYLOAD_BYTES,
    BadRequest,
    BadSignature,
    Ignored,
    PayloadTooLarge,
    Ping,
    PushNotice,
    WebhookError,
)
from orchestrator.webhooks.providers import parse_git, parse_github, parse_gitlab, repository_of
from orchestrator.webhooks.signatures import sign
from orchestrator.webhooks.urls import default_match_name

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "BadRequest",
    "BadSignature",
    "Ignored",
    "PayloadTooLarge",
    "Ping",
    "PushNotice",
    "WebhookError",
    "default_match_name",
    "parse_git",
    "parse_github",
    "parse_gitlab",
    "repository_of",
    "sign",
]
