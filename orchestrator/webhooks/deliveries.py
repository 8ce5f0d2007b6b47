"""The one pipeline every delivery goes through, whatever its provider:

1. `address`: size, required headers, content type, then the repository name the body claims,
   found without decoding it (`Provider.repository`).
2. The caller looks the project up by that name (the only I/O, outside this module).
3. `open_delivery`: verify the signature or token on the raw bytes, then decode the JSON once
   (nesting bounded), then build the notice, which must name the repository it was addressed to.

An unknown repository is verified against a random secret and refused with the same BadSignature
(same status, same message) as a wrong signature, so an unsigned caller cannot tell whether a
repository is registered; a delivery that is not signed costs no decoding at all."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.webhooks.errors import BadRequest, BadSignature
from orchestrator.webhooks.notices import Ignored, Notice
from orchestrator.webhooks.payloads import check_size, content_type, decode
from orchestrator.webhooks.providers import Provider

# Verifying an unknown repository's delivery against this costs what a known one costs.
_NO_PROJECT_SECRET = secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Addressed:
    """A delivery whose size, headers and content type are acceptable, and the repository it
    claims to be about (unverified)."""

    provider: Provider
    repository: str
    media_type: str


def address(provider: Provider, headers: Mapping[str, str], body: bytes) -> Addressed:
    check_size(body)
    provider.check_headers(headers)
    media_type = content_type(headers, provider.media_types)
    return Addressed(provider, provider.repository(headers, body, media_type), media_type)


def open_delivery(
    addressed: Addressed, headers: Mapping[str, str], body: bytes, secret: str | None
) -> Notice:
    """Verify, decode once, read. `secret` is the webhook secret of the project matching
    `addressed.repository`, or None when no project matches."""
    provider = addressed.provider
    provider.verify(_NO_PROJECT_SECRET if secret is None else secret, headers, body)
    if secret is None:  # unreachable: nobody can sign with a secret drawn at random
        raise BadSignature("the delivery's signature does not match")
    notice = provider.read(headers, body, decode(body, addressed.media_type))
    claimed = None if isinstance(notice, Ignored) else notice.repository
    if claimed is not None and claimed != addressed.repository:
        raise BadRequest(
            f"the payload names repository {claimed!r} in one place and {addressed.repository!r} "
            "in another; send one repository per delivery"
        )
    return notice


def read_delivery(provider: Provider, headers: Mapping[str, str], body: bytes, secret: str | None) -> Notice:
    """`address` then `open_delivery` with a known secret: the whole pipeline, for callers that
    already know which project a delivery is for (tests, tools)."""
    return open_delivery(address(provider, headers, body), headers, body, secret)
