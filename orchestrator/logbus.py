"""Live job logs: the worker appends lines, the API reads them from an offset while the job runs.

Embedded mode keeps them in files under INSTEP_HOME (worker and API share the disk); distributed
mode keeps them in Redis lists. Once a job ends its full log is an artifact."""

from __future__ import annotations

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
