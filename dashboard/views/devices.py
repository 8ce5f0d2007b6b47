"""Devices (read-only): the device profiles, current leases and quarantined devices."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dashboard.security import page_actor
from dashboard.templating import render
from device_farm.leases import InMemoryLeaseStore, LeaseError, RedisLeaseStore
from device_farm.profiles import ProfileError, load_inventory
from orchestrator.actors import Actor
from orchestrator.context import Context

router = APIRouter(include_in_schema=False)
_HOLDER = re.compile(r"^job-(\d+)-attempt-(\d+)$")
PageActor = Annotated[Actor, Depends(page_actor)]


def lease_store(ctx: Context) -> Any:
    """The lease store jobs use: the service's own (the executor keeps it in `ctx.extras`), or
    Redis in distributed mode; an empty one when no job has leased anything in this process."""
    store = ctx.extras.get("leases")
    if store is not None:
        return store
    if ctx.settings.redis_url:
        return RedisLeaseStore.from_url(ctx.settings.redis_url)
    return InMemoryLeaseStore()


def _job_of(holder: str) -> int | None:
    """The job a lease holder names (`job-<id>-attempt-<n>`, as the executor leases)."""
    match = _HOLDER.match(holder)
    return int(match.group(1)) if match else None


@router.get("/devices")
def devices_page(request: Request, _: PageActor) -> Response:
    ctx: Context = request.app.state.instep
    error = None
    try:
        profiles = sorted(
            load_inventory(ctx.settings.home / "devices.yml").profiles.values(), key=lambda p: p.name
        )
    except ProfileError as exc:
        profiles, error = [], str(exc)
    try:
        store = lease_store(ctx)
        leases, quarantined = store.leases(), store.quarantined()
    except (LeaseError, OSError) as exc:
        leases, quarantined, error = [], [], f"the lease store cannot be read: {exc}"
    now = time.time()
    return render(
        request,
        "devices.html.j2",
        {
            "profiles": profiles,
            "leases": [
                (lease, _job_of(lease.holder))
                for lease in sorted(leases, key=lambda lease: (lease.device, lease.slot))
            ],
            "quarantined": quarantined,
            "now": now,
            "error": error,
        },
    )
