"""Signatures of outgoing webhook bodies: `sha256=<hex HMAC-SHA256 of the raw body>`, the form
GitHub uses, so receivers can reuse their verification code."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Instep-Signature-256"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header.strip())
