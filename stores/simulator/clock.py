"""The simulator's scenario clock: wall time plus an offset the tests move forward."""

from __future__ import annotations

import time
from collections.abc import Callable


class SimClock:
    """Edits expire, reviews progress and phased releases count days by this clock. Credentials
    (JWT `iat`/`exp`, access tokens) are checked against the wall clock, as the real stores do."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self.offset = 0.0

    def now(self) -> float:
        return self._wall() + self.offset

    def wall(self) -> float:
        return self._wall()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the simulator's clock only moves forward")
        self.offset += seconds
