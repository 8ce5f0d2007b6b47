"""The sender: delivers due outbox rows, retries with exponential backoff, and moves a delivery
to the dead-letter list when its attempts are used up.

Rows are claimed in a short transaction (their next attempt is pushed past the claim time, so two
senders never send the same row at once), sent with no transaction open, and the outcome recorded
in another short transaction. Delivery is at least once: a sender that dies mid-send leaves the
row to be sent again when its claim expires, with the same X-Instep-Delivery id."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from orchestrator.db.models import Project, utcnow
from orchestrator.db.session import Database
from orchestrator.notifications.commit_status import status_request
from orchestrator.notifications.models import (
    DEAD,
    DELIVERED,
    PENDING,
    SUPERSEDED,
    CommitStatusSetting,
    NotificationDelivery,
    NotificationEndpoint,
)
from orchestrator.notifications.network import guarded_client
from orchestrator.notifications.outgoing import Outgoing, slack_request, webhook_request
from orchestrator.notifications.policy import UrlRefused
from orchestrator.sealing import Sealer, SealError
from orchestrator.settings import Settings

log = logging.getLogger(__name__)

CLAIM = timedelta(minutes=2)
# Delivered and superseded rows are kept this long (for a receiver's questions), then deleted;
# dead letters stay until someone retries them or removes their endpoint.
RETENTION = timedelta(days=14)
PRUNE_EVERY = timedelta(hours=1)
ERROR_BODY_CHARS = 300


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n failed -> wait first_delay * 2**(n-1), at most max_delay; dead after max_attempts."""

    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)

    def delay_after(self, attempts: int) -> timedelta:
        # Doubling stops once past the cap, so a large attempt count cannot overflow timedelta.
        delay = self.first_delay
        for _ in range(max(0, attempts - 1)):
            if delay >= self.max_delay:
                break
            delay *= 2
        return min(delay, self.max_delay)


@dataclass(frozen=True)
class Attempt:
    """What one send came to. `final` failures (refused by the URL policy, a setting that is
    gone) go to the dead letters at once: retrying cannot help until someone acts."""

    ok: bool
    error: str | None = None
    status_code: int | None = None
    final: bool = False


@dataclass(frozen=True)
class Prepared:
    id: int
    destination: str  # safe to show: no secret in it
    request: Outgoing


def base_url(settings: Settings) -> str:
    """Links in notifications: the dashboard when INSTEP_PUBLIC_URL is set, else the API."""
    return settings.public_url or f"{settings.url}/api"


class Sender:
    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        *,
        base_url: str,
        client: httpx.Client,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 50,
    ) -> None:
        self.db = db
        self.sealer = sealer
        self.base_url = base_url
        self.client = client
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.batch = batch

    def deliver_due(self) -> int:
        """Send every due delivery (up to one batch); returns how many were claimed."""
        with self.db.session() as session:
            claimed = self._claim(session)
            prepared = [p for p in (self._prepare(session, d) for d in claimed) if p is not None]
            session.commit()
        for item in prepared:
            self._record(item.id, self._send(item))
        return len(claimed)

    def prune(self, retention: timedelta = RETENTION) -> int:
        """Delete delivered and superseded rows finished more than `retention` ago; returns how many."""
        with self.db.session() as session:
            result = session.execute(
                delete(NotificationDelivery)
                .where(
                    NotificationDelivery.state.in_((DELIVERED, SUPERSEDED)),
                    NotificationDelivery.finished_at < self.clock() - retention,
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def _claim(self, session: Session) -> list[NotificationDelivery]:
        now = self.clock()
        due = session.scalars(
            select(NotificationDelivery.id)
            .where(NotificationDelivery.state == PENDING, NotificationDelivery.next_attempt_at <= now)
            .order_by(NotificationDelivery.id)
            .limit(self.batch)
        ).all()
        claimed = []
        for delivery_id in due:
            # Conditional on the row still being due: a concurrent sender that claimed it first wins.
            result = session.execute(
                update(NotificationDelivery)
                .where(
                    NotificationDelivery.id == delivery_id,
                    NotificationDelivery.state == PENDING,
                    NotificationDelivery.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + CLAIM)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(session.get_one(NotificationDelivery, delivery_id))
        return claimed

    def _prepare(self, session: Session, delivery: NotificationDelivery) -> Prepared | None:
        """The request for `delivery`, or None when it was settled here (superseded, or dead
        because what it needs is gone)."""
        now = self.clock()
        if delivery.coalesce_key is not None and self._superseded(session, delivery):
            delivery.state = SUPERSEDED
            delivery.finished_at = now
            return None
        project = session.get_one(Project, delivery.project_id)
        try:
            if delivery.endpoint_id is not None:
                endpoint = session.get(NotificationEndpoint, delivery.endpoint_id)
                if endpoint is None:
                    raise LookupError("its endpoint was removed")
                return Prepared(
                    delivery.id, endpoint.display_url, self._endpoint_request(delivery, endpoint, project)
                )
            setting = session.scalar(
                select(CommitStatusSetting).where(CommitStatusSetting.project_id == project.id)
            )
            if setting is None:
                raise LookupError(f"project {project.name} no longer reports commit statuses")
            run = delivery.payload["run"]
            request = status_request(
                setting.provider,
                api_url=setting.api_url,
                repository=setting.repository or project.match_name,
                token=self.sealer.open(setting.token),
                run=run,
                context=delivery.payload["context"],
                target_url=f"{self.base_url}/runs/{run['id']}",
            )
            return Prepared(delivery.id, request.url, request)
        except (LookupError, SealError) as exc:
            self._apply(delivery, Attempt(ok=False, error=f"cannot send: {exc}", final=True), now)
            return None

    def _superseded(self, session: Session, delivery: NotificationDelivery) -> bool:
        newer = session.scalar(
            select(NotificationDelivery.id)
            .where(
                NotificationDelivery.coalesce_key == delivery.coalesce_key,
                NotificationDelivery.id > delivery.id,
            )
            .limit(1)
        )
        return newer is not None

    def _endpoint_request(
        self, delivery: NotificationDelivery, endpoint: NotificationEndpoint, project: Project
    ) -> Outgoing:
        url = self.sealer.open(endpoint.url)
        if endpoint.kind == "slack":
            return slack_request(
                url,
                event=delivery.event,
                project=project.name,
                payload=delivery.payload,
                base_url=self.base_url,
            )
        if endpoint.secret is None:
            raise LookupError(f"webhook endpoint {endpoint.id} has no signing secret")
        return webhook_request(
            url,
            self.sealer.open(endpoint.secret),
            delivery_id=delivery.delivery_id,
            event=delivery.event,
            project=project.name,
            created_at=delivery.created_at,
            payload=delivery.payload,
            base_url=self.base_url,
        )

    def _send(self, item: Prepared) -> Attempt:
        req = item.request
        try:
            with self.client.stream(req.method, req.url, content=req.body, headers=req.headers) as response:
                if response.is_success:
                    return Attempt(ok=True, status_code=response.status_code)
                if response.is_redirect:
                    return Attempt(
                        ok=False,
                        status_code=response.status_code,
                        error=f"HTTP {response.status_code} from {item.destination}: redirects are not "
                        "followed; save the URL it redirects to",
                    )
                text = _head(response)
                return Attempt(
                    ok=False,
                    status_code=response.status_code,
                    error=f"HTTP {response.status_code} from {item.destination}"
                    + (f": {text}" if text else ""),
                )
        except UrlRefused as exc:
            return Attempt(ok=False, error=f"refused by the outgoing-URL policy: {exc}", final=True)
        except (httpx.HTTPError, httpx.StreamError) as exc:
            return Attempt(ok=False, error=f"{type(exc).__name__} sending to {item.destination}: {exc}")
        except httpx.InvalidURL as exc:
            return Attempt(ok=False, error=f"invalid URL {item.destination}: {exc}", final=True)
        except Exception as exc:
            # Recorded on the delivery (and so in the dead letters), never swallowed: without
            # this, a bug here would leave the row claimed and re-sent forever with no attempt counted.
            log.exception("unexpected error sending notification delivery %s", item.id)
            return Attempt(
                ok=False, error=f"unexpected {type(exc).__name__} sending to {item.destination}: {exc}"
            )

    def _record(self, delivery_id: int, attempt: Attempt) -> None:
        with self.db.session() as session:
            delivery = session.get(NotificationDelivery, delivery_id)
            # Gone (endpoint removed) or already settled by someone else: nothing to record.
            if delivery is not None and delivery.state == PENDING:
                self._apply(delivery, attempt, self.clock())
                session.commit()
        if not attempt.ok:
            log.warning("notification delivery %s failed: %s", delivery_id, attempt.error)

    def _apply(self, delivery: NotificationDelivery, attempt: Attempt, now: datetime) -> None:
        delivery.attempts += 1
        delivery.last_status_code = attempt.status_code
        if attempt.ok:
            delivery.state = DELIVERED
            delivery.finished_at = now
            return
        delivery.last_error = attempt.error
        if attempt.final or delivery.attempts >= self.retry.max_attempts:
            delivery.state = DEAD
            delivery.finished_at = now
        else:
            delivery.next_attempt_at = now + self.retry.delay_after(delivery.attempts)


def _head(response: httpx.Response) -> str:
    data = b""
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= ERROR_BODY_CHARS:
            break
    return " ".join(data[:ERROR_BODY_CHARS].decode("utf-8", "replace").split())


def sender_for(ctx_settings: Settings, db: Database, sealer: Sealer) -> Sender:
    client = guarded_client(allow_private=ctx_settings.allow_private_webhooks)
    return Sender(db, sealer, base_url=base_url(ctx_settings), client=client)


def deliver_forever(
    db: Database, sealer: Sealer, settings: Settings, stop: threading.Event, interval: float = 1.0
) -> None:
    """The sender loop that `instep serve` runs beside the reconciler, in both modes."""
    sender = sender_for(settings, db, sealer)
    pruned_at: datetime | None = None
    try:
        while not stop.wait(interval):
            try:
                while sender.deliver_due() == sender.batch and not stop.is_set():
                    pass
                if pruned_at is None or sender.clock() - pruned_at >= PRUNE_EVERY:
                    sender.prune()
                    pruned_at = sender.clock()
            except Exception:  # the loop must survive a database hiccup; the next tick retries
                log.exception("notification sender tick failed")
    finally:
        sender.client.close()
