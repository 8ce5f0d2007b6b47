"""GitHub deliveries: `ping`, `push` and `deployment_status` (of a project's web repository),
signed with X-Hub-Signature-256.

GitHub sends JSON, or a form with the JSON in a `payload` field when the webhook's content type
is `application/x-www-form-urlencoded`; the signature covers the body as sent. GitHub names the
repository only in the body (its headers carry numeric ids), so the body is scanned for
`repository.full_name`. A redelivery keeps its X-GitHub-Delivery, which is what dedupes it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.webhooks import locating
from orchestrator.webhooks.errors import BadRequest
from orchestrator.webhooks.notices import (
    ZERO_SHA,
    DeploymentNotice,
    Ignored,
    Notice,
    Ping,
    PushNotice,
    is_zero_sha,
)
from orchestrator.webhooks.payloads import (
    FORM,
    JSON,
    commit_sha,
    field,
    optional_line,
    optional_sha,
    optional_text,
    ref_text,
    require_header,
    text_field,
)
from orchestrator.webhooks.signatures import verify_signature

EVENT = "X-GitHub-Event"
DELIVERY = "X-GitHub-Delivery"
SIGNATURE = "X-Hub-Signature-256"
_REPOSITORY = locating.key_pattern("repository", rb"\{")


class GitHub:
    name = "github"
    media_types: tuple[str, ...] = (JSON, FORM)

    def check_headers(self, headers: Mapping[str, str]) -> None:
        require_header(headers, EVENT)
        require_header(headers, DELIVERY)

    def repository(self, headers: Mapping[str, str], body: bytes, media_type: str) -> str:
        text = locating.form_payload_window(body) if media_type == FORM else body
        if not text:
            raise BadRequest("form-encoded delivery has no `payload` field")
        name = locating.text_in_object(text, _REPOSITORY, "full_name")
        if name is not None:
            return name
        if require_header(headers, EVENT) == "ping":
            raise BadRequest(
                "ping is not about a repository: organisation and app webhooks are not supported, "
                "add the webhook to the repository"
            )
        raise BadRequest("payload has no `repository.full_name` (a non-empty string)")

    def verify(self, secret: str, headers: Mapping[str, str], body: bytes) -> None:
        verify_signature(secret, body, headers, SIGNATURE)

    def read(self, headers: Mapping[str, str], body: bytes, data: dict[str, Any]) -> Notice:
        event = require_header(headers, EVENT)
        reader = _EVENTS.get(event)
        if reader is None:
            return Ignored(
                "github", event, f"GitHub event {event!r} starts nothing (only push and deployment_status do)"
            )
        return reader(require_header(headers, DELIVERY), data)


def _ping(delivery: str, data: dict[str, Any]) -> Ping:
    return Ping("github", delivery, optional_text(data, "repository", "full_name"))


def _push(delivery: str, data: dict[str, Any]) -> PushNotice:
    after = commit_sha(data, "after")
    return PushNotice(
        provider="github",
        delivery_id=delivery,
        repository=text_field(data, "repository", "full_name"),
        ref=ref_text(data, "ref"),
        before=optional_sha(data, "before") or ZERO_SHA,
        after=after,
        deleted=data.get("deleted") is True or is_zero_sha(after),
        pusher=optional_line(data, "pusher", "name"),
        head_message=optional_text(data, "head_commit", "message"),
    )


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    """The deployment's own `payload`: an object, or a string holding one (GitHub keeps what the
    deploy tool sent)."""
    payload = data.get("deployment", {}).get("payload")
    if isinstance(payload, str) and payload.strip().startswith("{"):
        try:
            payload = json.loads(payload)
        except ValueError:
            raise BadRequest(
                "payload field `deployment.payload` is a string that is not a JSON object"
            ) from None
    return payload if isinstance(payload, dict) else {}


def _deployment_status(delivery: str, data: dict[str, Any]) -> DeploymentNotice:
    deployment = field(data, "deployment")
    if not isinstance(deployment, dict):
        raise BadRequest("payload field `deployment` is not an object")
    ident = field(data, "deployment", "id")
    if isinstance(ident, bool) or not isinstance(ident, int | str):
        raise BadRequest("payload field `deployment.id` is not a number")
    payload = _payload(data)
    ref = optional_line(data, "deployment", "ref", limit=500)
    version = payload.get("version") if isinstance(payload.get("version"), str) else None
    if version is None and ref is not None:
        version = ref.removeprefix("refs/tags/").removeprefix("v")
    raw_contracts, raw_features = payload.get("contracts"), payload.get("features")
    contracts: dict[Any, Any] = raw_contracts if isinstance(raw_contracts, dict) else {}
    features: list[Any] = raw_features if isinstance(raw_features, list) else []
    return DeploymentNotice(
        provider="github",
        delivery_id=delivery,
        repository=text_field(data, "repository", "full_name"),
        deployment_id=str(ident),
        state=text_field(data, "deployment_status", "state"),
        environment=optional_line(data, "deployment_status", "environment")
        or text_field(data, "deployment", "environment"),
        sha=optional_sha(data, "deployment", "sha"),
        ref=ref,
        version=version,
        api_version=payload.get("api_version") if isinstance(payload.get("api_version"), str) else None,
        contracts=tuple((str(k), str(v)) for k, v in contracts.items()),
        features=tuple(str(f) for f in features),
        created_at=optional_text(data, "deployment_status", "created_at"),
        sender=optional_line(data, "sender", "login"),
    )


# One entry per event that means something to Instep.
_EVENTS: dict[str, Callable[[str, dict[str, Any]], Notice]] = {
    "ping": _ping,
    "push": _push,
    "deployment_status": _deployment_status,
}

GITHUB = GitHub()
