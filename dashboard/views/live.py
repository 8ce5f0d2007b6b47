"""Live updates over server-sent events, as async generators: no thread is held per viewer
(the short database reads run in the thread pool, the waiting is on asyncio). Live logs are read
and rendered once per job however many people watch (dashboard.livelogs)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from sqlalchemy import select
from sse_starlette import EventSourceResponse

from dashboard.livelogs import Batch, LiveLogs
from dashboard.liveruns import RunWatch
from dashboard.security import page_actor
from orchestrator.actors import Actor
from orchestrator.context import Context
from orchestrator.db.models import Job, Run
from orchestrator.transitions import FINAL_JOB

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
PageActor = Annotated[Actor, Depends(page_actor)]
STATUS_POLL_SECONDS = 1.0
MAX_STREAM_SECONDS = 3600.0  # the browser reconnects after this
MAX_WATCHED_RUNS = 200
# A caught-up live-log viewer gets at most one event per this many seconds (lines are batched).
LOG_EVENT_SECONDS = 1.0


def run_states(ctx: Context, run_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each run's status, reason and its jobs' states: what the pages show live."""
    with ctx.db.read_session() as session:
        runs = session.execute(select(Run.id, Run.status, Run.reason).where(Run.id.in_(run_ids))).all()
        jobs = session.execute(
            select(Job.id, Job.run_id, Job.status).where(Job.run_id.in_(run_ids)).order_by(Job.id)
        ).all()
    out = {r.id: {"id": r.id, "status": r.status, "reason": r.reason, "jobs": {}} for r in runs}
    for j in jobs:
        out[j.run_id]["jobs"][str(j.id)] = j.status
    return out


def _per_loop(ctx: Context, key: str, make: Callable[[], T]) -> T:
    """One shared object per service and event loop (its asyncio events and tasks belong to one
    loop; the server has one, a test client may start a new one per request)."""
    loop = asyncio.get_running_loop()
    held = ctx.extras.get(key)
    if held is None or held[0] is not loop:
        held = ctx.extras[key] = (loop, make())
    return held[1]


def run_watch(ctx: Context) -> RunWatch:
    """The service's shared watch over run states."""

    async def read(run_ids: list[int]) -> dict[int, dict[str, Any]]:
        return await to_thread.run_sync(run_states, ctx, run_ids)

    return _per_loop(ctx, "dashboard_run_watch", lambda: RunWatch(read, STATUS_POLL_SECONDS))


@router.get("/live/runs")
async def live_runs(
    request: Request,
    _: PageActor,
    ids: Annotated[str, Query(max_length=4000)],
    max_seconds: Annotated[float, Query(gt=0, le=MAX_STREAM_SECONDS)] = MAX_STREAM_SECONDS,
) -> EventSourceResponse:
    """`run` events (JSON: id, status, reason, jobs) for the runs in `ids` whenever one changes."""
    try:
        run_ids = sorted({int(x) for x in ids.split(",") if x.strip()})[:MAX_WATCHED_RUNS]
    except ValueError:
        raise HTTPException(422, "ids must be comma-separated run ids") from None
    run_ids = [i for i in run_ids if 1 <= i <= 2**31 - 1]
    watch = run_watch(request.app.state.instep)

    async def events() -> AsyncIterator[dict[str, str]]:
        async for state in watch.watch(run_ids, max_seconds):
            yield {"event": "run", "data": json.dumps(state)}

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})


def _job_over(ctx: Context, job_id: int) -> str | None:
    with ctx.db.read_session() as session:
        job = session.get(Job, job_id)
        status = job.status if job else "gone"
    return status if status in FINAL_JOB or status in ("waiting", "gone") else None


def live_logs(ctx: Context) -> LiveLogs:
    """The service's shared live-log feeds."""

    async def ended(job_id: int) -> str | None:
        return await to_thread.run_sync(_job_over, ctx, job_id)

    return _per_loop(
        ctx, "dashboard_live_logs", lambda: LiveLogs(ctx.logs, ended, min_interval=LOG_EVENT_SECONDS)
    )


@router.get("/live/jobs/{job_id}/log")
async def live_log(
    request: Request,
    job_id: int,
    _: PageActor,
    start: Annotated[int, Query(alias="from", ge=0, le=10**9)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
    max_seconds: Annotated[float, Query(gt=0, le=MAX_STREAM_SECONDS)] = MAX_STREAM_SECONDS,
) -> EventSourceResponse:
    """`lines` events (id = the last line's index; data = JSON `{"from": N, "lines": [[html,
    looks_like_error], ...]}` with each line already escaped and coloured) from line `from` (or
    after Last-Event-ID), then one `end` event with the job's state."""
    ctx: Context = request.app.state.instep
    if not 1 <= job_id <= 2**31 - 1 or not await to_thread.run_sync(_job_exists, ctx, job_id):
        raise HTTPException(404, f"no job with id {job_id}")
    if last_event_id is not None and last_event_id.isdigit():
        start = int(last_event_id) + 1
    hub = live_logs(ctx)

    async def events() -> AsyncIterator[dict[str, str]]:
        async for item in hub.follow(job_id, start, max_seconds):
            if isinstance(item, Batch):
                data = f'{{"from": {item.start}, "skipped": {item.skipped}, "lines": {item.json}}}'
                yield {"event": "lines", "id": str(item.last), "data": data}
            else:
                yield {"event": "end", "data": item.why}
                return

    return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})


def _job_exists(ctx: Context, job_id: int) -> bool:
    with ctx.db.read_session() as session:
        return session.get(Job, job_id) is not None
