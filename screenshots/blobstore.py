"""Where baselines and renditions are kept: a minimal key -> bytes protocol. The orchestrator's
artifact store (local or S3) implements it; LocalBlobStore is the directory implementation."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol


class BlobNotFound(KeyError):
    """No blob is stored under the key."""


class InvalidBlobKey(ValueError):
    """A blob key would escape the store or is malformed."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class LocalBlobStore:
    """Blobs as files under a root folder; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"no blob {key!r} in {self.root}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
            raise InvalidBlobKey(
                f"blob key {key!r} must be '/'-separated names without '.', '..' or empty parts"
            )
        return self.root.joinpath(*parts)
