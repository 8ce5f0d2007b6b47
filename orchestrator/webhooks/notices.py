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
class DeploymentNotice:
    """A GitHub `deployment_status` of the project's web repository: `success` records a web
    deployment, `failure`/`error`/`inactive` of the current one rolls it back. The version and
    what it provides come from the deployment's `payload` (`version`, `api_version`,
    `contracts`, `features`), the version else from its ref."""

    provider: str
    delivery_id: str
    repository: str
    deployment_id: str
    state: str
    environment: str
    sha: str | None
    ref: str | None
    version: str | None
    api_version: str | None = None
    contracts: tuple[tuple[str, str], ...] = ()
    features: tuple[str, ...] = ()
    created_at: str | None = None
    sender: str | None = None


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


Notice = PushNotice | DeploymentNotice | Ping | Ignored
