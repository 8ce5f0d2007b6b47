"""Webhooks: verifying and reading deliveries from GitHub, GitLab and Instep's own post-receive
hook, all pure (bytes and headers in, a notice or an error out); `orchestrator.api.webhooks`
applies them and `instep hook install` writes the hook."""

from orchestrator.webhooks.errors import BadRequest, BadSignature, PayloadTooLarge, WebhookError
from orchestrator.webhooks.notices import MAX_PAYLOAD_BYTES, Ignored, Ping, PushNotice
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
