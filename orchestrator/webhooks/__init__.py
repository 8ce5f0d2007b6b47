"""Webhooks: verifying and reading deliveries from GitHub, GitLab and Instep's own post-receive
hook, all pure (bytes and headers in, a notice or an error out). One registry of providers
(`PROVIDERS`) and one pipeline (`address` → look the project up → `open_delivery`: verify on the
raw bytes, decode once, read); `orchestrator.api.webhooks` applies it and `instep hook install`
writes the hook."""

from orchestrator.webhooks.deliveries import Addressed, address, open_delivery, read_delivery
from orchestrator.webhooks.errors import BadRequest, BadSignature, PayloadTooLarge, WebhookError
from orchestrator.webhooks.notices import (
    MAX_PAYLOAD_BYTES,
    DeploymentNotice,
    Ignored,
    Notice,
    Ping,
    PushNotice,
)
from orchestrator.webhooks.payloads import MAX_NESTING
from orchestrator.webhooks.providers import PROVIDERS, Provider, provider_named
from orchestrator.webhooks.signatures import sign
from orchestrator.webhooks.urls import default_match_name

__all__ = [
    "MAX_NESTING",
    "MAX_PAYLOAD_BYTES",
    "PROVIDERS",
    "Addressed",
    "BadRequest",
    "BadSignature",
    "DeploymentNotice",
    "Ignored",
    "Notice",
    "PayloadTooLarge",
    "Ping",
    "Provider",
    "PushNotice",
    "WebhookError",
    "address",
    "default_match_name",
    "open_delivery",
    "provider_named",
    "read_delivery",
    "sign",
]
