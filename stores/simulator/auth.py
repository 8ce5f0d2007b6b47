"""Credentials as the stores check them.

- Google: a service account signs an RS256 JWT (`iss` = client_email, `aud` = token_uri, `scope`,
  header `kid` = private_key_id) and exchanges it at the token URI for an access token (RFC 7523);
  API calls carry `Authorization: Bearer <access token>`.
- App Store Connect: every request carries an ES256 JWT signed with the team's key: header `kid`,
  claims `iss` (issuer id), `iat`, `exp` (at most 20 minutes after `iat`), `aud: appstoreconnect-v1`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from stores.simulator.clock import SimClock
from stores.simulator.replies import Refusal, Reply, apple_error, google_error

PLAY_SCOPE = "https://www.googleapis.com/auth/androidpublisher"
# google-auth puts Google's own token endpoint in `aud` whatever the key file's token_uri says.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
APPLE_AUDIENCE = "appstoreconnect-v1"
APPLE_MAX_LIFETIME_S = 20 * 60
GOOGLE_UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
APPLE_NOT_AUTHORIZED_TITLE = "Authentication credentials are missing or invalid."
APPLE_NOT_AUTHORIZED_DETAIL = (
    "Provide a properly configured and signed bearer token, and make sure that it has not expired. "
    "Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens"
)


def _pem_private(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _pem_public(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def new_service_account(client_email: str, token_uri: str) -> dict[str, Any]:
    """A Google service-account key file (the JSON the Play Console hands out), with a fresh key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "type": "service_account",
        "project_id": "instep-simulator",
        "private_key_id": secrets.token_hex(20),
        "private_key": _pem_private(key),
        "client_email": client_email,
        "client_id": str(secrets.randbelow(10**20)),
        "token_uri": token_uri,
    }


def new_app_store_key(issuer_id: str) -> dict[str, str]:
    """An App Store Connect API key: key id, issuer id and the .p8 private key (EC P-256)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return {"key_id": secrets.token_hex(5).upper(), "issuer_id": issuer_id, "private_key": _pem_private(key)}


def public_pem(private_pem: str) -> str:
    return _pem_public(serialization.load_pem_private_key(private_pem.encode(), password=None))


@dataclass
class RegisteredKey:
    owner: str  # client_email or issuer id
    public_pem: str
    revoked: bool = False


@dataclass
class KeyRing:
    clock: SimClock
    google: dict[str, RegisteredKey] = field(default_factory=dict)  # private_key_id -> key
    apple: dict[str, RegisteredKey] = field(default_factory=dict)  # kid -> key
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (email, expiry)

    def register_google(self, private_key_id: str, client_email: str, public_key_pem: str) -> None:
        self.google[private_key_id] = RegisteredKey(client_email, public_key_pem)

    def register_apple(self, key_id: str, issuer_id: str, public_key_pem: str) -> None:
        self.apple[key_id] = RegisteredKey(issuer_id, public_key_pem)

    def revoke(self, key_id: str) -> bool:
        """Revoke a key (either store); Google also drops the access tokens it already issued."""
        key = self.google.get(key_id) or self.apple.get(key_id)
        if key is None:
            return False
        key.revoked = True
        if key_id in self.google:
            self.access_tokens = {t: v for t, v in self.access_tokens.items() if v[0] != key.owner}
        return True

    def expire_access_tokens(self) -> None:
        self.access_tokens = {t: (email, 0.0) for t, (email, _) in self.access_tokens.items()}

    # --- Google ---

    def google_token(self, form: dict[str, str], token_uri: str) -> Reply:
        def refuse(description: str) -> Refusal:
            return Refusal(Reply(400, {"error": "invalid_grant", "error_description": description}))

        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Reply(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."})
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise refuse(
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
            ) from None
        key = self.google.get(header.get("kid", ""))
        if key is None or key.revoked:
            raise refuse("Invalid JWT Signature.")
        try:
            claims = jwt.decode(
                assertion,
                key.public_pem,
                algorithms=["RS256"],
                audience=[token_uri, GOOGLE_TOKEN_AUDIENCE],
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=60,
            )
        except jwt.InvalidSignatureError:
            raise refuse("Invalid JWT Signature.") from None
        except jwt.PyJWTError:
            raise refuse(
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe."
            ) from None
        if claims["iss"] != key.owner or claims["exp"] - claims["iat"] > 3600:
            raise refuse("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
        if PLAY_SCOPE not in str(claims.get("scope", "")).split():
            return Reply(
                400,
                {
                    "error": "invalid_scope",
                    "error_description": "Invalid OAuth scope or ID token audience provided.",
                },
            )
        token = "ya29.sim-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = (key.owner, self.clock.wall() + 3600)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def check_google(self, authorization: str) -> None:
        token = authorization.removeprefix("Bearer ").strip()
        entry = self.access_tokens.get(token)
        if not authorization.startswith("Bearer ") or entry is None or entry[1] <= self.clock.wall():
            raise google_error(401, GOOGLE_UNAUTHENTICATED, reason="authError", status="UNAUTHENTICATED")

    # --- App Store Connect ---

    def check_apple(self, authorization: str) -> None:
        """401 for a missing token, unknown or revoked key, bad signature, wrong `aud` or `iss`,
        expired token, or a lifetime over 20 minutes."""

        def refuse() -> Refusal:
            return apple_error(401, "NOT_AUTHORIZED", APPLE_NOT_AUTHORIZED_TITLE, APPLE_NOT_AUTHORIZED_DETAIL)

        if not authorization.startswith("Bearer "):
            raise refuse()
        token = authorization.removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
            key = self.apple.get(header.get("kid", ""))
            if key is None or key.revoked or header.get("alg") != "ES256":
                raise refuse()
            claims = jwt.decode(
                token,
                key.public_pem,
                algorithms=["ES256"],
                audience=APPLE_AUDIENCE,
                options={"require": ["iss", "exp", "aud"], "verify_iat": False},
                leeway=0,
            )
        except jwt.PyJWTError:
            raise refuse() from None
        now = self.clock.wall()
        issued = claims.get("iat", now)
        if (
            claims["iss"] != key.owner
            or claims["exp"] - issued > APPLE_MAX_LIFETIME_S
            or claims["exp"] - now > APPLE_MAX_LIFETIME_S
        ):
            raise refuse()
