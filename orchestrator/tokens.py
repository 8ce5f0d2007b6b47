"""API tokens: created once, shown once, stored as a SHA-256 hash, each carrying one role."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.db.models import ApiToken

ROLES = ("developer", "qa", "release_manager", "admin", "web_deployer")
# Roles that may do only what a route names them for, not even read: a web pipeline's token
# records web deployments and nothing else.
NARROW_ROLES = ("web_deployer",)
TOKEN_PREFIX = "inst_"


class TokenError(Exception):
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, role: str, name: str = "") -> tuple[ApiToken, str]:
    """Returns the row and the clear token, which is never stored."""
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r} (expected one of: {', '.join(ROLES)})")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name or role, role=role, token_hash=hash_token(clear))
    session.add(row)
    session.flush()
    return row, clear


def authenticate(session: Session, token: str) -> ApiToken | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or row.revoked or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


def allows(role: str, allowed: tuple[str, ...]) -> bool:
    """`admin` may do everything; other roles only what a route names."""
    return role == "admin" or role in allowed


def admits(role: str, allowed: tuple[str, ...]) -> bool:
    """Whether a route open to `allowed` (empty: to every reader) admits `role`; a narrow role
    is admitted only where a route names it."""
    if not allowed:
        return role not in NARROW_ROLES
    return allows(role, allowed)
