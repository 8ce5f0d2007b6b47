"""`instep serve`, `instep worker`, `instep db upgrade`."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta

import click

from orchestrator.settings import Settings, SettingsError
from toolrun.cli_output import fail

log = logging.getLogger(__name__)


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        fail(str(exc), 2)


def _runtime(settings: Settings):  # type: ignore[no-untyped-def]
    from orchestrator.celery_app import CeleryDispatcher, make_celery
    from orchestrator.context import build_context

    app = make_celery(settings)
    ctx = build_context(settings, CeleryDispatcher(app))
    app.instep_context = ctx  # type: ignore[attr-defined]
    return app, ctx


def reconcile_forever(ctx, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """The scheduler's loop: re-queue jobs of vanished workers, re-send lost messages, finish
    stuck cancels."""
    from orchestrator.releases.flows import settle_gates
    from orchestrator.scheduler import reconcile, sweep_lost_messages
    from orchestrator.submissions.tick import tick as store_tick

    while not stop.wait(ctx.settings.reconcile_seconds):
        try:
            with ctx.db.session() as s:
                dispatches = reconcile(
                    s, timedelta(seconds=ctx.settings.lost_after_seconds), ctx.settings.max_infra_attempts
                )
                s.commit()
            ctx.dispatcher.jobs(dispatches)
            with ctx.db.session() as s:  # the database is the record: lost messages are sent again
                resend = sweep_lost_messages(s, timedelta(seconds=ctx.settings.resend_after_seconds))
                s.commit()
            if resend.plans or resend.jobs:
                log.info(
                    "re-sent %d lost plan and %d lost job message(s)", len(resend.plans), len(resend.jobs)
                )
            for run_id in resend.plans:
                ctx.dispatcher.plan(run_id)
            ctx.dispatcher.jobs(resend.jobs)
            with ctx.db.session() as s:  # waiting gates move with the clock (freeze, soak)
                dispatches = settle_gates(ctx, s)
                s.commit()
            ctx.dispatcher.jobs(dispatches)
            store_tick(ctx)  # store review state, rollout plans, unknown submission outcomes
        except Exception:  # the loop must survive a database hiccup; the next tick retries
            log.exception("reconciler tick failed")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--concurrency", default=2, show_default=True, help="Embedded worker threads.")
def serve(host: str, port: int, concurrency: int) -> None:
    """Run the API, the scheduler and (in embedded mode) a worker in this process."""
    import uvicorn

    from dashboard import install as dashboard_pages
    from orchestrator.api import create_app
    from orchestrator.celery_app import start_embedded_worker
    from orchestrator.db.session import upgrade
    from orchestrator.notifications.sender import deliver_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    upgrade(settings.database_url)
    app, ctx = _runtime(settings)
    if settings.embedded:
        _check_sandbox(settings)
        start_embedded_worker(app, concurrency=concurrency)
        click.echo(f"instep: embedded mode: database {settings.database_url}, artifacts {settings.artifacts}")
    else:
        click.echo(
            f"instep: distributed mode: broker {_safe_url(settings.redis_url or '')}; start workers with "
            "`instep worker --queues ...`"
        )
    stop = threading.Event()
    threading.Thread(
        target=reconcile_forever, args=(ctx, stop), name="instep-reconciler", daemon=True
    ).start()
    threading.Thread(
        target=deliver_forever, args=(ctx.db, ctx.sealer, settings, stop), name="instep-notifier", daemon=True
    ).start()
    click.echo(
        f"instep: listening on http://{host}:{port} (dashboard at /, API at /api, OpenAPI at /openapi.json)"
    )
    try:
        uvicorn.run(create_app(ctx, extensions=[dashboard_pages]), host=host, port=port, log_level="warning")
    finally:
        stop.set()


def _check_sandbox(settings: Settings) -> None:
    """A process that runs jobs refuses to start when they cannot be sandboxed (unless allowed)."""
    from orchestrator.job_sandbox import SandboxUnavailable, require_job_sandbox

    try:
        bwrap = require_job_sandbox(settings)
    except SandboxUnavailable as exc:
        fail(str(exc), 2)
    if bwrap is None:
        click.echo(
            "instep: WARNING: jobs run unsandboxed (INSTEP_UNSANDBOXED_JOBS=1): they can read this "
            "machine's files, including INSTEP_HOME's secret key and database",
            err=True,
        )
    else:
        click.echo(f"instep: jobs run sandboxed by {bwrap}")


def _safe_url(url: str) -> str:
    """A URL without its password, for logs."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@click.command()
@click.option(
    "--queues",
    "-Q",
    default="default,android,ios,devices",
    show_default=True,
    help="Comma-separated queues to consume (default, android, ios, devices).",
)
@click.option("--concurrency", "-c", default=2, show_default=True, help="Jobs run at once.")
@click.option("--name", default=None, help="Worker name (default: instep@HOST).")
def worker(queues: str, concurrency: int, name: str | None) -> None:
    """Run a distributed worker that executes jobs from the given queues (needs INSTEP_REDIS_URL)."""
    from orchestrator.celery_app import QUEUES

    settings = load_settings()
    if settings.embedded:
        fail(
            "`instep worker` needs INSTEP_REDIS_URL (distributed mode); in embedded mode `instep serve` "
            "already runs a worker",
            2,
        )
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in wanted if q not in QUEUES]
    if unknown or not wanted:
        fail(f"unknown queue(s) {', '.join(unknown) or '(none)'}; expected some of {', '.join(QUEUES)}", 2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _check_sandbox(settings)
    app, _ctx = _runtime(settings)
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(wanted),
            "--concurrency",
            str(concurrency),
            "--pool",
            "threads",
            "--hostname",
            name or f"instep@{socket.gethostname()}",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ]
    )


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command()
def upgrade() -> None:
    """Apply database migrations (safe to run repeatedly)."""
    from orchestrator.db.session import upgrade as do_upgrade

    settings = load_settings()
    do_upgrade(settings.database_url)
    click.echo(f"instep: database is up to date ({_safe_url(settings.database_url)})")
