"""HMAC-SHA256 webhook signatures and constant-time token checks."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex>` as GitHub and Instep's post-receive hook send it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def token_matches(secret: str, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(secret.encode(), header.encode())
