"""Secret redaction for job logs: every value of a project's secrets becomes `***`.

Masked: each secret as written; each line of a multi-line secret (a PEM key, a service-account
JSON) on its own; its URL-encoded forms; and its base64 forms, also where it sits inside a longer
base64 text (e.g. `user:secret` in a basic-auth header). Not masked, and cannot be: values
derived from a secret (a hash, a signature, a token it was exchanged for) or re-encoded in any
other way (hex, gzip, split across output)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
# Values this short would mask ordinary words ("1", "on", "true"); the API refuses them as
# secrets, and the redactor ignores them (and such lines of a multi-line secret).
MIN_SECRET_LENGTH = 6
# A base64 fragment shorter than this would match ordinary text too often.
_MIN_ENCODED_LENGTH = 8


class SecretTooShort(ValueError):
    """A secret value too short to be masked reliably in logs."""


def check_secret(name: str, value: str) -> None:
    """Refuse a secret the logs could not mask; the message says which and why."""
    if len(value) < MIN_SECRET_LENGTH:
        raise SecretTooShort(
            f"secret {name!r} is {len(value)} characters long; secrets must have at least "
            f"{MIN_SECRET_LENGTH} so they can be masked in logs without masking ordinary words"
        )


def _base64_fragments(value: bytes) -> set[str]:
    """The base64 text that stands for `value` wherever it starts in a longer base64 stream (at
    each of the three byte alignments), without the characters its neighbours also shape."""
    out: set[str] = set()
    for offset, drop in ((0, 0), (1, 2), (2, 3)):
        data = b"\0" * offset + value
        determined = (len(data) * 8) // 6  # characters made only of these bytes' bits
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(data).decode()
            fragment = text[drop:determined]
            if len(fragment) >= _MIN_ENCODED_LENGTH:
                out.add(fragment)
    return out


# A string value of a JSON secret this long is masked on its own (ids, e-mails, tokens).
_MIN_JSON_VALUE_LENGTH = 24


def _json_values(secret: str) -> set[str]:
    """The sensitive string values inside a JSON secret (a service-account key file): printed
    with escapes decoded (`echo` in dash turns its `\\n` into new lines) they would otherwise
    show, e.g. the lines of its private key."""
    if not secret.lstrip().startswith(("{", "[")):
        return set()
    try:
        data = json.loads(secret)
    except ValueError:
        return set()
    out: set[str] = set()
    todo = [data]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, str):
            if "\n" in item or "\r" in item:
                out |= {item} | {line.strip() for line in item.splitlines()}
            elif len(item) >= _MIN_JSON_VALUE_LENGTH:
                out.add(item)
    return out


def variants(secret: str) -> set[str]:
    """Every form of `secret` the redactor masks (each at least MIN_SECRET_LENGTH long)."""
    forms = {secret}
    if "\n" in secret or "\r" in secret:
        forms |= {line.strip() for line in secret.splitlines()}
    forms |= _json_values(secret)
    forms |= {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms |= _base64_fragments(secret.encode())
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class Redactor:
    """Replaces every occurrence of any form of any secret in a text with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                values |= variants(secret)
        ordered = sorted(values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        # The longest text one secret can occupy: a stream cut shorter than this may split it.
        self.longest = len(ordered[0]) if ordered else 0

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def safe_cut(self, text: str) -> int:
        """Where to cut `text` (a chunk of a stream that goes on) so that no secret is split:
        the part before the cut can be redacted and shown; the rest waits for more text."""
        if self._pattern is None:
            return len(text)
        cut = max(0, len(text) - (self.longest - 1))
        for match in self._pattern.finditer(text):
            if match.start() < cut < match.end():
                cut = match.end()
        return cut
