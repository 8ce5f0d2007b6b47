"""GitLab deliveries: `Push Hook` and `Tag Push Hook`, authenticated by X-Gitlab-Token.

GitLab names the project only in the body, so the body is scanned for `project.path_with_namespace`
(the full path, subgroups included: `group/sub/shop`), which must equal a project's match name."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from orchestrator.webhooks import locating
from orchestrator.webhooks.errors import BadRequest
from orchestrator.webhooks.notices import ZERO_SHA, Ignored, Notice, PushNotice, is_zero_sha
from orchestrator.webhooks.payloads import (
    JSON,
    commit_sha,
    header,
    optional_line,
    optional_sha,
    optional_text,
    ref_text,
    require_header,
    text_field,
)
from orchestrator.webhooks.signatures import verify_token

EVENT = "X-Gitlab-Event"
TOKEN = "X-Gitlab-Token"
PUSH_EVENTS = ("Push Hook", "Tag Push Hook")
# Idempotency-Key stays the same when GitLab retries or an admin resends a delivery (GitLab 17.4+);
# older servers only send X-Gitlab-Event-UUID.
DELIVERY_HEADERS = ("Idempotency-Key", "X-Gitlab-Event-UUID")
_PROJECT = locating.key_pattern("project", rb"\{")


class GitLab:
    name = "gitlab"
    media_types: tuple[str, ...] = (JSON,)

    def check_headers(self, headers: Mapping[str, str]) -> None:
        require_header(headers, EVENT)

    def repository(self, headers: Mapping[str, str], body: bytes, media_type: str) -> str:
        name = locating.text_in_object(body, _PROJECT, "path_with_namespace")
        if name is None:
            raise BadRequest("payload has no `project.path_with_namespace` (a non-empty string)")
        return name

    def verify(self, secret: str, headers: Mapping[str, str], body: bytes) -> None:
        verify_token(secret, headers, TOKEN)

    def read(self, headers: Mapping[str, str], body: bytes, data: dict[str, Any]) -> Notice:
        event = require_header(headers, EVENT)
        if event not in PUSH_EVENTS:
            return Ignored(
                "gitlab",
                event,
                f"GitLab event {event!r} starts nothing (only Push Hook and Tag Push Hook do)",
            )
        return _push(_delivery_id(headers, body), data)


def _delivery_id(headers: Mapping[str, str], body: bytes) -> str:
    for name in DELIVERY_HEADERS:
        if (header(headers, name) or "").strip():
            return require_header(headers, name)
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _push(delivery: str, data: dict[str, Any]) -> PushNotice:
    after = commit_sha(data, "after")
    checkout_sha = optional_sha(data, "checkout_sha")
    # GitLab marks a deleted branch or tag with an all-zeros `after` and a null `checkout_sha`.
    deleted = is_zero_sha(after) or ("checkout_sha" in data and checkout_sha is None)
    return PushNotice(
        provider="gitlab",
        delivery_id=delivery,
        repository=text_field(data, "project", "path_with_namespace"),
        ref=ref_text(data, "ref"),
        before=optional_sha(data, "before") or ZERO_SHA,
        after=after,
        deleted=deleted,
        pusher=optional_line(data, "user_username") or optional_line(data, "user_name"),
        head_message=_head_message(data, after),
    )


def _head_message(data: dict[str, Any], after: str) -> str | None:
    commits = [c for c in data.get("commits") or [] if isinstance(c, Mapping)]
    for commit in commits:
        if commit.get("id") == after:
            return optional_text(commit, "message")
    # Tag pushes list no commits; branch pushes list them oldest first.
    return optional_text(commits[-1], "message") if commits else None


GITLAB = GitLab()
