"""The notification service: endpoints and the commit-status setting per project, `publish`,
which writes the outbox, and the dead-letter list.

Nothing is sent here: `publish` adds one delivery row per matching destination to the caller's
transaction, and `orchestrator.notifications.sender` delivers due rows later. Functions flush;
the caller commits."""

from __future__ import annotations

import json
import secrets as secrets_module
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.db.models import Project, utcnow
from orchestrator.notifications.commit_status import DEFAULT_API_URLS, CommitStatusError, check_repository
from orchestrator.notifications.events import EventNameError, check_event, check_filter, matches
from orchestrator.notifications.models import (
    DEAD,
    PENDING,
    CommitStatusSetting,
    NotificationDelivery,
    NotificationEndpoint,
)
from orchestrator.notifications.network import HostNotFound, Resolver, resolve_checked, system_resolver
from orchestrator.notifications.policy import UrlRefused, check_url, display_url
from orchestrator.sealing import Sealer

KINDS = ("webhook", "slack")
MAX_PAGE = 200


class NotificationError(Exception):
    """Bad notification input; the message names the field and what to do."""


class EndpointNotFound(NotificationError):
    pass


class DeliveryNotFound(NotificationError):
    pass


class DeliveryConflict(NotificationError):
    """The delivery is not in a state that allows the action (e.g. retrying one not dead)."""


def new_delivery_id() -> str:
    return str(uuid.uuid4())


def publish(
    session: Session,
    project_id: int,
    event: str,
    payload: dict[str, Any],
    *,
    now: datetime | None = None,
    new_id: Callable[[], str] = new_delivery_id,
) -> None:
    """Queue `event` for every endpoint of the project whose filter matches it; the caller commits.

    `payload` must be JSON-serialisable. Optional conventional keys: `summary` (a one-line human
    sentence, used as the Slack text) and `path` (a dashboard-relative link such as `/runs/12`;
    receivers get it as an absolute `url`)."""
    check_event(event)
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise NotificationError(f"payload of event {event} is not JSON-serialisable: {exc}") from exc
    now = now or utcnow()
    endpoints = session.scalars(
        select(NotificationEndpoint)
        .where(NotificationEndpoint.project_id == project_id)
        .order_by(NotificationEndpoint.id)
    )
    for endpoint in endpoints:
        if matches(endpoint.events, event):
            session.add(
                NotificationDelivery(
                    delivery_id=new_id(),
                    project_id=project_id,
                    endpoint_id=endpoint.id,
                    channel=endpoint.kind,
                    event=event,
                    payload=payload,
                    state=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
    session.flush()


def check_destination(url: str, *, allow_private: bool, resolver: Resolver) -> None:
    """The save-time check: the URL itself, then every address its host resolves to now (the
    sender checks again at each connect, since DNS answers change)."""
    try:
        target = check_url(url, allow_private=allow_private)
        resolve_checked(target.host, target.port, resolver=resolver, allow_private=allow_private)
    except UrlRefused as exc:
        raise NotificationError(f"URL refused: {exc}") from exc
    except HostNotFound as exc:
        raise NotificationError(
            f"URL refused: {exc}; check the host name in {display_url(url, keep_path=False)}"
        ) from exc


def add_endpoint(
    session: Session,
    project: Project,
    *,
    sealer: Sealer,
    kind: str,
    url: str,
    secret: str | None = None,
    events: Sequence[str] = ("*",),
    created_by: str | None = None,
    allow_private: bool,
    resolver: Resolver = system_resolver,
) -> tuple[NotificationEndpoint, str | None]:
    """A new endpoint and, for a `webhook`, its signing secret in clear (generated when not given;
    shown once, stored sealed)."""
    if kind not in KINDS:
        raise NotificationError(f"kind {kind!r} is not one of: {', '.join(KINDS)}")
    try:
        patterns = check_filter(events)
    except EventNameError as exc:
        raise NotificationError(str(exc)) from exc
    url = url.strip()
    check_destination(url, allow_private=allow_private, resolver=resolver)
    clear: str | None = None
    if kind == "webhook":
        clear = secret or secrets_module.token_urlsafe(32)
        if len(clear) < 16:
            raise NotificationError("the webhook secret is shorter than 16 characters; use a random value")
    elif secret:
        raise NotificationError("a slack endpoint takes no secret (its URL is the credential)")
    endpoint = NotificationEndpoint(
        project_id=project.id,
        kind=kind,
        url=sealer.seal(url),
        display_url=display_url(url, keep_path=kind == "webhook"),
        secret=sealer.seal(clear) if clear else None,
        events=patterns,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint, clear


def list_endpoints(session: Session, project: Project) -> list[NotificationEndpoint]:
    return list(
        session.scalars(
            select(NotificationEndpoint)
            .where(NotificationEndpoint.project_id == project.id)
            .order_by(NotificationEndpoint.id)
        )
    )


def remove_endpoint(session: Session, project: Project, endpoint_id: int) -> None:
    """Removes the endpoint and its deliveries, dead letters included."""
    endpoint = session.get(NotificationEndpoint, endpoint_id)
    if endpoint is None or endpoint.project_id != project.id:
        raise EndpointNotFound(f"project {project.name} has no notification endpoint {endpoint_id}")
    for delivery in session.scalars(
        select(NotificationDelivery).where(NotificationDelivery.endpoint_id == endpoint.id)
    ):
        session.delete(delivery)
    session.delete(endpoint)
    session.flush()


def set_commit_status(
    session: Session,
    project: Project,
    *,
    sealer: Sealer,
    provider: str,
    token: str,
    api_url: str | None = None,
    repository: str | None = None,
    allow_private: bool,
    resolver: Resolver = system_resolver,
) -> CommitStatusSetting:
    """Report this project's runs to GitHub or GitLab with `token` (replaces an earlier setting)."""
    try:
        # Stored only when it differs from the project's match name, which is the default.
        repo = check_repository(provider, repository) if repository else None
        if repo is None:
            check_repository(provider, project.match_name)
    except CommitStatusError as exc:
        raise NotificationError(str(exc)) from exc
    if not token.strip():
        raise NotificationError(f"the {provider} token is empty")
    api = (api_url or DEFAULT_API_URLS[provider]).strip().rstrip("/")
    check_destination(api, allow_private=allow_private, resolver=resolver)
    setting = commit_status_of(session, project)
    if setting is None:
        setting = CommitStatusSetting(project_id=project.id)
        session.add(setting)
    setting.provider = provider
    setting.api_url = api
    setting.repository = repo
    setting.token = sealer.seal(token.strip())
    setting.updated_at = utcnow()
    session.flush()
    return setting


def commit_status_of(session: Session, project: Project) -> CommitStatusSetting | None:
    return session.scalar(select(CommitStatusSetting).where(CommitStatusSetting.project_id == project.id))


def remove_commit_status(session: Session, project: Project) -> None:
    setting = commit_status_of(session, project)
    if setting is None:
        raise NotificationError(f"project {project.name} does not report commit statuses")
    session.delete(setting)
    session.flush()


def dead_letters(
    session: Session, *, before_id: int | None = None, limit: int = 50
) -> list[NotificationDelivery]:
    """Deliveries that used up their attempts, newest first; page with `before_id`."""
    query = select(NotificationDelivery).where(NotificationDelivery.state == DEAD)
    if before_id is not None:
        query = query.where(NotificationDelivery.id < before_id)
    query = query.order_by(NotificationDelivery.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    return list(session.scalars(query))


def retry_dead_letter(
    session: Session, delivery_id: int, *, now: datetime | None = None
) -> NotificationDelivery:
    """Put a dead letter back in the outbox with a fresh set of attempts."""
    delivery = session.get(NotificationDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise DeliveryNotFound(f"no notification delivery {delivery_id}")
    if delivery.state != DEAD:
        raise DeliveryConflict(
            f"delivery {delivery_id} is {delivery.state}, not dead; only dead letters are retried"
        )
    delivery.state = PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    delivery.finished_at = None
    session.flush()
    return delivery


def project_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Project.id, Project.name).where(Project.id.in_(ids)))
    return {project_id: name for project_id, name in rows}
