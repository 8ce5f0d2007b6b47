"""The provider registry: which module reads deliveries from which provider."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.webhooks import git, github, gitlab
from orchestrator.webhooks.errors import BadRequest
from orchestrator.webhooks.notices import Ignored, Ping, PushNotice

_REPOSITORY = {"github": github.repository, "gitlab": gitlab.repository, "git": git.repository}


def repository_of(provider: str, headers: Mapping[str, str], body: bytes) -> str:
    """The repository full name a delivery claims to be about, read before verification so the
    route can find the project and its secret. Trust nothing else until `parse_*` verified it."""
    reader = _REPOSITORY.get(provider)
    if reader is None:
        raise BadRequest(f"unknown webhook provider {provider!r} (expected github, gitlab or git)")
    return reader(headers, body)


def parse_github(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ping | Ignored:
    """Verify X-Hub-Signature-256, then read a GitHub `ping` or `push`; other events are Ignored."""
    return github.parse(headers, body, secret)


def parse_gitlab(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ignored:
    """Verify X-Gitlab-Token, then read a `Push Hook` or `Tag Push Hook`; other events are Ignored."""
    return gitlab.parse(headers, body, secret)


def parse_git(headers: Mapping[str, str], body: bytes, secret: str) -> PushNotice | Ignored:
    """Verify X-Instep-Signature-256, then read a notice from Instep's post-receive hook."""
    return git.parse(headers, body, secret)
