"""Live run states: every viewer gets its runs' states and their changes, from one read a tick."""

from __future__ import annotations

import asyncio
import json
import re

from sqlalchemy import select

from dashboard.liveruns import RunWatch
from orchestrator.db.models import Run
from tests.dashboard.conftest import Site


def test_viewers_share_one_read_per_tick_and_see_only_their_runs_changes() -> None:
    states = {
        1: {"id": 1, "status": "running"},
        2: {"id": 2, "status": "queued"},
        3: {"id": 3, "status": "waiting"},
    }
    asked: list[list[int]] = []

    async def read(ids: list[int]) -> dict[int, dict]:
        asked.append(ids)
        return {i: dict(states[i]) for i in ids}

    async def scenario() -> tuple[list[list[str]], int]:
        watch = RunWatch(read, poll_seconds=0.02)

        async def viewer(ids: list[int]) -> list[str]:
            return [f"{s['id']}:{s['status']}" async for s in watch.watch(ids, max_seconds=0.3)]

        tasks = [asyncio.create_task(viewer(ids)) for ids in ([1, 2], [1, 2], [3])]
        await asyncio.sleep(0.1)
        states[1]["status"] = "succeeded"
        seen = await asyncio.gather(*tasks)
        await asyncio.sleep(0.05)
        assert watch.watched() == []
        return seen, watch.reads

    seen, reads = asyncio.run(scenario())
    assert seen[0] == seen[1] == ["1:running", "2:queued", "1:succeeded"]
    assert seen[2] == ["3:waiting"]
    # One read per tick for every viewer together (about 15 ticks in 0.3 s), never one per viewer.
    assert reads == len(asked) and reads < 40
    assert all(ids in ([1, 2], [1, 2, 3], [3]) for ids in asked)


def test_live_runs_stream_sends_each_watched_runs_state(site: Site) -> None:
    client = site.signed_in("dev")
    ids = sorted(site.seeded.runs.values())
    with client.stream("GET", f"/live/runs?ids={','.join(map(str, ids))}&max_seconds=1") as r:
        assert r.status_code == 200
        body = "".join(r.iter_text())
    sent = [json.loads(d) for d in re.findall(r"^data: (.+)$", body, re.M)]
    with site.ctx.db.read_session() as s:
        expected = {run.id: run.status for run in s.scalars(select(Run).where(Run.id.in_(ids)))}
    assert {state["id"]: state["status"] for state in sent} == expected
    review = next(state for state in sent if state["id"] == site.seeded.runs["review"])
    assert review["jobs"] == {str(site.seeded.jobs["screenshots"]): "waiting"}
    assert client.get("/live/runs?ids=1,x").status_code == 422
