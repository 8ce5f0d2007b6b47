"""What a verified delivery means: a push, a ping, or an event Instep ignores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MAX_PAYLOAD_BYTES = 25 * 1024 * 1024
ZERO_SHA = "0" * 40

Provider = Literal["github", "gitlab", "git"]


@dataclass(frozen=True)
class PushNotice:
    """One ref moved (or was deleted) in a repository."""

    provider: Provider
    delivery_id: str
    repository: str
    ref: str
    before: str
    after: str
    deleted: bool
    pusher: str | None = None
    head_message: str | None = None


@dataclass(frozen=True)
class Ping:
    """GitHub checking that the webhook works; answered 200."""

    provider: str
    delivery_id: str
    repository: str | None


@dataclass(frozen=True)
class Ignored:
    """An event that starts nothing; answered 202 with the reason."""

    provider: str
    event: str
    reason: str


def is_zero_sha(sha: object) -> bool:
    """True for a missing sha or git's all-zeros "no object" sha (a created or deleted ref)."""
    return sha is None or sha == "" or (isinstance(sha, str) and set(sha) == {"0"})


Notice = PushNotice | Ping | Ignored
