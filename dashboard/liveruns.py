"""Live run states for many viewers at the cost of one: one task per process reads the states of
every run someone watches in one query per tick and wakes the viewers, each of which sends only
the runs it watches that changed. No thread is held per viewer, and viewers add no query."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)
State = dict[str, Any]


class RunWatch:
    def __init__(
        self,
        read: Callable[[list[int]], Awaitable[dict[int, State]]],
        poll_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.poll_seconds = poll_seconds
        self.clock = clock
        self._watchers: dict[int, int] = {}
        self._states: dict[int, State] = {}
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reads = 0

    def watched(self) -> list[int]:
        return sorted(self._watchers)

    async def _poll(self) -> None:
        while self._watchers:
            self._wake.clear()
            try:
                states = await self.read(self.watched())
            except Exception:  # a database hiccup must not end every viewer's stream; next tick retries
                log.exception("reading the watched runs' states failed")
            else:
                self.reads += 1
                self._states.update(states)
                self._changed.set()
                self._changed = asyncio.Event()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
        self._task = None

    async def watch(self, run_ids: list[int], max_seconds: float) -> AsyncIterator[State]:
        """Each watched run's state now, then again whenever it changes, until `max_seconds`."""
        for run_id in run_ids:
            self._watchers[run_id] = self._watchers.get(run_id, 0) + 1
        if any(run_id not in self._states for run_id in run_ids):
            self._wake.set()  # read the newcomers now, not at the next tick
        if self._task is None:
            self._task = asyncio.create_task(self._poll(), name="instep-live-runs")
        seen: dict[int, State] = {}
        deadline = self.clock() + max_seconds
        try:
            while True:
                for run_id in run_ids:
                    state = self._states.get(run_id)
                    if state is not None and seen.get(run_id) != state:
                        seen[run_id] = state
                        yield state
                remaining = deadline - self.clock()
                if remaining <= 0:
                    return
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=remaining)
                except TimeoutError:
                    pass
        finally:
            for run_id in run_ids:
                left = self._watchers.get(run_id, 0) - 1
                if left > 0:
                    self._watchers[run_id] = left
                else:
                    self._watchers.pop(run_id, None)
                    self._states.pop(run_id, None)
