"""What the simulator answers: a status, a JSON body and headers, in each store's error format."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    410: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Refusal(Exception):
    """A store rule refused the request; carries the store's reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def google_error(
    code: int, message: str, *, reason: str = "badRequest", domain: str = "global", status: str = ""
) -> Refusal:
    """Google's JSON error body: {"error": {"code", "message", "errors": [...], "status"}}."""
    return Refusal(
        Reply(
            code,
            {
                "error": {
                    "code": code,
                    "message": message,
                    "errors": [{"message": message, "domain": domain, "reason": reason}],
                    "status": status or GOOGLE_STATUS.get(code, "UNKNOWN"),
                }
            },
        )
    )


def apple_error(status: int, code: str, title: str, detail: str, *, pointer: str = "") -> Refusal:
    """App Store Connect's ErrorResponse: {"errors": [{"id", "status", "code", "title", "detail"}]}."""
    error: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status": str(status),
        "code": code,
        "title": title,
        "detail": detail,
    }
    if pointer:
        error["source"] = {"pointer": pointer}
    return Refusal(Reply(status, {"errors": [error]}))
