"""Recorded test durations per project, behind a tiny protocol so the server can move them into
its database without touching the runner."""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol


class DurationStore(Protocol):
    def load(self, project: str) -> dict[str, float]: ...

    def record(self, project: str, durations: Mapping[str, float]) -> None:
        """Merge newly measured durations (seconds by test id) into the project's record."""
        ...


class DurationsFileError(Exception):
    """The durations file exists but cannot be read; the message names the file."""


class JsonDurationStore:
    """One JSON file per project under `directory`: {"version": 1, "tests": {test_id: seconds}}."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def path(self, project: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", project) or "_"
        return self.directory / f"{safe}.json"

    def load(self, project: str) -> dict[str, float]:
        path = self.path(project)
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text())
            tests = data["tests"]
            return {str(k): float(v) for k, v in tests.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DurationsFileError(
                f"{path}: not a durations file ({exc}); delete it to start recording again"
            ) from exc

    def record(self, project: str, durations: Mapping[str, float]) -> None:
        with self._lock:
            merged = self.load(project)
            merged.update({k: round(float(v), 3) for k, v in durations.items()})
            path = self.path(project)
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write-then-rename so a concurrent reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".durations-", suffix=".json")
            with os.fdopen(fd, "w") as f:
                json.dump({"version": 1, "tests": dict(sorted(merged.items()))}, f, indent=1)
            os.replace(tmp, path)


class InMemoryDurationStore:
    def __init__(self, initial: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self._data = {p: dict(d) for p, d in (initial or {}).items()}

    def load(self, project: str) -> dict[str, float]:
        return dict(self._data.get(project, {}))

    def record(self, project: str, durations: Mapping[str, float]) -> None:
        self._data.setdefault(project, {}).update(durations)
