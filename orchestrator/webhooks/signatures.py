"""HMAC-SHA256 body signatures (GitHub, Instep's hook) and shared tokens (GitLab), compared in
constant time so that response timing says nothing about how much of a guess was right.

A mismatch reads the same whether the project exists with another secret or no project matches
the repository: the refusal must not tell an unsigned caller which repositories are registered."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from orchestrator.webhooks.errors import BadSignature
from orchestrator.webhooks.payloads import header

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_NOT_A_PROJECT_SECRET = (
    "the webhook's secret is not the webhook secret of a project matching the payload's repository "
    "(check the secret, and that `instep project list` shows the repository under MATCH)"
)


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex>` as GitHub and Instep's post-receive hook send it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, headers: Mapping[str, str], name: str) -> None:
    """Raise BadSignature unless header `name` is `sha256=<hex>` of `body` keyed with `secret`."""
    _require_secret(secret)
    value = (header(headers, name) or "").strip()
    if not value:
        raise BadSignature(
            f"missing header {name}: the webhook must be signed with the project's webhook secret"
        )
    match = _SIGNATURE.fullmatch(value)
    if match is None:
        raise BadSignature(f"header {name} is not of the form sha256=<64 hex digits>")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), match.group(1).lower().encode()):
        raise BadSignature(f"header {name} does not match the body: {_NOT_A_PROJECT_SECRET}")


def verify_token(secret: str, headers: Mapping[str, str], name: str) -> None:
    """Raise BadSignature unless header `name` equals `secret`."""
    _require_secret(secret)
    value = header(headers, name)
    if not value:
        raise BadSignature(
            f"missing header {name}: set the webhook's secret token to the project's webhook secret"
        )
    if not hmac.compare_digest(secret.encode(), value.encode()):
        raise BadSignature(f"header {name} is wrong: {_NOT_A_PROJECT_SECRET}")


def _require_secret(secret: str) -> None:
    # With an empty key anyone can sign; refuse rather than accept every delivery.
    if not secret:
        raise BadSignature("the project has no webhook secret; set one before accepting webhooks")
