"""Reading a delivery: size, headers (case-insensitive), content type, JSON and required fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from orchestrator.webhooks.errors import BadRequest, PayloadTooLarge
from orchestrator.webhooks.notices import MAX_PAYLOAD_BYTES

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


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
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the JSON payload is {type(data).__name__}, not an object")
    return data


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
