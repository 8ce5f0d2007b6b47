"""The provider registry: one entry per source of deliveries, each registered once by name.

A provider says how its deliveries are addressed, authenticated and read; the one pipeline in
`deliveries` runs those steps in the same order for every provider. Adding a provider (or an
event of one, such as GitHub's `deployment_status`) is one module (or one entry in its event
table) plus one line in `PROVIDERS`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from orchestrator.webhooks.notices import Notice


class Provider(Protocol):
    """How one provider's deliveries are read. Every method is pure."""

    name: str
    #: Content types the provider sends (the first one is what its documentation recommends).
    media_types: tuple[str, ...]

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """Raise BadRequest naming a required header that is missing."""

    def repository(self, headers: Mapping[str, str], body: bytes, media_type: str) -> str:
        """The repository name the delivery claims, found without decoding the body (a header,
        or a bounded scan of the raw bytes); BadRequest naming the field when there is none.
        Only a hint for choosing the secret: nothing is trusted until `verify` passed."""

    def verify(self, secret: str, headers: Mapping[str, str], body: bytes) -> None:
        """Raise BadSignature unless the raw body/headers are authenticated by `secret`."""

    def read(self, headers: Mapping[str, str], body: bytes, data: dict[str, Any]) -> Notice:
        """Build the notice from the verified, decoded payload."""


# The modules below implement Provider; imported here, after it is defined, to register them.
from orchestrator.webhooks.git import GIT  # noqa: E402
from orchestrator.webhooks.github import GITHUB  # noqa: E402
from orchestrator.webhooks.gitlab import GITLAB  # noqa: E402

PROVIDERS: Mapping[str, Provider] = {p.name: p for p in (GITHUB, GITLAB, GIT)}


def provider_named(name: str) -> Provider | None:
    return PROVIDERS.get(name)
