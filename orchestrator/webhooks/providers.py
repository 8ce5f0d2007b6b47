"""One parser per provider: GitHub, GitLab and Instep's own post-receive hook ("git").
Each verifies the signature or token before trusting anything in the body."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from orchestrator.webhooks.notices import (
    MAX_PAYLOAD_BYTES,
    ZERO_SHA,
    BadRequest,
    BadSignature,
    Ignored,
    PayloadTooLarge,
    Ping,
    PushNotice,
)
from orchestrator.webhooks.payloads import decode_json, header, require_header, text_field
from orchestrator.webhooks.signatures import signature_matches, token_matches


def _check_size(body: bytes) -> None:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"payload is {len(body)} bytes; the limit is {MAX_PAYLOAD_BYTES}")


def _is_zero(sha: Any) -> bool:
    return not sha or (isinstance(sha, str) and set(sha) == {"0"})


def repository_of(provider: str, headers: Mapping[str, str], body: bytes) -> str:
    """The repository full name a delivery is about, read before verification so that the
    project (and its secret) can be found. Nothing else is trusted until verified."""
    _check_size(body)
    if provider == "github":
        event = require_header(headers, "X-GitHub-Event")
        data = decode_json(headers, body, form_allowed=True)
        if event == "ping" and "repository" not in data:
            raise BadRequest("ping is not about a repository (organisation hooks are not supported)")
        return text_field(data, "repository", "full_name")
    if provider == "gitlab":
        require_header(headers, "X-Gitlab-Event")
        return text_field(decode_json(headers, body), "project", "path_with_namespace")
    if provider == "git":
        return text_field(decode_json(headers, body), "repository")
    raise BadRequest(f"unknown provider {provider!r}")


def parse_github(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ping | Ignored:
    _check_size(body)
    event = require_header(headers, "X-GitHub-Event")
    delivery = require_header(headers, "X-GitHub-Delivery")
    if not signature_matches(secret, body, header(headers, "X-Hub-Signature-256")):
        raise BadSignature("X-Hub-Signature-256 is missing or does not match the project's webhook secret")
    data = decode_json(headers, body, form_allowed=True)
    if event == "ping":
        repo = data.get("repository", {}).get("full_name") if isinstance(data.get("repository"), dict) else None
        return Ping("github", delivery, repo)
    if event != "push":
        return Ignored("github", event, f"GitHub event {event!r} starts nothing (only push)")
    after = text_field(data, "after")
    return PushNotice(
        provider="github",
        delivery_id=delivery,
        repository=text_field(data, "repository", "full_name"),
        ref=text_field(data, "ref"),
        before=str(data.get("before") or ZERO_SHA),
        after=after,
        deleted=bool(data.get("deleted")) or _is_zero(after),
        pusher=(data.get("pusher") or {}).get("name") if isinstance(data.get("pusher"), dict) else None,
        head_message=(data.get("head_commit") or {}).get("message") if isinstance(data.get("head_commit"), dict) else None,
    )


def parse_gitlab(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ignored:
    _check_size(body)
    event = require_header(headers, "X-Gitlab-Event")
    if not token_matches(secret, header(headers, "X-Gitlab-Token")):
        raise BadSignature("X-Gitlab-Token is missing or does not match the project's webhook secret")
    data = decode_json(headers, body)
    if event not in ("Push Hook", "Tag Push Hook"):
        return Ignored("gitlab", event, f"GitLab event {event!r} starts nothing (only Push Hook, Tag Push Hook)")
    after = data.get("after")
    checkout = data.get("checkout_sha")
    deleted = _is_zero(after) or ("checkout_sha" in data and checkout is None)
    commits = data.get("commits") or []
    message = commits[-1].get("message") if commits and isinstance(commits[-1], dict) else None
    delivery = header(headers, "X-Gitlab-Event-UUID") or hashlib.sha256(body).hexdigest()
    return PushNotice(
        provider="gitlab",
        delivery_id=delivery,
        repository=text_field(data, "project", "path_with_namespace"),
        ref=text_field(data, "ref"),
        before=str(data.get("before") or ZERO_SHA),
        after=str(after or ZERO_SHA),
        deleted=deleted,
        pusher=data.get("user_username") or data.get("user_name"),
        head_message=message,
    )


def parse_git(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ignored:
    _check_size(body)
    event = require_header(headers, "X-Instep-Event")
    delivery = require_header(headers, "X-Instep-Delivery")
    if not signature_matches(secret, body, header(headers, "X-Instep-Signature-256")):
        raise BadSignature("X-Instep-Signature-256 is missing or does not match the project's webhook secret")
    data = decode_json(headers, body)
    if event != "push":
        return Ignored("git", event, f"event {event!r} starts nothing (only push)")
    after = text_field(data, "after")
    return PushNotice(
        provider="git",
        delivery_id=delivery,
        repository=text_field(data, "repository"),
        ref=text_field(data, "ref"),
        before=str(data.get("before") or ZERO_SHA),
        after=after,
        deleted=_is_zero(after),
        pusher=data.get("pusher") if isinstance(data.get("pusher"), str) else None,
    )
