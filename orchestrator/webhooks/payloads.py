"""Decoding webhook bodies: size, content type, JSON; headers looked up case-insensitively."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from orchestrator.webhooks.notices import MAX_PAYLOAD_BYTES, BadRequest, PayloadTooLarge


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def require_header(headers: Mapping[str, str], name: str) -> str:
    value = header(headers, name)
    if not value:
        raise BadRequest(f"missing header {name}")
    return value


def decode_json(headers: Mapping[str, str], body: bytes, form_allowed: bool = False) -> dict[str, Any]:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(f"payload is {len(body)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    content_type = (header(headers, "Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded" and form_allowed:
        fields = parse_qs(body.decode("utf-8", "replace"))
        if "payload" not in fields:
            raise BadRequest("form-encoded delivery has no `payload` field")
        raw = fields["payload"][0]
    elif content_type == "application/json":
        raw = body.decode("utf-8", "replace")
    else:
        expected = "application/json" + (" or application/x-www-form-urlencoded" if form_allowed else "")
        raise BadRequest(f"content type {content_type or '(none)'!r} is not supported (expected {expected})")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise BadRequest("the JSON payload is not an object")
    return data


def field(data: Mapping[str, Any], *path: str) -> Any:
    """A required nested field; BadRequest names the missing one."""
    current: Any = data
    for i, part in enumerate(path):
        if not isinstance(current, Mapping) or part not in current or current[part] is None:
            raise BadRequest(f"payload has no `{'.'.join(path[: i + 1])}`")
        current = current[part]
    return current


def text_field(data: Mapping[str, Any], *path: str) -> str:
    value = field(data, *path)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"payload field `{'.'.join(path)}` is not a non-empty string")
    return value
