"""App Store Connect API tokens: ES256 JWTs signed with the team's API key (pure apart from signing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jwt

AUDIENCE = "appstoreconnect-v1"
MAX_LIFETIME_S = 20 * 60


@dataclass(frozen=True)
class AppStoreKey:
    """An App Store Connect API key: the key id, the team's issuer id and the .p8 private key (PEM)."""

    key_id: str
    issuer_id: str
    private_key: str

    def __repr__(self) -> str:  # never print the private key
        return f"AppStoreKey(key_id={self.key_id!r}, issuer_id={self.issuer_id!r})"


def make_token(key: AppStoreKey, now: float, lifetime_s: int = 15 * 60) -> str:
    """A bearer token: header `alg ES256`, `kid`, `typ JWT`; claims `iss`, `iat`, `exp`, `aud`."""
    if not 0 < lifetime_s <= MAX_LIFETIME_S:
        raise ValueError(f"App Store Connect tokens live at most {MAX_LIFETIME_S} s, asked for {lifetime_s}")
    issued = int(now)
    claims = {"iss": key.issuer_id, "iat": issued, "exp": issued + lifetime_s, "aud": AUDIENCE}
    return jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.key_id, "typ": "JWT"})


class TokenSource:
    """Reuses one token until a minute before it expires."""

    def __init__(self, key: AppStoreKey, clock: Callable[[], float], lifetime_s: int = 15 * 60) -> None:
        self._key = key
        self._clock = clock
        self._lifetime_s = lifetime_s
        self._token = ""
        self._expires = 0.0

    def token(self) -> str:
        now = self._clock()
        if now >= self._expires - 60:
            self._token = make_token(self._key, now, self._lifetime_s)
            self._expires = int(now) + self._lifetime_s
        return self._token
