"""Publishing into the outbox and delivering it to a loopback receiver: the signed JSON shape,
Slack's shape, retries with backoff, dead letters, and the URL policy at send time."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from orchestrator.db.models import Project
from orchestrator.db.session import Database
from orchestrator.notifications import publish
from orchestrator.notifications.models import NotificationDelivery, NotificationEndpoint
from orchestrator.notifications.network import guarded_client
from orchestrator.notifications.sender import Sender, deliver_forever
from orchestrator.notifications.service import (
    DeliveryConflict,
    NotificationError,
    add_endpoint,
    dead_letters,
    retry_dead_letter,
)
from orchestrator.notifications.signing import verify
from orchestrator.sealing import Sealer
from tests.notifications.conftest import Clock
from tests.notifications.receiver import Receiver

SECRET = "receiver-shared-secret-0123456789"


def _endpoint(database: Database, sealer: Sealer, project: Project, url: str, **kwargs) -> int:  # type: ignore[no-untyped-def]
    kwargs.setdefault("kind", "webhook")
    kwargs.setdefault("allow_private", True)
    with database.session() as s:
        endpoint, _ = add_endpoint(s, s.get(Project, project.id), sealer=sealer, url=url, **kwargs)
        s.commit()
        return endpoint.id


def _publish(database: Database, project: Project, event: str, payload: dict, clock: Clock) -> None:  # type: ignore[type-arg]
    with database.session() as s:
        publish(s, project.id, event, payload, now=clock.now)
        s.commit()


def _deliveries(database: Database) -> list[NotificationDelivery]:
    with database.read_session() as s:
        return list(s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)))


def test_a_webhook_is_signed_so_the_receiver_can_verify_it(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    _endpoint(database, sealer, project, f"{receiver.url}/instep", secret=SECRET, events=["release.*"])
    payload = {
        "summary": "shop 4.2.0: the gate waits for a release manager",
        "path": "/releases/3",
        "release": 3,
    }
    _publish(database, project, "release.gate_waiting", payload, clock)
    _publish(database, project, "run.failed", {"summary": "not for this endpoint"}, clock)
    assert sender.deliver_due() == 1

    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/instep")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-instep-event"] == "release.gate_waiting"
    assert verify(SECRET, request.body, request.headers["x-instep-signature-256"])
    assert not verify("another-secret-0123456789", request.body, request.headers["x-instep-signature-256"])
    body = json.loads(request.body)
    [delivery] = _deliveries(database)
    assert request.headers["x-instep-delivery"] == body["id"] == delivery.delivery_id
    assert body["event"] == "release.gate_waiting" and body["project"] == "shop"
    assert body["data"] == payload
    assert body["url"] == "https://instep.example.com/releases/3"
    assert body["created_at"].endswith("+00:00")
    assert delivery.state == "delivered" and delivery.attempts == 1 and delivery.last_status_code == 200
    assert sender.deliver_due() == 0, "a delivered notification is not sent again"


def test_slack_gets_one_line_of_text(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    _endpoint(database, sealer, project, f"{receiver.url}/services/T0/B0/xyz", kind="slack", events=["run.*"])
    _publish(
        database,
        project,
        "run.failed",
        {"summary": "shop run #7 on main failed:\nstage build failed", "path": "/runs/7"},
        clock,
    )
    _publish(database, project, "run.succeeded", {}, clock)
    sender.deliver_due()
    assert [json.loads(r.body) for r in receiver.requests] == [
        {"text": "shop run #7 on main failed: stage build failed https://instep.example.com/runs/7"},
        {"text": "shop: run.succeeded"},
    ]
    assert "x-instep-signature-256" not in receiver.requests[0].headers


def test_failures_are_retried_with_backoff_then_become_a_dead_letter_that_can_be_retried(
    database: Database, sealer: Sealer, project: Project, sender: Sender, clock: Clock
) -> None:
    with Receiver(default_status=500) as failing:
        _endpoint(database, sealer, project, f"{failing.url}/hook", events=["*"])
        _publish(database, project, "run.failed", {"summary": "boom"}, clock)

        assert sender.deliver_due() == 1
        [d] = _deliveries(database)
        assert (d.state, d.attempts, d.last_status_code) == ("pending", 1, 500)
        assert d.last_error == f'HTTP 500 from {failing.url}/hook: {{"message": "receiver says no"}}'

        clock.advance(seconds=9)
        assert sender.deliver_due() == 0, "the first retry waits 10 s"
        clock.advance(seconds=1)
        assert sender.deliver_due() == 1
        assert _deliveries(database)[0].attempts == 2
        clock.advance(seconds=19)
        assert sender.deliver_due() == 0, "the second retry waits 20 s"
        clock.advance(seconds=1)
        assert sender.deliver_due() == 1

        [d] = _deliveries(database)
        assert (d.state, d.attempts) == ("dead", 3)
        assert len(failing.requests) == 3
        assert len({r.headers["x-instep-delivery"] for r in failing.requests}) == 1, "one id across retries"
        clock.advance(hours=2)
        assert sender.deliver_due() == 0, "a dead letter is not retried by itself"

    with database.read_session() as s:
        [dead] = dead_letters(s)
        assert dead.id == d.id and "HTTP 500" in (dead.last_error or "")
    with database.session() as s:
        retry_dead_letter(s, d.id, now=clock.now)
        s.commit()
        with pytest.raises(DeliveryConflict, match="only dead letters are retried"):
            retry_dead_letter(s, d.id)
    with Receiver() as healed:
        # Same endpoint row, new port: point the endpoint at the healed receiver.

        with database.session() as s:
            s.get(NotificationEndpoint, d.endpoint_id).url = sealer.seal(f"{healed.url}/hook")
            s.commit()
        assert sender.deliver_due() == 1
        assert len(healed.requests) == 1
    [d] = _deliveries(database)
    assert (d.state, d.attempts) == ("delivered", 1)


def test_a_loopback_url_is_refused_at_save_and_at_send_without_the_flag(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, clock: Clock, settings
) -> None:
    with database.session() as s, pytest.raises(NotificationError, match="127.0.0.1 is a loopback address"):
        add_endpoint(
            s,
            s.get(Project, project.id),
            sealer=sealer,
            kind="webhook",
            url=receiver.url,
            allow_private=False,
        )
    # Saved while the flag was on; the server now runs without it: the send is refused too.
    _endpoint(database, sealer, project, f"{receiver.url}/hook")
    _publish(database, project, "run.failed", {}, clock)
    with guarded_client(allow_private=False) as client:
        strict = Sender(database, sealer, base_url="https://instep.example.com", client=client, clock=clock)
        assert strict.deliver_due() == 1
    assert receiver.requests == []
    [d] = _deliveries(database)
    assert d.state == "dead", "a policy refusal goes to the dead letters at once"
    assert d.last_error.startswith("refused by the outgoing-URL policy: 127.0.0.1 is a loopback address")


def test_a_redirect_is_a_failed_attempt_that_names_what_to_do(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    receiver.statuses = [301]
    receiver.extra_headers = {"Location": "http://10.0.0.1/"}
    _endpoint(database, sealer, project, f"{receiver.url}/old")
    _publish(database, project, "run.failed", {}, clock)
    sender.deliver_due()
    [d] = _deliveries(database)
    assert d.state == "pending" and d.last_status_code == 301
    assert "redirects are not followed; save the URL it redirects to" in d.last_error
    assert len(receiver.requests) == 1


def test_publish_writes_in_the_callers_transaction_and_nothing_without_commit(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver
) -> None:
    _endpoint(database, sealer, project, receiver.url, events=["run.failed"])
    with database.session() as s:
        publish(s, project.id, "run.failed", {})
        s.rollback()
    with database.session() as s:
        publish(s, project.id, "run.succeeded", {})  # filtered out
        s.commit()
    assert _deliveries(database) == []
    with database.session() as s, pytest.raises(ValueError, match="must look like `subject.what`"):
        publish(s, project.id, "Run Failed", {})
    with database.session() as s, pytest.raises(NotificationError, match="not JSON-serialisable"):
        publish(s, project.id, "run.failed", {"when": object()})
    assert receiver.requests == []


def test_the_server_loop_delivers_what_is_published(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, settings
) -> None:
    _endpoint(database, sealer, project, f"{receiver.url}/hook", secret=SECRET)
    stop = threading.Event()
    loop = threading.Thread(
        target=deliver_forever, args=(database, sealer, settings, stop, 0.05), daemon=True
    )
    loop.start()
    try:
        with database.session() as s:
            publish(s, project.id, "run.succeeded", {"summary": "green"})
            s.commit()
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            stop.wait(0.02)  # polling the receiver, with a deadline
    finally:
        stop.set()
        loop.join(timeout=10)
    assert not loop.is_alive()
    [request] = receiver.requests
    assert verify(SECRET, request.body, request.headers["x-instep-signature-256"])
    assert _deliveries(database)[0].state == "delivered"


def test_old_delivered_rows_are_pruned_and_dead_letters_kept(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    _endpoint(database, sealer, project, receiver.url)
    _publish(database, project, "run.failed", {}, clock)
    _publish(database, project, "run.succeeded", {}, clock)
    sender.deliver_due()
    with database.session() as s:
        s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id)).first().state = "dead"
        s.commit()
    clock.advance(days=13)
    assert sender.prune() == 0
    clock.advance(days=2)
    assert sender.prune() == 1
    assert [d.state for d in _deliveries(database)] == ["dead"]


def test_an_unexpected_error_counts_as_an_attempt_instead_of_looping_silently(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, clock: Clock
) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("transport bug")

    _endpoint(database, sealer, project, receiver.url)
    _publish(database, project, "run.failed", {}, clock)
    with httpx.Client(transport=httpx.MockTransport(broken)) as client:
        Sender(database, sealer, base_url="https://i.example", client=client, clock=clock).deliver_due()
    [d] = _deliveries(database)
    assert (d.state, d.attempts) == ("pending", 1)
    assert d.last_error == f"unexpected RuntimeError sending to {receiver.url}: transport bug"
