"""Live job logs: the worker appends lines, the API reads them from an offset while the job runs.

Embedded mode keeps them in files under INSTEP_HOME (worker and API share the disk); distributed
mode keeps them in Redis lists. Once a job ends its full log is an artifact.

Viewers follow a log asynchronously (`follow`): each bus hands out a `LogFollower` that keeps its
position (a byte offset in the file, a list index in Redis), so a poll reads only what is new and
no viewer holds a thread."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

# Live logs in Redis outlive the job by this long; after that the stored artifact is read.
REDIS_LOG_TTL_SECONDS = 24 * 3600


class LogBus(Protocol):
    def append(self, job_id: int, lines: list[str]) -> None: ...
    def read(self, job_id: int, start: int, limit: int = 1000) -> tuple[list[str], bool]:
        """Lines from index `start` on, and whether the job's log is closed."""
        ...

    def close(self, job_id: int) -> None: ...
    def reset(self, job_id: int) -> None: ...
    def follower(self, job_id: int, start: int = 0) -> LogFollower:
        """An asynchronous reader positioned at line `start`."""
        ...


class LogFollower(Protocol):
    async def poll(self, limit: int = 1000) -> tuple[list[str], bool]:
        """The complete lines after those already returned, and whether the log is closed
        (nothing more will come)."""
        ...


class FileLogBus:
    """One `<job>.log` file per job plus a `.done` marker; an index file keeps line offsets."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _log(self, job_id: int) -> Path:
        return self.root / f"job-{job_id}.log"

    def append(self, job_id: int, lines: list[str]) -> None:
        with self._log(job_id).open("a", encoding="utf-8", errors="replace") as f:
            f.writelines(line.replace("\n", " ") + "\n" for line in lines)

    def read(self, job_id: int, start: int, limit: int = 1000) -> tuple[list[str], bool]:
        done = (self.root / f"job-{job_id}.done").exists()
        path = self._log(job_id)
        if not path.exists():
            return [], done
        out: list[str] = []
        with path.open("r", encoding="utf-8", errors="replace") as f:
            for index, line in enumerate(f):
                if index < start:
                    continue
                if not line.endswith("\n"):
                    break  # a line still being written
                out.append(line[:-1])
                if len(out) >= limit:
                    return out, False
        return out, done

    def close(self, job_id: int) -> None:
        (self.root / f"job-{job_id}.done").touch()

    def reset(self, job_id: int) -> None:
        self._log(job_id).unlink(missing_ok=True)
        (self.root / f"job-{job_id}.done").unlink(missing_ok=True)

    def local_path(self, job_id: int) -> Path:
        return self._log(job_id)

    def follower(self, job_id: int, start: int = 0) -> FileLogFollower:
        return FileLogFollower(self._log(job_id), self.root / f"job-{job_id}.done", start)


class FileLogFollower:
    """Reads a log file from a byte offset: each poll seeks to where the last one stopped."""

    # A poll reads at most this much, so one busy log cannot hold the event loop for long.
    MAX_READ = 256 * 1024

    def __init__(self, path: Path, done: Path, start: int = 0) -> None:
        self.path = path
        self.done = done
        self.skip = max(0, start)  # lines still to pass over before the first one returned
        self.offset = 0

    async def poll(self, limit: int = 1000) -> tuple[list[str], bool]:
        # The marker is looked at before reading: a log closed after this read is seen next time.
        closed = self.done.exists()
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return [], closed
        out: list[str] = []
        try:
            while len(out) < limit:
                data = os.pread(fd, self.MAX_READ, self.offset)
                if b"\n" in data:
                    lines = data[: data.rfind(b"\n")].split(b"\n")
                elif len(data) == self.MAX_READ:
                    lines = [data]  # one line longer than a read: taken as it is, in pieces
                else:
                    break  # nothing new, or a line still being written
                for raw in lines:
                    if len(out) >= limit:
                        break
                    self.offset += len(raw) + (1 if raw is not data else 0)
                    if self.skip:
                        self.skip -= 1
                    else:
                        out.append(raw.decode("utf-8", "replace"))
                if len(data) < self.MAX_READ:
                    break
        finally:
            os.close(fd)
        return out, closed and len(out) < limit and not self._more()

    def _more(self) -> bool:
        try:
            return self.path.stat().st_size > self.offset
        except FileNotFoundError:
            return False


class RedisLogBus:
    def __init__(self, client: Any, prefix: str = "instep:log") -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, job_id: int) -> str:
        return f"{self.prefix}:{job_id}"

    def append(self, job_id: int, lines: list[str]) -> None:
        if lines:
            pipe = self.client.pipeline()
            pipe.rpush(self._key(job_id), *lines)
            pipe.expire(self._key(job_id), REDIS_LOG_TTL_SECONDS)
            pipe.execute()

    def read(self, job_id: int, start: int, limit: int = 1000) -> tuple[list[str], bool]:
        pipe = self.client.pipeline()
        pipe.lrange(self._key(job_id), start, start + limit - 1)
        pipe.exists(self._key(job_id) + ":done")
        raw, done = pipe.execute()
        lines = [r.decode("utf-8", "replace") if isinstance(r, bytes) else r for r in raw]
        return lines, bool(done) and len(lines) < limit

    def close(self, job_id: int) -> None:
        self.client.set(self._key(job_id) + ":done", "1", ex=REDIS_LOG_TTL_SECONDS)

    def reset(self, job_id: int) -> None:
        self.client.delete(self._key(job_id), self._key(job_id) + ":done")

    def follower(self, job_id: int, start: int = 0) -> RedisLogFollower:
        return RedisLogFollower(self._async_client(), self._key(job_id), start)

    def _async_client(self) -> Any:
        """An asyncio client to the same server, one per event loop (clients are bound to one)."""
        import redis.asyncio

        loop = asyncio.get_running_loop()
        cached = getattr(self, "_async", None)
        if cached is None or cached[0] is not loop:
            kw = self.client.connection_pool.connection_kwargs
            keep = ("host", "port", "db", "username", "password", "socket_timeout", "socket_connect_timeout")
            cached = (loop, redis.asyncio.Redis(**{k: kw[k] for k in keep if k in kw}))
            self._async = cached
        return cached[1]


class RedisLogFollower:
    """Reads a Redis list from an index with LRANGE: each poll asks only for what is new."""

    def __init__(self, client: Any, key: str, start: int = 0) -> None:
        self.client = client
        self.key = key
        self.index = max(0, start)

    async def poll(self, limit: int = 1000) -> tuple[list[str], bool]:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.exists(self.key + ":done")
            pipe.lrange(self.key, self.index, self.index + limit - 1)
            done, raw = await pipe.execute()
        self.index += len(raw)
        lines = [r.decode("utf-8", "replace") if isinstance(r, bytes) else r for r in raw]
        return lines, bool(done) and len(lines) < limit


@dataclass(frozen=True)
class LogLine:
    index: int
    text: str


@dataclass(frozen=True)
class LogEnd:
    """The log will not grow: `why` is the job's state (or `timeout` when the viewer's time ran out)."""

    why: str


async def follow(
    bus: LogBus,
    job_id: int,
    start: int,
    ended: Callable[[], Awaitable[str | None]],
    *,
    poll_seconds: float = 0.25,
    max_seconds: float = 3600,
    keepalive_seconds: float = 15,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[LogLine | LogEnd | None]:
    """Follow a job's log from line `start`: every line as it comes, `None` as a keep-alive when
    nothing came for a while, then one `LogEnd` once `ended()` names why the job will write no
    more (it is asked only when the bus has nothing new)."""
    reader = bus.follower(job_id, start)
    index = start
    deadline = clock() + max_seconds
    last_sent = clock()
    while clock() < deadline:
        lines, closed = await reader.poll()
        for text in lines:
            yield LogLine(index, text)
            index += 1
        if lines:
            last_sent = clock()
            continue
        why = await ended()
        if why is not None:
            # The bus may have been closed between the poll and the state check: drain once.
            while True:
                lines, closed = await reader.poll()
                for text in lines:
                    yield LogLine(index, text)
                    index += 1
                if not lines:
                    break
            yield LogEnd(why)
            return
        if clock() - last_sent > keepalive_seconds:
            last_sent = clock()
            yield None
        await asyncio.sleep(poll_seconds)
    yield LogEnd("timeout")
