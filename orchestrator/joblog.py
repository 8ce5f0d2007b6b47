"""A job attempt's log on the worker: every line to the local log file (uploaded when the attempt
ends) and, in batches, to the live log bus the API streams from."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestrator.logbus import LogBus

LOG_FLUSH_LINES = 200
LOG_FLUSH_SECONDS = 0.2
# Lines kept for the live view while its bus (Redis) refuses them.
MAX_PENDING_LINES = 10_000

log = logging.getLogger(__name__)


class JobLog:
    """Writes each line to the local log file and, batched, to the live log bus."""

    def __init__(self, logs: LogBus, job_id: int, path: Path) -> None:
        self.logs = logs
        self.job_id = job_id
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8", errors="replace")
        self._pending: list[str] = []
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self.lines = 0
        # A quiet step (`echo started; sleep 600`) must still show its last lines live: a timer
        # flushes what waits, not only the next line.
        self._closed = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name=f"joblog-{job_id}", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._closed.wait(LOG_FLUSH_SECONDS):
            with self._lock:
                if self._pending and time.monotonic() - self._last_flush >= LOG_FLUSH_SECONDS:
                    self._flush()

    def line(self, text: str) -> None:
        with self._lock:
            self._file.write(text + "\n")
            self._pending.append(text)
            self.lines += 1
            if (
                len(self._pending) >= LOG_FLUSH_LINES
                or time.monotonic() - self._last_flush >= LOG_FLUSH_SECONDS
            ):
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._file.flush()
            try:
                self.logs.append(self.job_id, self._pending)
            except Exception:  # the live view is best effort: the file above is the log that is kept
                log.warning(
                    "job %s: live log append failed; retried with the next lines", self.job_id, exc_info=True
                )
                if len(self._pending) > MAX_PENDING_LINES:  # the bus stays down: the live view skips
                    self._pending = self._pending[-LOG_FLUSH_LINES:]
            else:
                self._pending = []
        self._last_flush = time.monotonic()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._flush()
            self._file.close()
