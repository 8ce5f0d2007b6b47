"""Finding the repository name in a delivery's raw bytes, before anything is verified or decoded.

The project (and so the secret that verifies the delivery) is chosen by the repository name the
body claims. Reading it must cost next to nothing for a body that turns out to be unsigned, so
nothing here decodes the JSON: a regular expression (C speed, no allocation) finds the key in the
first `SCAN_WINDOW` bytes, a bracket count on the bytes before it checks that the key belongs to
the top-level object, and a walk of at most `MAX_TOKENS` tokens finds the inner key in that
object. The name found is only a hint for choosing the secret: after verification the decoded
payload must name the same repository (see `deliveries.open_delivery`).

In valid JSON a `"` inside a string is always escaped, so `[{,] "key" :` can only match a real
key, never text inside a string."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import islice
from urllib.parse import unquote_to_bytes

SCAN_WINDOW = 1024 * 1024
MAX_TOKENS = 5000
MAX_CANDIDATES = 8
MAX_NAME_CHARS = 300  # the longest match name a project can have

# A JSON string literal (escapes allowed), written so the engine never backtracks.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"\s*(:)?|[{}\[\]]', re.DOTALL)
_STRING_VALUE = re.compile(rb'\s*("[^"\\]*(?:\\.[^"\\]*)*")', re.DOTALL)
# GitHub's form deliveries carry the JSON percent-encoded in `payload=`.
_FORM_PAYLOAD = re.compile(rb"(?:^|&)payload=")


def key_pattern(key: str, value_opens: bytes) -> re.Pattern[bytes]:
    """`[{,] "key" : <value_opens>` — a key followed by the first byte of its value."""
    return re.compile(rb'[{,]\s*"' + re.escape(key.encode()) + rb'"\s*:\s*' + value_opens)


def text_in_object(body: bytes, outer: re.Pattern[bytes], inner: str) -> str | None:
    """The string value of `inner` inside the top-level object `outer` (a `key_pattern` ending
    with `\\{`), e.g. `repository.full_name`; None when it is not found within the bounds."""
    for match in _candidates(outer, body):
        if _depth_at(body, match.start()) == 1:
            return _inner_text(body, match.end(), inner)
    return None


def top_level_text(body: bytes, key: re.Pattern[bytes]) -> str | None:
    """The string value of a top-level key (a `key_pattern` ending with `(?=")`)."""
    for match in _candidates(key, body):
        if _depth_at(body, match.start()) == 1:
            return _string_at(body, match.end())
    return None


def form_payload_window(body: bytes) -> bytes:
    """The start of the JSON in a form body's `payload` field, percent-decoded: at most
    `SCAN_WINDOW` bytes of the body are decoded, whatever its size."""
    match = _FORM_PAYLOAD.search(body, 0, min(len(body), SCAN_WINDOW))
    if match is None:
        return b""
    end = body.find(b"&", match.end(), match.end() + SCAN_WINDOW)
    window = body[match.end() : end if end >= 0 else match.end() + SCAN_WINDOW]
    return unquote_to_bytes(window.replace(b"+", b" "))


def _candidates(pattern: re.Pattern[bytes], body: bytes) -> Iterator[re.Match[bytes]]:
    """The first MAX_CANDIDATES matches in the scan window, found one at a time."""
    return islice(pattern.finditer(body, 0, min(len(body), SCAN_WINDOW)), MAX_CANDIDATES)


def _depth_at(body: bytes, end: int) -> int:
    """How many objects/arrays are open just after `body[end]` (the `{` or `,` before a key),
    counting brackets outside strings. The prefix is at most SCAN_WINDOW bytes."""
    prefix = _STRING.sub(b"", body[: end + 1])
    return prefix.count(b"{") + prefix.count(b"[") - prefix.count(b"}") - prefix.count(b"]")


def _inner_text(body: bytes, start: int, inner: str) -> str | None:
    """Walk the object that opens just before `start` (depth 1) for the key `inner`."""
    wanted = json.dumps(inner).encode()
    depth = 1
    position = start
    for _ in range(MAX_TOKENS):
        token = _TOKEN.search(body, position)
        if token is None:
            return None
        position = token.end()
        first = body[token.start() : token.start() + 1]
        if first in (b"{", b"["):
            depth += 1
        elif first in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                return None
        elif token.group(1) and depth == 1 and body.startswith(wanted, token.start()):
            # `wanted` has no escapes, so its closing quote is the literal's: the key is exact.
            return _string_at(body, position)
    return None


def _string_at(body: bytes, position: int) -> str | None:
    literal = _STRING_VALUE.match(body, position)
    if literal is None or literal.end(1) - literal.start(1) > 6 * MAX_NAME_CHARS + 2:
        return None
    try:
        value = json.loads(literal.group(1))
    except ValueError:
        return None
    return value if isinstance(value, str) and value else None
