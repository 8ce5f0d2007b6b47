"""Reading a delivery: size, headers (case-insensitive), content type, JSON with bounded nesting,
and required fields checked for what they must be (a commit sha, a ref without control characters)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from orchestrator.webhooks.errors import BadRequest, PayloadTooLarge
from orchestrator.webhooks.notices import MAX_PAYLOAD_BYTES

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# Webhook payloads nest about six levels deep; anything past this is refused before decoding.
MAX_NESTING = 64
MAX_HEADER_CHARS = 200  # delivery ids are stored in a 200-character column
MAX_REF_CHARS = 500

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPEN_CLOSE = bytes.maketrans(b"{[}]", b"(())")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")
_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_size(body: bytes) -> None:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"payload is {len(body)} bytes; the limit is {MAX_PAYLOAD_BYTES} bytes")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name`, whatever the case of the keys in `headers`."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def require_header(headers: Mapping[str, str], name: str) -> str:
    value = (header(headers, name) or "").strip()
    if not value:
        raise BadRequest(f"missing header {name}")
    if len(value) > MAX_HEADER_CHARS or _CONTROL.search(value):
        raise BadRequest(f"header {name} must be at most {MAX_HEADER_CHARS} printable characters")
    return value


def content_type(headers: Mapping[str, str], accepted: tuple[str, ...] = (JSON,)) -> str:
    """The media type of the body (parameters such as charset dropped), if it is one we accept."""
    media_type = (header(headers, "Content-Type") or "").split(";")[0].strip().lower()
    if media_type not in accepted:
        raise BadRequest(
            f"content type {media_type or '(none)'!r} is not supported (expected {' or '.join(accepted)})"
        )
    return media_type


def decode(body: bytes, media_type: str) -> dict[str, Any]:
    """The JSON object in `body`; a form body carries it in its `payload` field (GitHub's option)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8 text (invalid byte at offset {exc.start})") from None
    if media_type == FORM:
        fields = parse_qs(text, keep_blank_values=True)
        if "payload" not in fields:
            raise BadRequest("form-encoded delivery has no `payload` field")
        text = fields["payload"][0]
        check_nesting(text.encode())
    else:
        check_nesting(body)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # not reachable below MAX_NESTING; kept so no input can answer 500
        raise BadRequest(f"the JSON nests deeper than {MAX_NESTING} levels") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the JSON payload is {type(data).__name__}, not an object")
    return data


def check_nesting(raw: bytes, limit: int = MAX_NESTING) -> None:
    """Raise BadRequest when the JSON text `raw` nests objects/arrays deeper than `limit`.

    Without building anything: strings are dropped, brackets kept, and each pass deletes the
    innermost `()` pairs, so after `limit` passes a pair is left only if the nesting is deeper.
    At most `limit` passes over bytes, in C; malformed text is left for the decoder to report."""
    brackets = _STRING.sub(b"", raw).translate(_OPEN_CLOSE, _NOT_BRACKETS)
    for _ in range(limit):
        if b"()" not in brackets:
            return
        brackets = brackets.replace(b"()", b"")
    if b"()" in brackets:
        raise BadRequest(f"the JSON nests deeper than {limit} levels")


def field(data: Mapping[str, Any], *path: str) -> Any:
    """A required nested field; the BadRequest names the missing one."""
    current: Any = data
    for i, part in enumerate(path):
        if not isinstance(current, Mapping) or current.get(part) is None:
            raise BadRequest(f"payload has no `{'.'.join(path[: i + 1])}`")
        current = current[part]
    return current


def text_field(data: Mapping[str, Any], *path: str) -> str:
    value = field(data, *path)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"payload field `{'.'.join(path)}` is not a non-empty string")
    return value


def optional_text(data: Any, *path: str) -> str | None:
    """A nested string if every step exists and it is a non-empty string, else None."""
    current = data
    for part in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current if isinstance(current, str) and current else None


def commit_sha(data: Mapping[str, Any], *path: str) -> str:
    """A required commit sha: 40 (SHA-1) or 64 (SHA-256) hex digits, returned in lower case."""
    value = text_field(data, *path)
    if not _SHA.fullmatch(value):
        raise BadRequest(
            f"payload field `{'.'.join(path)}` is not a commit sha (40 or 64 hex digits); "
            "a branch or tag name cannot pin a run to a commit"
        )
    return value.lower()


def optional_sha(data: Mapping[str, Any], *path: str) -> str | None:
    """A sha that may be absent or null (checked like `commit_sha` when present)."""
    return commit_sha(data, *path) if optional_text(data, *path) is not None else None


def ref_text(data: Mapping[str, Any], *path: str) -> str:
    """A required git ref: at most MAX_REF_CHARS characters, none of them a control character
    (a newline would write a fake line into the job log)."""
    value = text_field(data, *path)
    _printable(value, ".".join(path), MAX_REF_CHARS)
    return value


def optional_line(data: Any, *path: str, limit: int = 200) -> str | None:
    """An optional one-line display value (a pusher's name): refused with a control character."""
    value = optional_text(data, *path)
    if value is not None:
        _printable(value, ".".join(path), limit)
    return value


def _printable(value: str, name: str, limit: int) -> None:
    if len(value) > limit:
        raise BadRequest(f"payload field `{name}` is longer than {limit} characters")
    control = _CONTROL.search(value)
    if control is not None:
        raise BadRequest(
            f"payload field `{name}` contains the control character U+{ord(control.group()):04X}; "
            "git refuses such names"
        )
