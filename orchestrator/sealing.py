"""Project secrets and webhook secrets are stored sealed (Fernet, keyed from INSTEP_SECRET_KEY),
so a copy of the database alone reveals none of them."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed:v1:"


class SealError(Exception):
    """A stored secret cannot be opened (wrong INSTEP_SECRET_KEY, or not sealed)."""


class Sealer:
    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"instep-sealing:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, value: str) -> str:
        if not value.startswith(PREFIX):
            raise SealError("a stored secret is not sealed; was it written by something other than Instep?")
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SealError(
                "a stored secret cannot be opened: INSTEP_SECRET_KEY is not the key it was sealed with"
            ) from None
