"""Live job logs for many viewers at the cost of one: per job, one task reads the log bus from
where it stopped and renders each line to safe HTML once; every viewer of that job reads the
shared, already-encoded lines from its own index and waits on an asyncio event. No thread is
held per viewer, and a viewer costs neither a read of the bus nor a render. A viewer that has
caught up gets new lines at most once per `min_interval` (lines arriving meanwhile come in one
event), so a chatty build costs each viewer a bounded number of events a second. Each viewer's
first wait is stretched by a random part of the interval, so many viewers of one log are spread
over the second instead of all being written to at the same instant (a burst that delays every
other answer of the server)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from dashboard.ansi import looks_like_error, to_html
from orchestrator.logbus import LogBus

# Lines kept per followed job; a viewer further behind than this skips to the oldest kept line.
KEEP_LINES = 50_000
BATCH = 500


@dataclass(frozen=True)
class Batch:
    """Lines `start`..`start + count - 1`, as a JSON array of `[html, looks_like_error]`."""

    start: int
    count: int
    json: str
    skipped: int = 0

    @property
    def last(self) -> int:
        return self.start + self.count - 1


@dataclass(frozen=True)
class End:
    why: str


@dataclass
class _Feed:
    base: int = 0  # the index of lines[0]
    lines: list[str] = field(default_factory=list)  # each line's JSON, encoded once
    ended: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    viewers: int = 0
    task: asyncio.Task[None] | None = None

    @property
    def end(self) -> int:
        return self.base + len(self.lines)


class LiveLogs:
    """The followed jobs of this process (one per event loop)."""

    def __init__(
        self,
        bus: LogBus,
        ended: Callable[[int], Awaitable[str | None]],
        poll_seconds: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = 0.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.bus = bus
        self.ended = ended
        self.poll_seconds = poll_seconds
        self.min_interval = min_interval
        self.jitter = jitter
        self.clock = clock
        self._feeds: dict[int, _Feed] = {}

    def viewers(self, job_id: int) -> int:
        feed = self._feeds.get(job_id)
        return feed.viewers if feed else 0

    async def _poll(self, job_id: int, feed: _Feed) -> None:
        reader = self.bus.follower(job_id, 0)
        while True:
            lines, _closed = await reader.poll(limit=5000)
            if not lines:
                why = await self.ended(job_id)
                if why is not None:
                    # The bus may have been closed between the poll and the state check: drain.
                    while lines := (await reader.poll(limit=5000))[0]:
                        self._add(feed, lines)
                    feed.ended = why
                    self._notify(feed)
                    return
                await asyncio.sleep(self.poll_seconds)
                continue
            self._add(feed, lines)
            self._notify(feed)

    def _add(self, feed: _Feed, lines: list[str]) -> None:
        feed.lines.extend(json.dumps([str(to_html(line)), looks_like_error(line)]) for line in lines)
        if len(feed.lines) > KEEP_LINES:
            drop = len(feed.lines) - KEEP_LINES
            del feed.lines[:drop]
            feed.base += drop

    @staticmethod
    def _notify(feed: _Feed) -> None:
        feed.changed.set()
        feed.changed = asyncio.Event()

    async def follow(self, job_id: int, start: int, max_seconds: float) -> AsyncIterator[Batch | End]:
        """Batches of rendered lines from `start` as they come, then one End (the job's state,
        or `timeout` when `max_seconds` ran out)."""
        feed = self._feeds.get(job_id)
        if feed is None:
            feed = self._feeds[job_id] = _Feed()
            feed.task = asyncio.create_task(self._poll(job_id, feed), name=f"instep-live-log-{job_id}")
        feed.viewers += 1
        deadline = self.clock() + max_seconds
        index = start
        quiet_until = 0.0  # when a caught-up viewer may get its next event
        phase = self.min_interval * self.jitter()  # spreads viewers over the interval, once
        try:
            while True:
                skipped = 0
                if index < feed.base:
                    skipped, index = feed.base - index, feed.base
                if index < feed.end:
                    chunk = feed.lines[index - feed.base : index - feed.base + BATCH]
                    yield Batch(index, len(chunk), "[" + ",".join(chunk) + "]", skipped)
                    index += len(chunk)
                    if index >= feed.end:  # caught up (a backlog is sent at once)
                        quiet_until = self.clock() + self.min_interval + phase
                        phase = 0.0
                    continue
                if feed.ended is not None:
                    yield End(feed.ended)
                    return
                if feed.task is not None and feed.task.done() and feed.task.exception() is not None:
                    yield End("error")
                    return
                remaining = deadline - self.clock()
                if remaining <= 0:
                    yield End("timeout")
                    return
                quiet = quiet_until - self.clock()
                if quiet > 0:
                    # Nothing may be sent before then: sleep through the feed's changes (each
                    # would otherwise wake every viewer) and take what gathered meanwhile.
                    await asyncio.sleep(min(quiet, remaining))
                    continue
                try:
                    async with asyncio.timeout(remaining):
                        await feed.changed.wait()
                except TimeoutError:
                    pass
        finally:
            feed.viewers -= 1
            if feed.viewers == 0 and self._feeds.get(job_id) is feed:
                del self._feeds[job_id]
                if feed.task is not None:
                    feed.task.cancel()
