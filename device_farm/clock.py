"""Time as an injectable dependency, and polling with a deadline (never a bare sleep-and-hope)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def time(self) -> float:
        """Wall-clock seconds since the epoch (for timestamps shown to users)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def time(self) -> float:
        return time.time()


class PollTimeout(Exception):
    def __init__(self, waited_s: float, last: object) -> None:
        super().__init__(f"gave up after {waited_s:.0f} s")
        self.waited_s = waited_s
        self.last = last


def poll(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float,
    clock: Clock,
) -> T:
    """Call `probe` until it returns something other than None, or raise PollTimeout at the deadline."""
    started = clock.monotonic()
    deadline = started + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        now = clock.monotonic()
        if now >= deadline:
            raise PollTimeout(now - started, value)
        clock.sleep(min(interval, max(deadline - now, 0.0)))
