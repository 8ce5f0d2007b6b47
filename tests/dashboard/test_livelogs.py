"""Many viewers of one live log cost one reader: the bus is read and each line rendered once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from dashboard.livelogs import Batch, End, LiveLogs
from orchestrator.logbus import FileLogBus


class CountingBus(FileLogBus):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.followers = 0

    def follower(self, job_id: int, start: int = 0):  # type: ignore[no-untyped-def]
        self.followers += 1
        return super().follower(job_id, start)


def test_viewers_share_one_reader_and_each_gets_every_line_from_its_offset(tmp_path: Path) -> None:
    bus = CountingBus(tmp_path)
    bus.append(1, ["one", "\x1b[31mtwo\x1b[0m"])
    state: dict[str, str | None] = {"why": None}

    async def ended(job_id: int) -> str | None:
        return state["why"]

    hub = LiveLogs(bus, ended, poll_seconds=0.01)

    async def viewer(start: int) -> list[tuple[int, str]]:
        seen: list[tuple[int, str]] = []
        async for item in hub.follow(1, start, max_seconds=10):
            if isinstance(item, Batch):
                seen += [(item.start + n, html) for n, (html, _err) in enumerate(json.loads(item.json))]
            else:
                seen.append((-1, item.why))
        return seen

    async def scenario() -> list[list[tuple[int, str]]]:
        tasks = [asyncio.create_task(viewer(start)) for start in (0, 0, 1, 5)]
        await asyncio.sleep(0.05)
        assert hub.viewers(1) == 4
        bus.append(1, ["three"])
        await asyncio.sleep(0.05)
        state["why"] = "succeeded"
        return await asyncio.gather(*tasks)

    results = asyncio.run(scenario())
    every = [(0, "one"), (1, '<span class="ansi-red">two</span>'), (2, "three"), (-1, "succeeded")]
    assert results[0] == results[1] == every
    assert results[2] == every[1:]
    assert results[3] == [(-1, "succeeded")]
    assert bus.followers == 1 and hub.viewers(1) == 0


def test_a_viewer_times_out_and_the_feed_stops_when_nobody_watches(tmp_path: Path) -> None:
    bus = CountingBus(tmp_path)

    async def ended(job_id: int) -> str | None:
        return None

    hub = LiveLogs(bus, ended, poll_seconds=0.01)

    async def scenario() -> list[Batch | End]:
        return [item async for item in hub.follow(2, 0, max_seconds=0.1)]

    assert asyncio.run(scenario()) == [End("timeout")]
    assert hub.viewers(2) == 0


def test_a_caught_up_viewer_gets_lines_that_arrive_close_together_in_one_event(tmp_path: Path) -> None:
    bus = CountingBus(tmp_path)
    bus.append(3, ["first"])
    state: dict[str, str | None] = {"why": None}

    async def ended(job_id: int) -> str | None:
        return state["why"]

    hub = LiveLogs(bus, ended, poll_seconds=0.01, min_interval=1.0)

    async def scenario() -> list[list[str] | str]:
        events: list[list[str] | str] = []

        async def viewer() -> None:
            async for item in hub.follow(3, 0, max_seconds=10):
                events.append(
                    [html for html, _err in json.loads(item.json)] if isinstance(item, Batch) else item.why
                )

        task = asyncio.create_task(viewer())
        await asyncio.sleep(0.1)
        for line in ("second", "third", "fourth"):  # a chatty build: three lines in 0.15 s
            bus.append(3, [line])
            await asyncio.sleep(0.05)
        state["why"] = "succeeded"
        await asyncio.wait_for(task, timeout=10)
        return events

    assert asyncio.run(scenario()) == [["first"], ["second", "third", "fourth"], "succeeded"]
