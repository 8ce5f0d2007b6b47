"""The Celery app and Instep's tasks. Task bodies are one call into a service function.

Queues: `default` (planning, run: steps), `android`, `ios` (platform builds), `devices` (suites
that lease devices). Embedded mode uses the in-memory transport and an in-process worker."""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from celery import Celery
from kombu import Queue

from orchestrator.context import Context
from orchestrator.runs import Dispatch
from orchestrator.settings import Settings
from orchestrator.spec.model import MAX_TIMEOUT_S

log = logging.getLogger(__name__)

QUEUES = ("default", "android", "ios", "devices")
PLAN_TASK = "instep.plan_run"
ADVANCE_TASK = "instep.advance_run"
EXECUTE_TASK = "instep.execute_job"

# Time limits, derived from the longest job `instep.yml` allows. A task is a job attempt: the
# step itself (killed by the executor at its own `timeout:`) plus checkout and the upload.
# The soft limit leaves that hour; the hard limit gives the attempt time to record its outcome.
# The broker's visibility timeout must be above both, or Redis hands a still-running task to a
# second worker (acks are late); a task lost with its worker is the reconciler's, not Redis's.
CHECKOUT_AND_UPLOAD_S = 3600
SOFT_TIME_LIMIT_S = MAX_TIMEOUT_S + CHECKOUT_AND_UPLOAD_S
HARD_TIME_LIMIT_S = SOFT_TIME_LIMIT_S + 600
VISIBILITY_TIMEOUT_S = HARD_TIME_LIMIT_S + 3600


def make_celery(settings: Settings) -> Celery:
    app = Celery("instep", broker=settings.redis_url or "memory://", set_as_current=False)
    app.conf.update(
        task_queues=[Queue(q) for q in QUEUES],
        task_default_queue="default",
        # A message is acknowledged when its task ends, and given back when the worker dies, so
        # a crash loses no message; running one attempt twice is refused by the attempt's
        # compare-and-set in `scheduler.start_attempt`, not by the broker.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message reserved per worker process at a time: a killed worker strands at most one.
        worker_prefetch_multiplier=1,
        # On a lost broker connection, running late-ack tasks are canceled (their messages come
        # back) instead of finishing unacknowledged and being delivered again.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_soft_time_limit=SOFT_TIME_LIMIT_S,
        task_time_limit=HARD_TIME_LIMIT_S,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # Long builds must not be redelivered while still running; lost ones are the reconciler's job.
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S}
        if settings.redis_url
        # The in-memory transport polls; poll often so embedded scheduling stays fast.
        else {"polling_interval": 0.01},
    )
    _register_tasks(app)
    return app


def _context(app: Celery) -> Context:
    ctx = getattr(app, "instep_context", None)
    if ctx is None:
        raise RuntimeError("the Celery app has no Instep context; start it through `instep worker`")
    return ctx


def _register_tasks(app: Celery) -> None:
    @app.task(name=PLAN_TASK, bind=True)
    def plan_run(self: Any, run_id: int) -> None:
        from orchestrator.pipeline import plan_queued_run

        plan_queued_run(_context(app), run_id)

    @app.task(name=ADVANCE_TASK, bind=True)
    def advance_run(self: Any, run_id: int) -> None:
        from orchestrator.scheduler import advance

        ctx = _context(app)
        with ctx.db.session() as s:
            dispatches = advance(s, run_id)
            s.commit()
        ctx.dispatcher.jobs(dispatches)

    @app.task(name=EXECUTE_TASK, bind=True)
    def execute_job(self: Any, job_id: int, attempt: int) -> None:
        from orchestrator.executor import execute_attempt

        hostname = self.request.hostname or socket.gethostname()
        execute_attempt(_context(app), job_id, attempt, worker=f"{hostname}/{threading.get_ident()}")


class CeleryDispatcher:
    """Sends Instep's tasks by name to their queues."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def plan(self, run_id: int) -> None:
        self.app.send_task(PLAN_TASK, args=[run_id], queue="default")

    def advance(self, run_id: int) -> None:
        self.app.send_task(ADVANCE_TASK, args=[run_id], queue="default")

    def jobs(self, dispatches: list[Dispatch]) -> None:
        for d in dispatches:
            self.app.send_task(EXECUTE_TASK, args=[d.job_id, d.attempt], queue=d.queue)


def start_embedded_worker(app: Celery, concurrency: int = 2) -> tuple[Any, threading.Thread]:
    """An in-process worker on the in-memory transport, consuming every queue."""
    worker = app.WorkController(
        pool_cls="threads",
        concurrency=concurrency,
        queues=list(QUEUES),
        loglevel="WARNING",
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        hostname=f"embedded@{socket.gethostname()}",
    )
    thread = threading.Thread(target=worker.start, name="instep-embedded-worker", daemon=True)
    thread.start()
    return worker, thread
