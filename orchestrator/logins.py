"""Signed login sessions for the dashboard: what the session cookie holds, and the CSRF token
bound to it. The cookie is signed (not encrypted) with a key derived from INSTEP_SECRET_KEY;
it holds a user id, the user's session version (a password change ends older sessions) and a
random nonce that the CSRF token is derived from."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "instep_session"
MAX_AGE_SECONDS = 14 * 24 * 3600
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class LoginSession:
    """The cookie's contents: an anonymous visitor has only a nonce (for the login form's CSRF)."""

    nonce: str
    user_id: int | None = None
    version: int = 0


class SessionSigner:
    def __init__(self, secret_key: str) -> None:
        # Separate keys per purpose, so a signature made for one use is useless for another.
        root = secret_key.encode()
        self._serializer = URLSafeTimedSerializer(
            hashlib.sha256(b"instep-dashboard-session\0" + root).hexdigest(), salt="instep-session"
        )
        self._csrf_key = hashlib.sha256(b"instep-dashboard-csrf\0" + root).digest()

    def dumps(self, login: LoginSession) -> str:
        data: dict[str, object] = {"n": login.nonce}
        if login.user_id is not None:
            data.update(u=login.user_id, v=login.version)
        return self._serializer.dumps(data)

    def loads(self, cookie: str | None, max_age: int = MAX_AGE_SECONDS) -> LoginSession | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        uid, version = data.get("u"), data.get("v", 0)
        if uid is not None and not (isinstance(uid, int) and isinstance(version, int)):
            return None
        return LoginSession(nonce=data["n"], user_id=uid, version=version)

    def csrf_token(self, login: LoginSession) -> str:
        return hmac.new(self._csrf_key, login.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, login: LoginSession | None, token: str | None) -> bool:
        if login is None or not token:
            return False
        return hmac.compare_digest(self.csrf_token(login), token)


def anonymous() -> LoginSession:
    return LoginSession(nonce=secrets.token_urlsafe(16))


def signed_in(user_id: int, version: int) -> LoginSession:
    """A fresh nonce on every sign-in, so a token seen before signing in is worthless after."""
    return LoginSession(nonce=secrets.token_urlsafe(16), user_id=user_id, version=version)
